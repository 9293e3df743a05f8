"""Anchor pending content manifests, attestations and receipts on-chain: one transaction per
batch, whatever its size, carrying the Merkle root of the batch's EIP-712 digests.

Idempotent and crash-safe: the pending set determines the root, and the registry knows every root
it has anchored. If a previous run sent the transaction but crashed before recording it, the next
run builds the same root, finds it on-chain and records it without sending again.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from web3.contract import Contract

from aigora.chain import Chain, TxSigner, read_batch
from aigora.content.signed import LEAF_ENCODING
from aigora.core.errors import ChainError
from aigora.core.merkle import StandardMerkleTree, leaf_hash
from aigora.store.answer_models import ReceiptRecord
from aigora.store.content_models import AttestationRecord, ContentItem
from aigora.store.db import session_scope
from aigora.store.models import Anchor, AnchorKind

KIND_CODES = {AnchorKind.CONTENT: 0, AnchorKind.ATTESTATIONS: 1, AnchorKind.RECEIPTS: 2}
MAX_BATCH = 50_000
_MODELS: dict[AnchorKind, Any] = {
    AnchorKind.CONTENT: ContentItem,
    AnchorKind.ATTESTATIONS: AttestationRecord,
    AnchorKind.RECEIPTS: ReceiptRecord,
}


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
    model = _MODELS[kind]
    with session_scope(db) as session:
        digests = list(
            session.scalars(
                select(model.digest)
                .where(model.anchor_id.is_(None))
                .order_by(model.digest)
                .limit(MAX_BATCH)
            )
        )
    if not digests:
        return None
    tree = batch_tree(digests)
    root = tree.root
    batch_id = chain.call(registry.functions.batch_of_root(root))
    sent = batch_id == 0
    if sent:
        result = chain.transact(
            signer, registry.functions.anchor(KIND_CODES[kind], root, len(digests))
        )
        (event,) = chain.events_in(result, registry.events.BatchAnchored)
        batch_id, tx_hash, block = event.args.batch_id, result.tx_hash, result.block_number
    else:
        tx_hash, block = _find_anchor_tx(chain, registry, batch_id)
    anchorer = read_batch(chain, registry, batch_id).anchorer
    with session_scope(db) as session:
        anchor = Anchor(
            chain_id=chain.chain_id,
            kind=kind.value,
            root="0x" + root.hex(),
            batch_id=batch_id,
            tx_hash=tx_hash,
            block_number=block,
            item_count=len(digests),
            anchored_by=anchorer,
            anchored_at=datetime.now(UTC),
        )
        session.add(anchor)
        session.flush()
        for item in session.scalars(select(model).where(model.digest.in_(digests))):
            item.anchor_id = anchor.id
    return AnchoredBatch(kind.value, batch_id, "0x" + root.hex(), len(digests), tx_hash, sent)


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
    model = _MODELS[kind]
    proofs: dict[str, dict[str, Any] | None] = dict.fromkeys(digests)
    with session_scope(db) as session:
        items = session.scalars(select(model).where(model.digest.in_(digests))).all()
        by_anchor: dict[int, list[str]] = {}
        for item in items:
            if item.anchor_id is not None:
                by_anchor.setdefault(item.anchor_id, []).append(item.digest)
        for anchor_id, wanted in by_anchor.items():
            anchor = session.get(Anchor, anchor_id)
            batch = list(session.scalars(select(model.digest).where(model.anchor_id == anchor_id)))
            tree = batch_tree(batch)
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


def inclusion_proof(db: Engine, kind: AnchorKind, digest: str) -> dict[str, Any] | None:
    """One item's anchor and Merkle proof, or None while it is still pending."""
    return inclusion_proofs(db, kind, [digest])[digest]


def _find_anchor_tx(chain: Chain, registry: Contract, batch_id: int) -> tuple[str, int]:
    for event in chain.events(registry.events.BatchAnchored):
        if event.args.batch_id == batch_id:
            return "0x" + bytes(event.transactionHash).hex(), event.blockNumber
    raise ChainError(f"batch {batch_id} is anchored but its event was not found")
