"""`aigora ask`, `aigora verify`, `aigora snapshot` and `aigora receipt`.

`aigora verify` is an interface outside checks call; its exit status is stable:
0 VALID, 1 INVALID, 2 unusable input or verification impossible (not a receipt, unreadable
file, chain or public data unreachable).
"""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import Answer, VerdictReport, open_store, parse_model_root, verify_over_rpc
from aigora.cli._local import UseCase, read_receipt, run_case
from aigora.cli.asks import paid_ask
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.core.errors import AigoraError
from aigora.index import SnapshotState
from aigora.network import load_network
from aigora.verify import MAX_K, ReceiptDocument, stored_receipt

console = Console()
_err = Console(stderr=True)

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def ask_case(query: str, k: int) -> UseCase[Answer]:
    return UseCase(
        lambda app: app.answers.answer(query, k, by_operator=True),  # the key is unlocked here
        "POST",
        "/ask",
        Answer,
        json={"query": query, "k": k},
    )


def verify_case(
    document: ReceiptDocument, source: str | None, model: str | None = None
) -> UseCase[VerdictReport]:
    return UseCase(
        lambda app: VerdictReport.of(app.answers.verify(document, source, model)),
        "POST",
        "/verify",
        VerdictReport,
        content=document.dumps().encode(),
        params={"source": source, "model": model},
    )


def snapshot_case() -> UseCase[SnapshotState]:
    return UseCase(lambda app: app.snapshots.refresh(), "POST", "/snapshots", SnapshotState)


def ask(
    query: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int, typer.Option("--k", "-k", help=f"How many passages (1-{MAX_K}).")] = 5,
    receipt_out: Annotated[
        Path | None, typer.Option("--receipt-out", help="Write the signed receipt here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    pay: Annotated[
        bool, typer.Option("--pay", help="Pay with a voucher on --account's channel.")
    ] = False,
    account: Annotated[
        str | None, typer.Option("--account", help="With --pay: the asker's account.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Answer QUERY with the exact top-k passages of the current snapshot and a signed receipt:
    for free as the operator, or (--pay) against a voucher ACCOUNT signs."""
    directory = data_dir_of(data_dir)
    if not 1 <= k <= MAX_K:
        raise AigoraError(f"--k must be between 1 and {MAX_K}, got {k}")
    if pay != (account is not None):
        raise AigoraError("--pay and --account go together: pay with that account's voucher")
    if account is not None:
        answer = paid_ask(directory, query, k, account)
    else:
        answer = run_case(directory, ask_case(query, k))
    if receipt_out is not None:
        _write(receipt_out, json.dumps(answer.receipt, indent=2) + "\n")
    if as_json:
        typer.echo(answer.model_dump_json(indent=2))
        return
    table = Table(title=f"top {len(answer.results)} for: {query}")
    for column in ("#", "score", "source", "excerpt"):
        table.add_column(column, overflow="fold")
    for r in answer.results:
        excerpt = " ".join(r.excerpt.split())[:160]
        table.add_row(str(r.rank + 1), str(r.score), f"{r.cid}#{r.passage}\nby {r.author}", excerpt)
    console.print(table)
    console.print(
        f"receipt {answer.digest}" + (f" written to {receipt_out}" if receipt_out else "")
    )


def verify(
    receipt_file: Annotated[Path, typer.Argument(help="A receipt document (JSON).")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="A node URL to fetch the model and snapshot from."),
    ] = None,
    rpc: Annotated[
        str | None,
        typer.Option("--rpc", help="Check against this JSON-RPC node instead of the data dir's."),
    ] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="With --rpc: the registry to trust (default: the receipt's).",
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Accept answers under this model root only (default: [verify] model, else any).",
        ),
    ] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            "--network",
            help="Check against this network's registry (its file); --rpc defaults to its RPC.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Re-execute a receipt from public data. Exit 0 VALID, 1 INVALID, 2 unusable input.

    With --rpc (and --network), no node of one's own is needed: the chain says which operator
    registered what, and the operator's registered endpoint (or --source) serves the model and
    snapshot, each checked against its root. On the embedded chain only the node itself can
    check: nobody else can read that chain."""
    try:
        document = read_receipt(receipt_file)
        parse_model_root(model)
        directory = data_dir_of(data_dir)
        if network is not None:
            joined = load_network(network)
            if registry is not None and registry.lower() != joined.registry.lower():
                raise AigoraError(f"--registry {registry} is not the network's {joined.registry}")
            registry = joined.registry
            rpc = rpc or joined.rpc
            if rpc is None:
                raise AigoraError("the network file names no JSON-RPC URL: pass --rpc")
        if rpc is not None:
            store = open_store(directory) if directory.is_dir() else None
            try:
                verdict = verify_over_rpc(document, rpc, registry, source, store, model)
            finally:
                if store is not None:
                    store.close()
        else:
            verdict = run_case(directory, verify_case(document, source, model), key=False)
    except AigoraError as exc:
        _err.print(f"[red]cannot verify:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    if as_json:
        typer.echo(verdict.model_dump_json(indent=2))
    else:
        colour = "green" if verdict.valid else "red"
        console.print(
            f"[{colour}]{verdict.verdict}[/{colour}] receipt {verdict.digest}", highlight=False
        )
        if not verdict.valid:
            console.print(f"{verdict.check}: {verdict.reason}", highlight=False)
        for note in verdict.notes:
            console.print(f"note: {note}", highlight=False)
    raise typer.Exit(EXIT_VALID if verdict.valid else EXIT_INVALID)


def snapshot(data_dir: DataDirOption = None) -> None:
    """Snapshot newly admitted content now (only new content is embedded) and register it."""
    directory = data_dir_of(data_dir)
    state = run_case(directory, snapshot_case())
    what = "new snapshot" if state.changed else "unchanged"
    console.print(
        f"{what} {state.root}: {state.item_count} passages "
        f"({state.embedded} embedded, {state.reused} reused, {state.removed} removed)"
    )
    for cid, reason in state.skipped.items():
        console.print(f"skipped {cid}: {reason}", highlight=False)


def receipt(
    digest: Annotated[str, typer.Argument(help="The receipt's digest (0x...).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write it here.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """A receipt this node issued, with its anchor proof once anchored (to pass to verify)."""
    store = open_store(data_dir_of(data_dir))
    try:
        text = stored_receipt(store.db, digest).dumps()
    finally:
        store.close()
    if out is None:
        typer.echo(text, nl=False)
    else:
        _write(out, text)
        console.print(f"wrote {out}")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise AigoraError(f"cannot write {path}: {exc.strerror}") from None
