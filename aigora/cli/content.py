"""`aigora publish | attest | trust | anchor | content show`: provenance from the command line.

Signing happens here, with the account's key; records go straight into the node's store (safe beside
a running node). Anchoring needs the chain: with a node running it asks the node to do it.
"""

import mimetypes
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.tree import Tree
from sqlalchemy import select

from aigora.app import AnchoredNow, Content, RecordedItem, StoreContext, open_store
from aigora.cli._local import UseCase, run_case
from aigora.cli.options import DataDirOption, data_dir_of, passphrase
from aigora.content import VERDICTS, content_message, sign
from aigora.content.bulk import JSONL_SUFFIXES, ImportItem, collect
from aigora.core.cid import cid_of
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer
from aigora.store import ContentItem, session_scope

console = Console()
T = TypeVar("T")
content_app = typer.Typer(help="Look at published content.", no_args_is_help=True)


def anchor_case() -> UseCase[AnchoredNow]:
    return UseCase(lambda app: app.content.anchor(), "POST", "/anchor", AnchoredNow)


BATCH = 200
"""Documents stored per transaction in a bulk import: a crash loses at most one batch's work,
which the next run redoes."""


@dataclass
class BulkReport:
    total: int
    already: int
    published: int = 0


AccountOption = Annotated[
    str | None, typer.Option(help="Account that signs (default: the node's operator key).")
]


def publish(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files, directories (recursive) and JSON Lines files "
            '(`{"text"|"path", "license", "url", "parents"}` per line) to publish.'
        ),
    ],
    license: Annotated[str, typer.Option(help="License of the content (SPDX id).")] = "CC-BY-4.0",
    media_type: Annotated[
        str | None, typer.Option(help="Media type (default: guessed from the file name).")
    ] = None,
    parent: Annotated[
        list[str] | None, typer.Option(help="CID this work derives from (repeatable).")
    ] = None,
    url: Annotated[str, typer.Option(help="Where the content also lives, if elsewhere.")] = "",
    account: AccountOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Sign a manifest for each document, store its body under its CID and queue it for
    anchoring. Many documents are signed with one unlock, shown with a progress bar, and stored
    a batch at a time; running it again after an interruption publishes only what is missing."""
    if len(paths) > 1 or paths[0].is_dir() or paths[0].suffix.lower() in JSONL_SUFFIXES:
        if media_type is not None or parent or url:
            raise AigoraError(
                "--media-type, --parent and --url name one document: in a bulk import give "
                "them per line of a JSON Lines file"
            )
        publish_many(paths, license=license, account=account, data_dir=data_dir)
        return
    file = paths[0]
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise AigoraError(f"cannot read {file}: {exc.strerror}") from None
    guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    done = _as_account(
        data_dir,
        account,
        lambda content, signer: content.publish_as(
            signer,
            body,
            media_type=media_type or guessed,
            license=license,
            url=url,
            parents=parent or [],
        ),
    )
    if done.duplicate:
        console.print(f"already published: {done.id} (first published by {done.author})")
    else:
        console.print(f"published {done.id}  (anchored with the next batch)")
    if done.provenance:
        console.print(_provenance_tree(done.id, done.provenance))


def publish_many(
    paths: list[Path], *, license: str, account: str | None, data_dir: Path | None
) -> BulkReport:
    """The bulk import: read and check every input first, skip what the store already holds,
    sign the rest with one unlocked key and store them `BATCH` at a time."""
    items = collect(paths, license)
    store: StoreContext = open_store(data_dir_of(data_dir))
    try:
        domain = store.domain  # before the bar: a node that never started says so at once
        signer = store.keystore.unlock(account or store.config.node.operator_key, passphrase())
        content = Content(store)
        todo, held = _missing(store, items)
        report = BulkReport(total=len(items), already=held)
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} docs/s"),
            TimeRemainingColumn(),
        )
        started = time.perf_counter()
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("publishing", total=len(todo), rate="-")
            for start in range(0, len(todo), BATCH):
                chunk = todo[start : start + BATCH]
                signed = [
                    sign(
                        "content",
                        signer,
                        domain,
                        content_message(
                            signer.address,
                            item.body,
                            item.media_type,
                            item.license,
                            int(time.time()),
                            item.url,
                            list(item.parents),
                        ),
                    )
                    for item in chunk
                ]
                done = content.publish_batch(
                    list(zip(signed, (i.body for i in chunk), strict=True))
                )
                report.published += sum(1 for d in done if not d.duplicate)
                report.already += sum(1 for d in done if d.duplicate)
                elapsed = max(time.perf_counter() - started, 1e-9)
                progress.update(
                    task, advance=len(chunk), rate=f"{(start + len(chunk)) / elapsed:.0f}"
                )
    finally:
        store.close()
    console.print(
        f"published {report.published} of {report.total} documents "
        f"({report.already} already here); anchored with the next batch"
    )
    return report


def _missing(store: StoreContext, items: list[ImportItem]) -> tuple[list[ImportItem], int]:
    """The items whose body the store does not hold yet (each CID once), and how many it does."""
    by_cid: dict[str, ImportItem] = {}
    for item in items:
        by_cid.setdefault(cid_of(item.body), item)
    held: set[str] = set()
    cids = list(by_cid)
    with session_scope(store.db) as session:
        for start in range(0, len(cids), 500):
            chunk = cids[start : start + 500]
            held.update(session.scalars(select(ContentItem.cid).where(ContentItem.cid.in_(chunk))))
    todo = [item for cid, item in by_cid.items() if cid not in held]
    return todo, len(items) - len(todo)


def attest(
    cid: Annotated[str, typer.Argument(help="The content's CID.")],
    verdict: Annotated[str, typer.Option(help=f"One of: {', '.join(VERDICTS)}.")],
    reason: Annotated[str, typer.Option(help="Why, in a sentence.")] = "",
    account: AccountOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Sign an attestation about CID; a newer one by the same account supersedes the older."""
    done: RecordedItem = _as_account(
        data_dir, account, lambda content, signer: content.attest_as(signer, cid, verdict, reason)
    )
    console.print(f"attested {cid}: {verdict}  ({done.digest})")
    if done.superseded:
        console.print(f"supersedes your earlier attestation {done.superseded}")


def trust(
    address: Annotated[str, typer.Argument(help="The account you vouch for.")],
    account: AccountOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Vouch for ADDRESS as an attester (an edge of the seeded-trust graph)."""
    done = _as_account(data_dir, account, lambda content, signer: content.vouch_as(signer, address))
    console.print(f"vouched for {address}  ({done.digest})")


def anchor(data_dir: DataDirOption = None) -> None:
    """Anchor pending content, attestations and receipts now (the node does it periodically)."""
    directory = data_dir_of(data_dir)
    done = run_case(directory, anchor_case())
    if not done.batches:
        console.print("nothing pending")
    for batch in done.batches:
        console.print(
            f"anchored {batch.item_count} {batch.kind} as batch {batch.batch_id} root {batch.root}"
        )


@content_app.command("show")
def show(
    cid: Annotated[str, typer.Argument(help="The content's CID.")],
    data_dir: DataDirOption = None,
) -> None:
    """Manifest, provenance chain, attestations and score of CID."""
    store = open_store(data_dir_of(data_dir))
    try:
        view = Content(store).show(cid)
    finally:
        store.close()
    manifest, score = view.manifest, view.score
    table = Table(show_header=False, box=None)
    table.add_row("cid", view.cid)
    table.add_row("author", manifest["author"])
    table.add_row("media type", manifest["mediaType"])
    table.add_row("license", manifest["license"])
    table.add_row("created", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(manifest["createdAt"])))
    table.add_row("anchored", "yes" if view.anchor else "pending")
    table.add_row(
        "score",
        "not scored yet"
        if score is None
        else f"{score['status']} {score['score']:+.3f} "
        f"[{score['ci_low']:+.3f}, {score['ci_high']:+.3f}] from {score['n_ratings']}",
    )
    console.print(table)
    if view.provenance:
        console.print(_provenance_tree(cid, view.provenance))
    if view.attestations:
        listing = Table("attester", "verdict", "reason")
        for a in view.attestations:
            listing.add_row(a["attester"], a["verdict"], a["reason"])
        console.print(listing)


def _provenance_tree(cid: str, chain: list[dict]) -> Tree:
    """The manifest chain as a tree: each work under the work that derives from it."""
    parents = {cid: [e["cid"] for e in chain if e["depth"] == 1]}
    parents.update({e["cid"]: e.get("parents", []) for e in chain})
    info = {e["cid"]: e for e in chain}

    def grow(node: Tree, current: str, seen: frozenset[str]) -> None:
        for parent in parents.get(current, []):
            if parent in seen:
                continue
            entry = info.get(parent, {"known": False})
            label = f"{parent}  by {entry['author']}" if entry["known"] else f"{parent} (elsewhere)"
            grow(node.add(label), parent, seen | {parent})

    root = Tree(f"[bold]{cid}[/bold]")
    grow(root, cid, frozenset({cid}))
    return root


def _as_account(
    data_dir: Path | None, account: str | None, use: Callable[[Content, Signer], T]
) -> T:
    """Unlock the account (default: the operator key) and run one content use case with it on
    the node's store."""
    store: StoreContext = open_store(data_dir_of(data_dir))
    try:
        signer = store.keystore.unlock(account or store.config.node.operator_key, passphrase())
        return use(Content(store), signer)
    finally:
        store.close()
