"""Tables for the labeling marketplace: jobs, their items, who was assigned what, the signed
answers, and the escrow released for accepted answers in each payout epoch.

A job's `job_id` is the keccak256 of its canonical JSON spec, the id its bounty is escrowed under
in `Bounties.vy`. An answer is unique per (item, labeler): a second one is refused, not replaced.
An accepted answer is first *reserved* into one job's escrow release for the next epoch
(`release_id`, with the `amount` it is owed); its line enters that epoch's tree only once the
release is on-chain, and `paid_epoch` is set in the same transaction that marks the epoch
posted, so an answer is marked paid only when its money is in the distributor, and exactly once.
A release that reverts records its `failure`: its answers are left out of the epoch, either
unreserved again (owed, retried next epoch) or, when the requester has refunded the escrow,
kept on the failed release (never payable).
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base


class LabelJob(Base):
    __tablename__ = "label_jobs"

    job_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    requester: Mapped[str] = mapped_column(String(42), index=True)
    spec: Mapped[str] = mapped_column(Text)
    label_count: Mapped[int] = mapped_column(Integer)
    overlap: Mapped[int] = mapped_column(Integer)
    price: Mapped[str] = mapped_column(String(80))
    ends_at: Mapped[int] = mapped_column(BigInteger)
    escrow: Mapped[str] = mapped_column(String(80))
    # Keys the item numbers and every labeler's serving order; never served to anyone.
    secret: Mapped[str] = mapped_column(String(66))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LabelItem(Base):
    __tablename__ = "label_items"
    __table_args__ = (UniqueConstraint("job_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("label_jobs.job_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # served number: a keyed shuffle of spec order
    text: Mapped[str] = mapped_column(Text)
    gold: Mapped[int | None] = mapped_column(Integer)


class LabelAssignment(Base):
    __tablename__ = "label_assignments"
    __table_args__ = (UniqueConstraint("item_id", "labeler"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("label_items.id"), index=True)
    labeler: Mapped[str] = mapped_column(String(42), index=True)
    assigned_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)


class LabelAnswer(Base):
    __tablename__ = "label_answers"
    __table_args__ = (UniqueConstraint("item_id", "labeler"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("label_items.id"), index=True)
    labeler: Mapped[str] = mapped_column(String(42), index=True)
    label: Mapped[int] = mapped_column(Integer)
    signature: Mapped[str] = mapped_column(String(132))
    submitted_at: Mapped[int] = mapped_column(BigInteger)
    paid_epoch: Mapped[int | None] = mapped_column(Integer, index=True)
    release_id: Mapped[int | None] = mapped_column(ForeignKey("label_releases.id"), index=True)
    amount: Mapped[str | None] = mapped_column(String(80))


class LabelRelease(Base):
    """Escrow the node must release from `Bounties` for one job's accepted answers in one epoch;
    `tx_hash` is set once the release is on-chain, `failure` (the revert reason) if it reverted.
    """

    __tablename__ = "label_releases"
    __table_args__ = (UniqueConstraint("epoch", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer, index=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("label_jobs.job_id"))
    amount: Mapped[str] = mapped_column(String(80))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    failure: Mapped[str | None] = mapped_column(Text)
