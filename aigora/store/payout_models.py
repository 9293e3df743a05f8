"""Tables for payout epochs: what each account earned, item by item, and the trees posted.

An epoch is computed in one transaction (status `computed`: its lines, balances and tree file
exist, nothing is on-chain yet) and marked `posted` once its root is on the distributor, so a
crash between the two is resumed by posting the same root, never by computing a second one.
Amounts are decimal strings of token base units (they exceed 64 bits).
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base


class Epoch(Base):
    """One payout epoch: the newest anchor it saw (`last_anchor_id`), the paid receipts it split
    (those whose `paid_receipts.epoch` is its number: anchored by then, their vouchers redeemed)
    and the cumulative tree's root."""

    __tablename__ = "payout_epochs"

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    after_anchor_id: Mapped[int] = mapped_column(BigInteger)
    last_anchor_id: Mapped[int] = mapped_column(BigInteger)
    receipt_count: Mapped[int] = mapped_column(Integer)
    usage_total: Mapped[str] = mapped_column(String(80))
    operator_total: Mapped[str] = mapped_column(String(80))
    training_total: Mapped[str] = mapped_column(String(80))
    labeling_total: Mapped[str] = mapped_column(String(80), server_default="0")
    cumulative_total: Mapped[str] = mapped_column(String(80))
    root: Mapped[str] = mapped_column(String(66))
    tree_path: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EpochLine(Base):
    """One account's earning from one item in one epoch (`source`: usage or training)."""

    __tablename__ = "payout_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(ForeignKey("payout_epochs.number"), index=True)
    account: Mapped[str] = mapped_column(String(42), index=True)
    cid: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16))
    amount: Mapped[str] = mapped_column(String(80))


class EpochBalance(Base):
    """A leaf of an epoch's tree: the account's earnings this epoch and in all epochs so far."""

    __tablename__ = "payout_balances"
    __table_args__ = (UniqueConstraint("epoch", "account"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(ForeignKey("payout_epochs.number"), index=True)
    account: Mapped[str] = mapped_column(String(42), index=True)
    amount: Mapped[str] = mapped_column(String(80))
    cumulative: Mapped[str] = mapped_column(String(80))
