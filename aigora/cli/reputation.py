"""`aigora reputation compute | recompute`: publish reputation, and reproduce it to the bit."""

import dataclasses
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import Reputation, open_store
from aigora.cli.options import DataDirOption, data_dir_of

app = typer.Typer(help="Seeded trust and bridging scores over attestations.", no_args_is_help=True)
console = Console()


@app.command("compute")
def compute(
    seed: Annotated[
        list[str] | None,
        typer.Option(help="Pre-trusted attester (repeatable; default: config, else the operator)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Compute trust and scores over every current attestation and vouch, and publish them (in
    a network: over what is anchored on it, with the network's seeds)."""
    store = open_store(data_dir_of(data_dir))
    try:
        summary = Reputation(store).compute(seed)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(summary), indent=2))
        return
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
        outcome = Reputation(store).recompute(run)
    finally:
        store.close()
    console.print(f"run {outcome.run_id} reproduced to the bit: digest {outcome.recomputed_digest}")
