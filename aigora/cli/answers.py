"""`aigora ask`, `aigora verify`, `aigora snapshot` and `aigora receipt`.

`aigora verify` is an interface outside checks call; its exit status is stable:
0 VALID, 1 INVALID, 2 unusable input or verification impossible (not a receipt, unreadable
file, chain or public data unreachable).
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aigora.chain import Chain
from aigora.cli._local import ask_running_node, open_store, read_receipt, with_node
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.core.errors import AigoraError, DataDirInUse
from aigora.index._service import snapshot_dir
from aigora.node.answers import Answers, verify_on_chain
from aigora.node.context import recorded_addresses
from aigora.node.routers.answers import answer_json
from aigora.verify import MAX_K, DbNonceLedger, ReceiptDocument, stored_receipt

console = Console()
_err = Console(stderr=True)

EXIT_VALID, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def ask(
    query: Annotated[str, typer.Argument(help="The question.")],
    k: Annotated[int, typer.Option("--k", "-k", help=f"How many passages (1-{MAX_K}).")] = 5,
    receipt_out: Annotated[
        Path | None, typer.Option("--receipt-out", help="Write the signed receipt here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Answer QUERY with the exact top-k passages of the current snapshot and a signed receipt."""
    directory = data_dir_of(data_dir)
    if not 1 <= k <= MAX_K:
        raise AigoraError(f"--k must be between 1 and {MAX_K}, got {k}")

    def local(answers: Answers) -> dict[str, Any]:
        return answer_json(answers.context, answers.ask(query, k))

    answer = with_node(
        directory,
        local,
        lambda: ask_running_node(directory, "POST", "/ask", json={"query": query, "k": k}),
    )
    if receipt_out is not None:
        _write(receipt_out, json.dumps(answer["receipt"], indent=2) + "\n")
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        return
    table = Table(title=f"top {len(answer['results'])} for: {query}")
    for column in ("#", "score", "source", "excerpt"):
        table.add_column(column, overflow="fold")
    for r in answer["results"]:
        source = f"{r['cid']}\nby {r['author']}"
        excerpt = " ".join(r["excerpt"].split())[:160]
        table.add_row(str(r["rank"] + 1), str(r["score"]), source, excerpt)
    console.print(table)
    console.print(
        f"receipt {answer['digest']}" + (f" written to {receipt_out}" if receipt_out else "")
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Re-execute a receipt from public data. Exit 0 VALID, 1 INVALID, 2 unusable input."""
    try:
        document = read_receipt(receipt_file)
        if rpc is not None:
            verdict = _verify_over_rpc(document, rpc, registry, source, data_dir)
        else:
            verdict = _verify_with_data_dir(document, data_dir_of(data_dir), source)
    except AigoraError as exc:
        _err.print(f"[red]cannot verify:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_UNUSABLE) from None
    if as_json:
        typer.echo(json.dumps(verdict, indent=2))
    else:
        word = verdict["verdict"]
        colour = "green" if word == "VALID" else "red"
        console.print(f"[{colour}]{word}[/{colour}] receipt {verdict['digest']}", highlight=False)
        if word != "VALID":
            console.print(f"{verdict['check']}: {verdict['reason']}", highlight=False)
        for note in verdict["notes"]:
            console.print(f"note: {note}", highlight=False)
    raise typer.Exit(EXIT_VALID if verdict["verdict"] == "VALID" else EXIT_INVALID)


def _verify_with_data_dir(
    document: ReceiptDocument, directory: Path, source: str | None
) -> dict[str, Any]:
    store = open_store(directory)
    try:
        chain = Chain.open(store.config.chain.url, store.directory)
    except DataDirInUse:
        store.close()
        path = "/verify" + (f"?source={source}" if source else "")
        return ask_running_node(directory, "POST", path, content=document.dumps().encode())
    try:
        addresses = recorded_addresses(store.db, chain.chain_id)
        if "Registry" not in addresses:
            raise AigoraError("no registry on this chain yet: run `aigora up` once")
        contract = chain.contract("Registry", addresses["Registry"])
        verdict = verify_on_chain(
            document,
            chain,
            contract,
            DbNonceLedger(store.db),
            snapshot_dirs=[snapshot_dir(directory)],
            source_url=source,
        )
        return verdict.to_json()
    finally:
        chain.close()
        store.close()


def _verify_over_rpc(
    document: ReceiptDocument,
    rpc: str,
    registry: str | None,
    source: str | None,
    data_dir: Path | None,
) -> dict[str, Any]:
    address = registry or document.domain.verifying_contract
    with Chain.connect(rpc) as chain:
        if not chain.has_code(address):
            raise AigoraError(f"no contract at {address} on {rpc}")
        contract = chain.contract("Registry", address)
        directory = data_dir_of(data_dir)
        ledger = None
        if directory.is_dir():
            store = open_store(directory)
            ledger = DbNonceLedger(store.db)
        verdict = verify_on_chain(document, chain, contract, ledger, source_url=source)
        return verdict.to_json()


def snapshot(data_dir: DataDirOption = None) -> None:
    """Snapshot newly admitted content now (only new content is embedded) and register it."""
    directory = data_dir_of(data_dir)

    def local(answers: Answers) -> dict[str, Any]:
        return dict(answers.refresh().__dict__)

    state = with_node(directory, local, lambda: ask_running_node(directory, "POST", "/snapshots"))
    what = "new snapshot" if state["changed"] else "unchanged"
    console.print(
        f"{what} {state['root']}: {state['item_count']} passages "
        f"({state['embedded']} embedded, {state['reused']} reused, {state['removed']} removed)"
    )
    for cid, reason in state["skipped"].items():
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
