"""Following the disputes contract: which disputes this node must answer or has filed.

A node's recurring passes (rebuttals, game moves) must not read `DisputeOpened` from block 0
each time: providers limit log ranges, and a long-lived chain makes every pass slower. So one
scan, `follow_disputes`, reads the events after its cursor in bounded pages (`Chain.event_pages`)
and records the disputes that concern this node (`WatchedDispute`) in the same transaction that
moves the cursor; the passes then read the open rows. A node that was down resumes from its
cursor and so finds every dispute opened meanwhile.
"""

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.chain import Chain
from aigora.store import (
    ReceiptRecord,
    WatchedDispute,
    move_cursor,
    read_cursor,
    scan_start,
    session_scope,
)

DISPUTES_OPENED = "disputes.opened"
"""The cursor name of the `DisputeOpened` scan."""


@dataclass(frozen=True)
class Watched:
    """A dispute this node is a party to, as its scan recorded it."""

    dispute_id: int
    kind: int
    digest: str
    opened_block: int
    against_us: bool
    filed_by_us: bool


def is_ours(against_us: bool, filed_by_us: bool) -> bool:
    """A dispute concerns this node when it disputes one of its receipts or the node filed it."""
    return against_us or filed_by_us


def follow_disputes(chain: Chain, db: Engine, disputes: Contract, account: str) -> int:
    """Record every dispute opened since the cursor that concerns `account`'s node; returns how
    many were recorded. Each page of events is one database transaction with its cursor."""
    chain_id, address = chain.chain_id, disputes.address
    latest = chain.block_number()
    with session_scope(db) as session:
        cursor = read_cursor(session, DISPUTES_OPENED, chain_id, address)
        if cursor is not None and cursor > latest:
            _forget(session, chain_id, address)
    start = scan_start(cursor, chain.deployment_block(address), latest)
    recorded = 0
    for last_block, logs in chain.event_pages(disputes.events.DisputeOpened, start, latest):
        with session_scope(db) as session:
            for log in logs:
                digest = "0x" + bytes(log.args.digest).hex()
                against_us = session.get(ReceiptRecord, digest) is not None
                filed_by_us = str(log.args.challenger).lower() == account.lower()
                if not is_ours(against_us, filed_by_us):
                    continue
                dispute_id = int(log.args.dispute_id)
                if _row(session, chain_id, address, dispute_id) is not None:
                    continue
                session.add(
                    WatchedDispute(
                        chain_id=chain_id,
                        disputes_address=address,
                        dispute_id=dispute_id,
                        kind=int(log.args.kind),
                        digest=digest,
                        challenger=str(log.args.challenger),
                        opened_block=int(log.blockNumber),
                        against_us=against_us,
                        filed_by_us=filed_by_us,
                        closed=False,
                    )
                )
                recorded += 1
            move_cursor(session, DISPUTES_OPENED, chain_id, address, last_block)
    return recorded


def open_watched(
    db: Engine, chain: Chain, disputes: Contract, kind: int | None = None
) -> list[Watched]:
    """The disputes this node's scan found and has not seen closed, oldest first."""
    with session_scope(db) as session:
        query = select(WatchedDispute).where(
            WatchedDispute.chain_id == chain.chain_id,
            WatchedDispute.disputes_address == disputes.address,
            WatchedDispute.closed.is_(False),
        )
        if kind is not None:
            query = query.where(WatchedDispute.kind == kind)
        rows = session.scalars(query.order_by(WatchedDispute.dispute_id)).all()
        return [
            Watched(
                row.dispute_id,
                row.kind,
                row.digest,
                row.opened_block,
                row.against_us,
                row.filed_by_us,
            )
            for row in rows
        ]


def filed_by_us(db: Engine, chain: Chain, disputes: Contract) -> list[int]:
    """Every dispute this node filed that its scan found, open or closed, oldest first."""
    with session_scope(db) as session:
        return list(
            session.scalars(
                select(WatchedDispute.dispute_id)
                .where(
                    WatchedDispute.chain_id == chain.chain_id,
                    WatchedDispute.disputes_address == disputes.address,
                    WatchedDispute.filed_by_us.is_(True),
                )
                .order_by(WatchedDispute.dispute_id)
            )
        )


def mark_closed(db: Engine, chain: Chain, disputes: Contract, dispute_id: int) -> None:
    """Stop watching a dispute the contract has resolved."""
    with session_scope(db) as session:
        row = _row(session, chain.chain_id, disputes.address, dispute_id)
        if row is not None:
            row.closed = True


def _row(session: Session, chain_id: int, address: str, dispute_id: int) -> WatchedDispute | None:
    return session.scalar(
        select(WatchedDispute).where(
            WatchedDispute.chain_id == chain_id,
            WatchedDispute.disputes_address == address,
            WatchedDispute.dispute_id == dispute_id,
        )
    )


def _forget(session: Session, chain_id: int, address: str) -> None:
    """Drop the rows of a contract whose chain was reset: its dispute ids now name others."""
    rows = session.scalars(
        select(WatchedDispute).where(
            WatchedDispute.chain_id == chain_id, WatchedDispute.disputes_address == address
        )
    )
    for row in rows:
        session.delete(row)
