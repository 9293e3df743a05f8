"""The node's book of vouchers: per channel the highest one accepted, and per paid receipt the
voucher that paid for it.

`accept_voucher` runs inside the transaction that records the receipt (`issue_receipt`'s
`record` hook): it re-reads the channel's accepted cumulative, checks the voucher against it,
moves it by compare-and-set and ties the receipt to the voucher. Sessions are serialised
(SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory lock) and the update names the value it read,
so of two asks spending one voucher exactly one commits; the other's receipt is rolled back with
it. A crash before the commit leaves neither the receipt nor the voucher; after it, both.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aigora.asks._rules import StaleVoucher, check_cumulative_increases
from aigora.asks._voucher import Payment
from aigora.store import ChannelVoucher, PaidReceipt


@dataclass(frozen=True)
class ChannelKey:
    """One channel of one channels contract: (asker, operator) on a chain."""

    chain_id: int
    channels: str
    asker: str
    operator: str


@dataclass(frozen=True)
class AcceptedVoucher:
    """The highest voucher accepted in a channel, and its `redeemed` as last read on-chain."""

    key: ChannelKey
    cumulative: int
    signature: bytes
    redeemed: int


def _row(session: Session, key: ChannelKey) -> ChannelVoucher | None:
    return session.scalar(
        select(ChannelVoucher).where(
            ChannelVoucher.chain_id == key.chain_id,
            ChannelVoucher.channels_address == key.channels,
            ChannelVoucher.asker == key.asker,
            ChannelVoucher.operator == key.operator,
        )
    )


def _accepted(key: ChannelKey, row: ChannelVoucher) -> AcceptedVoucher:
    return AcceptedVoucher(
        key, int(row.cumulative), bytes.fromhex(row.signature[2:]), int(row.redeemed)
    )


def accepted_voucher(session: Session, key: ChannelKey) -> AcceptedVoucher | None:
    row = _row(session, key)
    return None if row is None else _accepted(key, row)


def accept_voucher(
    session: Session, key: ChannelKey, payment: Payment, *, fee: int, redeemed: int, digest: str
) -> None:
    """Make `payment` the channel's accepted voucher and record receipt `digest` as paid by it
    (`fee`: what it adds; `redeemed`: the channel's on-chain redeemed amount, read before).
    Raises `StaleVoucher` when another ask moved the channel first."""
    row = _row(session, key)
    accepted = 0 if row is None else int(row.cumulative)
    check_cumulative_increases(payment.cumulative, accepted, redeemed, fee)
    now = datetime.now(UTC)
    signature = "0x" + payment.signature.hex()
    if row is None:
        session.add(
            ChannelVoucher(
                chain_id=key.chain_id,
                channels_address=key.channels,
                asker=key.asker,
                operator=key.operator,
                cumulative=str(payment.cumulative),
                signature=signature,
                redeemed=str(redeemed),
                accepted_at=now,
            )
        )
    else:
        moved = session.execute(
            update(ChannelVoucher)
            .where(ChannelVoucher.id == row.id, ChannelVoucher.cumulative == row.cumulative)
            .values(cumulative=str(payment.cumulative), signature=signature, accepted_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if moved.rowcount != 1:
            raise StaleVoucher("another ask spent this voucher first: sign the next one")
    session.flush()
    session.add(
        PaidReceipt(
            digest=digest,
            chain_id=key.chain_id,
            channels_address=key.channels,
            asker=key.asker,
            operator=key.operator,
            cumulative=str(payment.cumulative),
            fee=str(fee),
            epoch=None,
        )
    )


def unredeemed_vouchers(
    session: Session, chain_id: int, channels: str, operator: str
) -> list[AcceptedVoucher]:
    """The channels of `operator` whose accepted voucher is above what they had redeemed when
    last read."""
    rows = session.scalars(
        select(ChannelVoucher)
        .where(
            ChannelVoucher.chain_id == chain_id,
            ChannelVoucher.channels_address == channels,
            ChannelVoucher.operator == operator,
            ChannelVoucher.cumulative != ChannelVoucher.redeemed,
        )
        .order_by(ChannelVoucher.id)
    )
    return [_accepted(ChannelKey(chain_id, channels, row.asker, operator), row) for row in rows]


def note_redeemed(session: Session, key: ChannelKey, redeemed: int) -> None:
    """Remember the channel's on-chain `redeemed` (it only grows)."""
    row = _row(session, key)
    if row is not None and int(row.redeemed) < redeemed:
        row.redeemed = str(redeemed)
