"""Where a node's recurring event scans stand, and the disputes those scans found for it.

A scan reads a contract's events from its cursor (`ScanCursor.last_block`, the last block it has
read) onward, in bounded block ranges, and records what it needs (here: `WatchedDispute` rows)
in the same transaction that moves the cursor: after a crash, the cursor and what was recorded
agree, so nothing is missed and nothing is recorded twice. Later passes read these rows instead
of the chain's whole history.
"""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Boolean, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base


class ScanCursor(Base):
    """The last block a named scan of one contract on one chain has read (inclusive)."""

    __tablename__ = "scan_cursors"
    __table_args__ = (UniqueConstraint("name", "chain_id", "contract_address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    chain_id: Mapped[int] = mapped_column(BigInteger)
    contract_address: Mapped[str] = mapped_column(String(42))
    last_block: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchedDispute(Base):
    """A dispute this node is a party to, found by its `DisputeOpened` scan: `against_us` when it
    disputes one of this node's receipts (the node must answer it), `filed_by_us` when the node's
    account is its challenger. `closed` once the contract has resolved it; `opened_block` is
    where reads of the dispute's later events start."""

    __tablename__ = "watched_disputes"
    __table_args__ = (UniqueConstraint("chain_id", "disputes_address", "dispute_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    disputes_address: Mapped[str] = mapped_column(String(42))
    dispute_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(66))
    challenger: Mapped[str] = mapped_column(String(42))
    opened_block: Mapped[int] = mapped_column(BigInteger)
    against_us: Mapped[bool] = mapped_column(Boolean)
    filed_by_us: Mapped[bool] = mapped_column(Boolean)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


def _cursor_row(session: Session, name: str, chain_id: int, address: str) -> ScanCursor | None:
    return session.scalar(
        select(ScanCursor).where(
            ScanCursor.name == name,
            ScanCursor.chain_id == chain_id,
            ScanCursor.contract_address == address,
        )
    )


def read_cursor(session: Session, name: str, chain_id: int, address: str) -> int | None:
    """The last block the scan `name` of `address` has read, or None before its first page."""
    row = _cursor_row(session, name, chain_id, address)
    return None if row is None else row.last_block


def move_cursor(session: Session, name: str, chain_id: int, address: str, block: int) -> None:
    """Set the scan's cursor to `block`, in the caller's transaction (commit it together with
    what the scan recorded up to that block)."""
    row = _cursor_row(session, name, chain_id, address) or ScanCursor(
        name=name, chain_id=chain_id, contract_address=address
    )
    row.last_block = block
    row.updated_at = datetime.now(UTC)
    session.add(row)


def scan_start(cursor: int | None, deployed_at: int, latest: int) -> int:
    """Where a scan resumes: after its cursor, or at the contract's deployment block on the
    first pass or when the cursor lies beyond the chain's head (a dev chain restarted from
    genesis with the same addresses: its old history is gone)."""
    if cursor is None or cursor > latest:
        return deployed_at
    return cursor + 1
