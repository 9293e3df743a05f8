"""Anchor pending content manifests, attestations and receipts on-chain: one transaction per
batch, whatever its size, carrying the Merkle root of the batch's EIP-712 digests.

Idempotent and crash-safe: the pending set determines the root, and the registry knows every root
each anchorer has anchored, by kind. If a previous run sent the transaction but crashed before
recording it, the next run builds the same root, finds it on-chain under its own address and
records it without sending again. Receipts are anchored by nonce range (`_anchor_receipts`).
"""

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.chain import Chain, TxResult, TxSigner, read_batch
from aigora.content import service
from aigora.content.signed import LEAF_ENCODING
from aigora.core.errors import ChainError
from aigora.core.merkle import StandardMerkleTree, leaf_hash
from aigora.store.answer_models import ReceiptRecord
from aigora.store.content_models import AttestationRecord, ContentItem, TrustRecord
from aigora.store.db import session_scope
from aigora.store.models import Anchor, AnchorKind
from aigora.store.network_models import BatchItem

log = logging.getLogger(__name__)
KIND_CODES = {AnchorKind.CONTENT: 0, AnchorKind.ATTESTATIONS: 1, AnchorKind.RECEIPTS: 2}
MAX_BATCH = 50_000
_MODELS: dict[AnchorKind, tuple[Any, ...]] = {
    AnchorKind.CONTENT: (ContentItem,),
    AnchorKind.ATTESTATIONS: (AttestationRecord, TrustRecord),
    AnchorKind.RECEIPTS: (ReceiptRecord,),
}
"""The tables whose items a batch of each kind holds: an attestations batch carries the
community's attestations and vouches (both inputs of reputation) under one root."""
ITEM_KINDS: dict[AnchorKind, tuple[str, ...]] = {
    AnchorKind.CONTENT: ("content",),
    AnchorKind.ATTESTATIONS: ("attestation", "trust"),
}
"""The signed item kinds a content or attestations batch may hold (receipts are not served)."""


@dataclass(frozen=True)
class AnchoredBatch:
    kind: str
    batch_id: int
    root: str
    item_count: int
    tx_hash: str
    sent: bool


def batch_tree(digests: list[str]) -> StandardMerkleTree:
    """The tree a batch of digests is anchored as (leaves sorted by hash: order is irrelevant)."""
    return StandardMerkleTree.of([[bytes.fromhex(d[2:])] for d in digests], LEAF_ENCODING)


def anchor_pending(
    db: Engine, chain: Chain, registry: Contract, signer: TxSigner, kind: AnchorKind
) -> AnchoredBatch | None:
    """Anchor what of `kind` is not yet anchored; None when nothing is pending."""
    if kind is AnchorKind.RECEIPTS:
        return _anchor_receipts(db, chain, registry, signer)
    with session_scope(db) as session:
        digests = sorted(
            digest
            for model in _MODELS[kind]
            for digest in session.scalars(
                select(model.digest)
                .where(model.anchor_id.is_(None))
                .order_by(model.digest)
                .limit(MAX_BATCH)
            )
        )[:MAX_BATCH]
        # Read with the digests, in the same transaction: what the batch is served as must be
        # what was anchored, even if an import replaces one of these items before we record.
        documents = service.stored_documents(session, ITEM_KINDS[kind], digests)
    if not digests:
        return None
    root = batch_tree(digests).root
    # Ours only: a batch is named by (anchorer, kind, root), so someone else's anchor of the
    # same root, of this kind or another, is not ours to adopt.
    batch_id = chain.call(registry.functions.batch_of(signer.address, KIND_CODES[kind], root))
    if batch_id == 0:
        result = chain.transact(
            signer, registry.functions.anchor(KIND_CODES[kind], root, len(digests))
        )
        sent = _sent(chain, registry, result)
        return _record(db, chain, registry, kind, digests, sent, documents)
    found = _found(chain, registry, batch_id)
    return _record(db, chain, registry, kind, digests, found, documents)


def _anchor_receipts(
    db: Engine, chain: Chain, registry: Contract, signer: TxSigner
) -> AnchoredBatch | None:
    """Receipts are anchored by nonce: each batch covers the next range of this operator's
    nonces, above every range it anchored before (the registry refuses any other), so a receipt
    is anchored once and its challenge window never reopens. Nonces are allocated in commit
    order (`aigora.verify.issue_receipt`), so no receipt can appear later inside a range already
    read. A batch sent by a run that crashed before recording it is the operator's last one on
    chain, covering nonces still pending here: it is adopted, never re-sent."""
    pending = _pending_receipts(db, chain, registry, signer)
    if not pending:
        return None
    last_id = chain.call(registry.functions.last_receipt_batch(signer.address))
    if last_id != 0:
        last = read_batch(chain, registry, last_id)
        if last.last_nonce >= pending[0][0]:
            digests = [d for n, d in pending if last.covers(n)]
            if batch_tree(digests).root == last.root:
                kind = AnchorKind.RECEIPTS
                return _record(db, chain, registry, kind, digests, _found(chain, registry, last_id))
            # Receipts under nonces the registry has passed, not in its last batch (a restored
            # database, a key shared by two nodes): they can never be anchored. Say so and go on
            # with the nonces above, rather than stall every later receipt behind them.
            stranded = [n for n, _ in pending if n <= last.last_nonce]
            log.warning(
                "%d receipts (nonces %d-%d) can never be anchored: the registry has anchored this "
                "operator's receipts through nonce %d without them",
                len(stranded),
                stranded[0],
                stranded[-1],
                last.last_nonce,
            )
            pending = _pending_receipts(db, chain, registry, signer, above=last.last_nonce)
            if not pending:
                return None
    batch = pending[:MAX_BATCH]
    first, last_nonce = batch[0][0], batch[-1][0]
    digests = [d for _, d in batch]
    root = batch_tree(digests).root
    result = chain.transact(
        signer, registry.functions.anchor_receipts(root, len(digests), first, last_nonce)
    )
    sent = _sent(chain, registry, result)
    return _record(db, chain, registry, AnchorKind.RECEIPTS, digests, sent)


def _pending_receipts(
    db: Engine, chain: Chain, registry: Contract, signer: TxSigner, above: int = 0
) -> list[tuple[int, str]]:
    """(nonce, digest) of this operator's unanchored receipts in this domain with nonces above
    `above`, by nonce."""
    with session_scope(db) as session:
        rows = session.execute(
            select(ReceiptRecord.nonce, ReceiptRecord.digest)
            .where(
                ReceiptRecord.anchor_id.is_(None),
                ReceiptRecord.chain_id == chain.chain_id,
                ReceiptRecord.registry_address == registry.address,
                ReceiptRecord.operator == signer.address,
                ReceiptRecord.nonce > above,
            )
            .order_by(ReceiptRecord.nonce)
            .limit(MAX_BATCH)
        ).all()
    return [(int(nonce), digest) for nonce, digest in rows]


@dataclass(frozen=True)
class _OnChain:
    batch_id: int
    tx_hash: str
    block_number: int
    anchorer: str
    sent: bool


def _sent(chain: Chain, registry: Contract, result: TxResult) -> _OnChain:
    (event,) = chain.events_in(result, registry.events.BatchAnchored)
    return _OnChain(
        int(event.args.batch_id), result.tx_hash, result.block_number, event.args.anchorer, True
    )


def _found(chain: Chain, registry: Contract, batch_id: int) -> _OnChain:
    batch = read_batch(chain, registry, batch_id)
    events = chain.events(
        registry.events.BatchAnchored,
        batch.block_number,
        batch.block_number,
        argument_filters={"batch_id": batch_id},
    )
    for event in events:  # the one block the registry says it was anchored in
        tx_hash = "0x" + bytes(event.transactionHash).hex()
        return _OnChain(batch_id, tx_hash, event.blockNumber, batch.anchorer, False)
    raise ChainError(f"batch {batch_id} is anchored but its event was not found")


def _record(
    db: Engine,
    chain: Chain,
    registry: Contract,
    kind: AnchorKind,
    digests: list[str],
    batch: _OnChain,
    documents: list[bytes] | None = None,
) -> AnchoredBatch:
    """Record an anchored batch and mark its items; `documents` (content and attestations
    batches) are its signed items in leaf order, kept as the batch is served."""
    root = batch_tree(digests).root
    with session_scope(db) as session:
        known = session.scalar(
            select(Anchor).where(
                Anchor.chain_id == chain.chain_id, Anchor.batch_id == batch.batch_id
            )
        )
        if known is not None:  # recorded meanwhile by another anchoring run: nothing to add
            return AnchoredBatch(
                kind.value, batch.batch_id, known.root, known.item_count, known.tx_hash, False
            )
        anchor = Anchor(
            chain_id=chain.chain_id,
            kind=kind.value,
            root="0x" + root.hex(),
            batch_id=batch.batch_id,
            tx_hash=batch.tx_hash,
            block_number=batch.block_number,
            item_count=len(digests),
            anchored_by=batch.anchorer,
            anchored_at=datetime.now(UTC),
        )
        session.add(anchor)
        session.flush()
        for model in _MODELS[kind]:
            for chunk in service.chunks(digests):
                for item in session.scalars(select(model).where(model.digest.in_(chunk))):
                    item.anchor_id = anchor.id
        if documents is not None:
            record_batch_items(session, anchor.id, digests, documents)
    return AnchoredBatch(
        kind.value, batch.batch_id, "0x" + root.hex(), len(digests), batch.tx_hash, batch.sent
    )


def anchor_all(
    db: Engine, chain: Chain, registry: Contract, signer: TxSigner
) -> list[AnchoredBatch]:
    """Anchor every pending batch of content, attestations and answer receipts."""
    done = []
    for kind in (AnchorKind.CONTENT, AnchorKind.ATTESTATIONS, AnchorKind.RECEIPTS):
        while (batch := anchor_pending(db, chain, registry, signer, kind)) is not None:
            done.append(batch)
    return done


def inclusion_proofs(
    db: Engine, kind: AnchorKind, digests: list[str]
) -> dict[str, dict[str, Any] | None]:
    """Each item's anchor and Merkle proof (None while pending). Items sharing a batch share one
    tree build, so showing many attestations costs one tree per batch, not one per item."""
    models = _MODELS[kind]
    proofs: dict[str, dict[str, Any] | None] = dict.fromkeys(digests)
    with session_scope(db) as session:
        by_anchor: dict[int, list[str]] = {}
        for model in models:
            for item in session.scalars(select(model).where(model.digest.in_(digests))):
                if item.anchor_id is not None:
                    by_anchor.setdefault(item.anchor_id, []).append(item.digest)
        for anchor_id, wanted in by_anchor.items():
            anchor = session.get(Anchor, anchor_id)
            tree = batch_tree(batch_digests(session, anchor_id, models))
            for digest in wanted:
                value = [bytes.fromhex(digest[2:])]
                proofs[digest] = {
                    "batch_id": anchor.batch_id,
                    "root": anchor.root,
                    "tx_hash": anchor.tx_hash,
                    "block_number": anchor.block_number,
                    "leaf": "0x" + leaf_hash(LEAF_ENCODING, value).hex(),
                    "proof": ["0x" + p.hex() for p in tree.get_proof(value)],
                }
    return proofs


def batch_digests(session: Session, anchor_id: int, models: tuple[Any, ...]) -> list[str]:
    """The leaves of an anchored batch: its stored items when it has them (every batch anchored
    or imported since the network release), else its items' rows (older batches)."""
    stored = list(
        session.scalars(
            select(BatchItem.digest)
            .where(BatchItem.anchor_id == anchor_id)
            .order_by(BatchItem.position)
        )
    )
    if stored:
        return stored
    return [
        digest
        for model in models
        for digest in session.scalars(select(model.digest).where(model.anchor_id == anchor_id))
    ]


def record_batch_items(
    session: Session, anchor_id: int, digests: list[str], documents: list[bytes]
) -> None:
    """Keep a batch this node anchored as its peers will be served it: each leaf's signed item
    (`documents`, in the order of `digests`, which is leaf order)."""
    for position, (digest, document) in enumerate(zip(digests, documents, strict=True)):
        session.add(
            BatchItem(
                anchor_id=anchor_id,
                position=position,
                kind=json.loads(document)["kind"],
                digest=digest,
                document=document.decode("utf-8"),
            )
        )


def inclusion_proof(db: Engine, kind: AnchorKind, digest: str) -> dict[str, Any] | None:
    """One item's anchor and Merkle proof, or None while it is still pending."""
    return inclusion_proofs(db, kind, [digest])[digest]
