"""Tables of a node in a network: the signed items of every anchored batch, and the batches other
anchorers posted that this node follows and imports.

`BatchItem` keeps each anchored batch exactly as it was anchored: one row per leaf, in leaf order
(the digests sorted), with the signed item as canonical JSON. A node serves a batch from these
rows (`GET /batches/{root}`), for its own batches and for the ones it imported alike, so a peer
rebuilds the anchored root from what it is served. The content, attestation and vouch tables are
what those items mean once applied; a manifest that lost its CID to an earlier one lives only
here.

`PeerBatch` is one content or attestation batch the node's `BatchAnchored` scan found: recorded
in the scan's cursor transaction, so a node that was down finds every batch anchored meanwhile,
and imported (or found to be ours) at most once.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base

PEER_BATCH_STATES = ("pending", "imported", "ours")


class BatchItem(Base):
    """One leaf of an anchored batch: its digest, its kind (content, attestation, trust) and the
    signed item (`{"kind", "message", "signature"}` as canonical JSON)."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("anchor_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    anchor_id: Mapped[int] = mapped_column(ForeignKey("anchors.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(66), index=True)
    document: Mapped[str] = mapped_column(Text)


class PeerBatch(Base):
    """A content or attestation batch anchored on the network's registry, found by the scan.
    `state` is pending until imported (or recognised as one this node anchored itself);
    `attempts` and `last_error` say why a pending one is still pending."""

    __tablename__ = "peer_batches"
    __table_args__ = (UniqueConstraint("chain_id", "registry_address", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    registry_address: Mapped[str] = mapped_column(String(42))
    batch_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[int] = mapped_column(Integer)
    anchorer: Mapped[str] = mapped_column(String(42))
    root: Mapped[str] = mapped_column(String(66))
    item_count: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NetworkPeer(Base):
    """An operator registered on the network's registry (found by the `OperatorRegistered`
    scan): a node to fetch batches from. Its endpoint is read from the registry when used, so a
    changed endpoint is followed."""

    __tablename__ = "network_peers"
    __table_args__ = (UniqueConstraint("chain_id", "registry_address", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    registry_address: Mapped[str] = mapped_column(String(42))
    address: Mapped[str] = mapped_column(String(42))


def peer_batch(session: Session, chain_id: int, registry: str, batch_id: int) -> PeerBatch | None:
    """The scan's row for one batch of one registry, if the scan has recorded it."""
    return session.scalar(
        select(PeerBatch).where(
            PeerBatch.chain_id == chain_id,
            PeerBatch.registry_address == registry,
            PeerBatch.batch_id == batch_id,
        )
    )
