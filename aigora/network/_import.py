"""Import one anchored batch from an untrusted source: check everything, then store it in one
database transaction or not at all.

The order is fixed so that nothing is stored from a batch that fails any check: fetch the items,
run the rules of `_batches` (count, kinds, signatures, no duplicates, root), fetch the bodies
the node lacks and check their CIDs, write the bodies (content-addressed, so a body left by a
batch that then fails is harmless and never wrong), then record the anchor, its items in leaf
order and what they mean, and mark the batch imported, in one transaction. A batch already
recorded (imported before, or one this node anchored) is left as it is: importing twice never
records anything twice.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aigora.content import ITEM_KINDS, MAX_BATCH, service
from aigora.core.eip712 import Domain
from aigora.network._batches import (
    BadBatch,
    CheckedItem,
    FoundBatch,
    check_body,
    check_distinct,
    check_item_count,
    check_item_kinds,
    check_root,
    check_signatures,
)
from aigora.network._sources import BatchSource
from aigora.store import Anchor, AnchorKind, BatchItem, BlobStore, peer_batch, session_scope

KINDS = {0: AnchorKind.CONTENT, 1: AnchorKind.ATTESTATIONS}
"""The registry's batch kind codes of the batches a network shares (receipts stay with their
operator, who serves them with each answer)."""


@dataclass(frozen=True)
class ImportedBatch:
    batch_id: int
    root: str
    item_count: int
    source: str
    new: bool


def checked_items(
    batch: FoundBatch, source: BatchSource, domain: Domain, now: int
) -> list[CheckedItem]:
    """The batch's items from `source`, every rule checked; `BadBatch` names the first broken."""
    kind = KINDS.get(batch.kind)
    if kind is None:
        raise BadBatch(f"batch {batch.batch_id} is of kind {batch.kind}, which is not shared")
    if batch.item_count > MAX_BATCH:
        # Checked before asking anyone: the items are held until the root can be checked, so
        # an anchor of a billion items would otherwise be a billion items in memory.
        raise BadBatch(
            f"batch {batch.batch_id} anchors {batch.item_count} items; a node anchors at most "
            f"{MAX_BATCH} a batch"
        )
    items = source.items(batch.root, batch.item_count)
    check_item_count(items, batch)
    check_item_kinds(items, ITEM_KINDS[kind], batch.batch_id)
    checked = check_signatures(items, domain, now, batch.batch_id)
    check_distinct(checked, batch.batch_id)
    check_root(checked, batch)
    return checked


def fetch_bodies(items: list[CheckedItem], source: BatchSource, blobs: BlobStore) -> dict[str, int]:
    """Each content item's body (fetched only when missing here, its CID checked), stored in
    the blob store; returns each body's size."""
    sizes: dict[str, int] = {}
    missing = []
    for item in items:
        if item.signed.kind != "content":
            continue
        cid = str(item.signed.message["cid"])
        if blobs.has(cid):
            sizes[cid] = blobs.path_for(cid).stat().st_size
        else:
            missing.append(cid)
    fetched = source.bodies(missing) if missing else {}
    for cid in missing:
        body = fetched[cid]
        check_body(cid, body)
        blobs.put(body)
        sizes[cid] = len(body)
    return sizes


def import_batch(
    db: Engine,
    blobs: BlobStore,
    domain: Domain,
    batch: FoundBatch,
    source: BatchSource,
    *,
    now: int,
) -> ImportedBatch:
    """Fetch, check and store one batch (see the module's docstring for the order)."""
    items = checked_items(batch, source, domain, now)
    sizes = fetch_bodies(items, source, blobs)
    chain_id = domain.chain_id
    try:
        with session_scope(db) as session:
            known = session.scalar(
                select(Anchor.id).where(
                    Anchor.chain_id == chain_id, Anchor.batch_id == batch.batch_id
                )
            )
            if known is None:
                _store(session, batch, items, sizes, chain_id)
            _mark_imported(session, batch, domain)
    except IntegrityError:
        # Another process stored the same batch between our check and our commit (the anchor's
        # batch id is unique per chain): ours rolled back whole, and theirs stands. Any other
        # collision is a bug, not an import: the batch stays pending and the error is raised.
        with session_scope(db) as session:
            stored = session.scalar(
                select(Anchor.id).where(
                    Anchor.chain_id == chain_id, Anchor.batch_id == batch.batch_id
                )
            )
            if stored is None:
                raise
            _mark_imported(session, batch, domain)
        return ImportedBatch(batch.batch_id, batch.root, len(items), source.name, False)
    return ImportedBatch(batch.batch_id, batch.root, len(items), source.name, known is None)


def _store(
    session: Session,
    batch: FoundBatch,
    items: list[CheckedItem],
    sizes: dict[str, int],
    chain_id: int,
) -> None:
    anchor = Anchor(
        chain_id=chain_id,
        kind=KINDS[batch.kind].value,
        root=batch.root.lower(),
        batch_id=batch.batch_id,
        tx_hash=batch.tx_hash,
        block_number=batch.block_number,
        item_count=batch.item_count,
        anchored_by=batch.anchorer,
        anchored_at=datetime.now(UTC),
    )
    session.add(anchor)
    session.flush()
    ordered = sorted(items, key=lambda item: item.digest)
    for position, item in enumerate(ordered):
        session.add(
            BatchItem(
                anchor_id=anchor.id,
                position=position,
                kind=item.signed.kind,
                digest=item.digest,
                document=service.signed_document(item.signed).decode("utf-8"),
            )
        )
    manifests = [
        (item.signed, item.digest, sizes[str(item.signed.message["cid"])])
        for item in ordered
        if item.signed.kind == "content"
    ]
    if manifests:
        service.import_manifests(session, manifests, anchor_id=anchor.id, batch_id=batch.batch_id)
    for kind in ("attestation", "trust"):
        statements = [(item.signed, item.digest) for item in ordered if item.signed.kind == kind]
        if statements:
            service.import_statements(session, kind, statements, anchor.id)
    session.flush()


def _mark_imported(session: Session, batch: FoundBatch, domain: Domain) -> None:
    row = peer_batch(session, domain.chain_id, domain.verifying_contract, batch.batch_id)
    if row is not None:
        row.state = "imported"
        row.last_error = None
        row.updated_at = datetime.now(UTC)
