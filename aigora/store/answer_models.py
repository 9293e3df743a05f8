"""Tables for corpus snapshots, the receipts an operator signs and those a verifier has seen.

A snapshot's vectors live in a file under the node's data directory (`path`, relative to it); the
row records its root, the model it was embedded with and whether it is registered on-chain.
A receipt is stored as the exact JSON document handed to the asker, with its EIP-712 digest
(anchored in batches like content) and its nonce, unique per operator and domain.
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base


class SnapshotRecord(Base):
    """A corpus snapshot built by this node; `registered_tx` is null until it is on-chain."""

    __tablename__ = "snapshots"

    root: Mapped[str] = mapped_column(String(66), primary_key=True)
    model_root: Mapped[str] = mapped_column(String(66), index=True)
    item_count: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(Text)
    parent_root: Mapped[str | None] = mapped_column(String(66))
    embedded_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    registered_tx: Mapped[str | None] = mapped_column(String(66))
    registered_at: Mapped[int | None] = mapped_column(BigInteger)


class ReceiptRecord(Base):
    """A receipt this node signed: the whole document, findable by digest and by nonce."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("chain_id", "registry_address", "operator", "nonce"),)

    digest: Mapped[str] = mapped_column(String(66), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    registry_address: Mapped[str] = mapped_column(String(42))
    operator: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    snapshot_root: Mapped[str] = mapped_column(String(66), index=True)
    fee: Mapped[str] = mapped_column(String(80))
    issued_at: Mapped[int] = mapped_column(BigInteger)
    document: Mapped[str] = mapped_column(Text)
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id"), index=True)


class SeenReceipt(Base):
    """A receipt a verifier has checked: one (domain, operator, nonce) names one receipt, so a
    second receipt under the same nonce is caught as a replay."""

    __tablename__ = "seen_receipts"
    __table_args__ = (UniqueConstraint("chain_id", "registry_address", "operator", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    registry_address: Mapped[str] = mapped_column(String(42))
    operator: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[str] = mapped_column(String(78))  # uint256 in decimal: any signer's choice
    digest: Mapped[str] = mapped_column(String(66))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FiledChallenge(Base):
    """An embedding claim this node filed as challenger, with the receipt it disputes: the game
    runs over many blocks, and the node (or a restarted one) plays its moves from this row."""

    __tablename__ = "filed_challenges"
    __table_args__ = (UniqueConstraint("chain_id", "disputes_address", "dispute_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    disputes_address: Mapped[str] = mapped_column(String(42))
    dispute_id: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(66))
    document: Mapped[str] = mapped_column(Text)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
