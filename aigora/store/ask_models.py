"""Tables for paid asks: the newest voucher accepted per channel, and what each paid receipt
was paid with.

A channel is (channels contract, asker, operator) on one chain. `channel_vouchers` holds the
highest cumulative amount the node accepted from the asker with its signature: the voucher the
node redeems, and the floor every next voucher must rise above. It is moved only by
compare-and-set (`UPDATE ... WHERE cumulative = <the value read>`) in the transaction that
records the receipt the voucher paid for, so two asks never spend one voucher, and a crash
loses neither half. `paid_receipts` ties each paid receipt to the cumulative amount that paid
for it; `epoch` is the payout epoch that split its fee (null until its voucher is redeemed
on-chain and an epoch counts it: never twice). Amounts are decimal strings (uint256).
"""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base


class ChannelVoucher(Base):
    """The highest voucher this node accepted in one channel (cumulative and the asker's
    65-byte signature as 0x-hex), and the channel's `redeemed` as last read on-chain (a cache:
    a channel whose two amounts differ has a voucher to redeem)."""

    __tablename__ = "channel_vouchers"
    __table_args__ = (UniqueConstraint("chain_id", "channels_address", "asker", "operator"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    channels_address: Mapped[str] = mapped_column(String(42))
    asker: Mapped[str] = mapped_column(String(42))
    operator: Mapped[str] = mapped_column(String(42))
    cumulative: Mapped[str] = mapped_column(String(80))
    signature: Mapped[str] = mapped_column(String(132))
    redeemed: Mapped[str] = mapped_column(String(80))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaidReceipt(Base):
    """A receipt an asker paid for: by which channel, with which cumulative voucher (its fee is
    the rise over the voucher accepted before it), and the epoch that split it, once one has."""

    __tablename__ = "paid_receipts"

    digest: Mapped[str] = mapped_column(ForeignKey("receipts.digest"), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    channels_address: Mapped[str] = mapped_column(String(42))
    asker: Mapped[str] = mapped_column(String(42), index=True)
    operator: Mapped[str] = mapped_column(String(42))
    cumulative: Mapped[str] = mapped_column(String(80))
    fee: Mapped[str] = mapped_column(String(80))
    epoch: Mapped[int | None] = mapped_column(ForeignKey("payout_epochs.number"), index=True)
