"""`aigora publish | attest | trust | anchor | content show`: provenance from the command line.

Signing happens here, with the account's key; records go straight into the node's store (safe beside
a running node). Anchoring needs the chain: with a node running it asks the node to do it.
"""

import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree
from sqlalchemy.orm import Session

from aigora.chain import Chain
from aigora.chain.deploy import attach_foundation
from aigora.cli._local import LocalStore, ask_running_node, open_store
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.content import service
from aigora.content.anchoring import anchor_all
from aigora.content.service import Recorded
from aigora.content.signed import VERDICTS, Signed, content_message, sign
from aigora.core.errors import AigoraError, DataDirInUse
from aigora.core.keystore import Signer
from aigora.node.context import recorded_addresses
from aigora.store.db import session_scope

console = Console()
T = TypeVar("T")
content_app = typer.Typer(help="Look at published content.", no_args_is_help=True)

AccountOption = Annotated[
    str | None, typer.Option(help="Account that signs (default: the node's operator key).")
]


def publish(
    file: Annotated[Path, typer.Argument(help="The file to publish.")],
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
    """Sign a manifest for FILE, store the body under its CID and queue it for anchoring."""
    try:
        body = file.read_bytes()
    except OSError as exc:
        raise AigoraError(f"cannot read {file}: {exc.strerror}") from None
    guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"

    def manifest(signer: Signer) -> dict[str, Any]:
        return content_message(
            signer.address, body, media_type or guessed, license, _now(), url, parent or []
        )

    def record(session: Session, store: LocalStore, signed: Signed) -> tuple[Any, ...]:
        done = service.publish(session, store.blobs, store.domain, signed, body, _now())
        chain = service.provenance(session, done.id)
        return done, chain, service.get_content(session, done.id).author

    _, (done, chain, author) = _sign_and_record(data_dir, account, "content", manifest, record)
    if done.duplicate:
        console.print(f"already published: {done.id} (first published by {author})")
    else:
        console.print(f"published {done.id}  (anchored with the next batch)")
    if chain:
        console.print(_provenance_tree(done.id, chain))


def attest(
    cid: Annotated[str, typer.Argument(help="The content's CID.")],
    verdict: Annotated[str, typer.Option(help=f"One of: {', '.join(VERDICTS)}.")],
    reason: Annotated[str, typer.Option(help="Why, in a sentence.")] = "",
    account: AccountOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Sign an attestation about CID; a newer one by the same account supersedes the older."""

    def message(signer: Signer) -> dict[str, Any]:
        return {
            "attester": signer.address,
            "cid": cid,
            "verdict": verdict,
            "reason": reason,
            "createdAt": _now(),
        }

    def record(session: Session, store: LocalStore, signed: Signed) -> Recorded:
        return service.attest(session, store.domain, signed, _now())

    _, done = _sign_and_record(data_dir, account, "attestation", message, record)
    console.print(f"attested {cid}: {verdict}  ({done.digest})")
    if done.superseded:
        console.print(f"supersedes your earlier attestation {done.superseded}")


def trust(
    address: Annotated[str, typer.Argument(help="The account you vouch for.")],
    account: AccountOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Vouch for ADDRESS as an attester (an edge of the seeded-trust graph)."""

    def message(signer: Signer) -> dict[str, Any]:
        return {"truster": signer.address, "trustee": address, "createdAt": _now()}

    def record(session: Session, store: LocalStore, signed: Signed) -> Recorded:
        return service.vouch(session, store.domain, signed, _now())

    signer, _ = _sign_and_record(data_dir, account, "trust", message, record)
    console.print(f"{signer.address} vouches for {address}")


def anchor(data_dir: DataDirOption = None) -> None:
    """Anchor pending content, attestations and receipts now (the node does it periodically)."""
    store = open_store(data_dir_of(data_dir))
    try:
        batches = _anchor_locally(store)
    except DataDirInUse:
        batches = ask_running_node(store.directory, "POST", "/anchor")["batches"]
    finally:
        store.close()
    if not batches:
        console.print("nothing pending")
    for batch in batches:
        console.print(
            f"anchored {batch['item_count']} {batch['kind']} as batch {batch['batch_id']} "
            f"root {batch['root']}"
        )


@content_app.command("show")
def show(
    cid: Annotated[str, typer.Argument(help="The content's CID.")],
    data_dir: DataDirOption = None,
) -> None:
    """Manifest, provenance chain, attestations and score of CID."""
    store = open_store(data_dir_of(data_dir))
    try:
        with session_scope(store.db) as session:
            item = service.get_content(session, cid)
            table = Table(show_header=False, box=None)
            table.add_row("cid", item.cid)
            table.add_row("author", item.author)
            table.add_row("media type", item.media_type)
            table.add_row("license", item.license)
            table.add_row(
                "created", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(item.created_at))
            )
            table.add_row("anchored", "yes" if item.anchor_id else "pending")
            score = service.latest_score(session, cid)
            table.add_row(
                "score",
                "not scored yet"
                if score is None
                else f"{score['status']} {score['score']:+.3f} "
                f"[{score['ci_low']:+.3f}, {score['ci_high']:+.3f}] from {score['n_ratings']}",
            )
            console.print(table)
            chain = service.provenance(session, cid)
            if chain:
                console.print(_provenance_tree(cid, chain))
            attestations = service.attestations_on(session, cid)
            if attestations:
                listing = Table("attester", "verdict", "reason")
                for a in attestations:
                    listing.add_row(a.attester, a.verdict, a.reason)
                console.print(listing)
    finally:
        store.close()


def _anchor_locally(store: LocalStore) -> list[dict]:
    with Chain.open(store.config.chain.url, store.directory) as chain:
        addresses = recorded_addresses(store.db, chain.chain_id)
        if "Registry" not in addresses:
            raise AigoraError("no registry on this chain yet: run `aigora up` once")
        addresses.setdefault("Token", store.config.chain.token or addresses["Registry"])
        registry = attach_foundation(chain, addresses).registry
        signer = store.unlock(None)
        return [b.__dict__ for b in anchor_all(store.db, chain, registry, signer)]


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


def _sign_and_record(
    data_dir: Path | None,
    account: str | None,
    kind: str,
    build: Callable[[Signer], dict[str, Any]],
    record: Callable[[Session, LocalStore, Signed], T],
) -> tuple[Signer, T]:
    """Unlock the account, sign the message it builds, and record it in one transaction."""
    store = open_store(data_dir_of(data_dir))
    try:
        signer = store.unlock(account)
        signed = sign(kind, signer, store.domain, build(signer))
        with session_scope(store.db) as session:
            return signer, record(session, store, signed)
    finally:
        store.close()


def _now() -> int:
    return int(time.time())
