"""`aigora reputation compute | recompute`: publish reputation, and reproduce it to the bit."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.cli._local import open_store
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.content.scoring import NotReproduced, publish_run, reproduce
from aigora.node.context import keystore_for
from aigora.reputation import ReputationParams

app = typer.Typer(help="Seeded trust and bridging scores over attestations.", no_args_is_help=True)
console = Console()


@app.command("compute")
def compute(
    seed: Annotated[
        list[str] | None,
        typer.Option(help="Pre-trusted attester (repeatable; default: config, else the operator)."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Compute trust and scores over every current attestation and vouch, and publish them."""
    store = open_store(data_dir_of(data_dir))
    try:
        seeds = seed or store.config.reputation.seeds or _operator(store)
        params = ReputationParams(seeds=tuple(seeds), damping=store.config.reputation.damping)
        summary = publish_run(store.db, store.blobs, store.domain, params)
    finally:
        store.close()
    table = Table(show_header=False, box=None)
    table.add_row("run", str(summary.run_id))
    table.add_row("inputs", f"{summary.ratings} attestations, {summary.trust_edges} vouches")
    table.add_row("attestation root", summary.attestation_root)
    table.add_row("published", f"{summary.result_cid} (digest {summary.result_digest})")
    for status, count in sorted(summary.statuses.items()):
        table.add_row(status, str(count))
    console.print(table)


@app.command("recompute")
def recompute(
    run: Annotated[int | None, typer.Option(help="Run id (default: the newest).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Recompute a published run from its published inputs; exit 1 unless bit-identical."""
    store = open_store(data_dir_of(data_dir))
    try:
        outcome = reproduce(store.db, store.blobs, store.domain, run)
    finally:
        store.close()
    if not outcome.reproduced:
        details = "; ".join(outcome.differences[:3]) or "digests differ"
        raise NotReproduced(
            f"run {outcome.run_id} NOT reproduced: published {outcome.published_digest}, "
            f"recomputed {outcome.recomputed_digest}: {details}"
        )
    console.print(f"run {outcome.run_id} reproduced to the bit: digest {outcome.recomputed_digest}")


def _operator(store) -> list[str]:
    name = store.config.node.operator_key
    return [k.address for k in keystore_for(store.directory).list() if k.name == name]
