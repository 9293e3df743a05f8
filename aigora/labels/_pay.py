"""Paying accepted labels through payout epochs, so that no single job can block an epoch.

Three steps per epoch N, each its own database transaction and each safe to repeat:

1. **reserve** (`reserve_labeling`): every job's answers are judged by the pay rule
   (`_quality.paid_answers`: only labelers who pass gold are judged, and a work answer is paid
   only once later gold by the same labeler vouches for it, or the job has ended); each paid
   answer not yet paid nor reserved is owed exactly `price` (by item then labeler, until the
   job's escrow not yet committed to a release is spent) and is linked to one `LabelRelease` row
   of (N, job) with the job's total. Nothing is marked paid.
2. **release** (the application layer, on-chain): each pending row is released from `Bounties`
   and its transaction recorded; one that reverts records the reason (`record_failure`) and its
   answers are left out of epoch N: unreserved (owed, tried again at the next epoch), or, when
   the requester has refunded the escrow, kept on the failed row (never payable: the escrow is
   gone).
3. **lines** (`labeling_lines`, in the epoch's compute transaction): only answers on released
   rows of epoch N become payout lines, one per labeler and job, `label:<job id>` (earnings name
   no item: which items were paid would say which were not gold); `mark_labels_paid` sets
   their `paid_epoch` in the transaction that marks epoch N posted, i.e. once their money is in
   the distributor.

A crash between steps leaves rows a rerun picks up: a pending row is released (after checking
the job's on-chain total, so it is never released twice), a released row's answers enter the
epoch that is computed next under its number.
"""

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aigora.labels._market import LABELING, _served
from aigora.labels._quality import QualityPolicy, paid_answers
from aigora.payouts import Line, PayoutError
from aigora.store.label_models import LabelAnswer, LabelItem, LabelJob, LabelRelease


@dataclass(frozen=True)
class PendingRelease:
    """A reserved release not yet on-chain nor failed."""

    row_id: int
    job_id: str
    amount: int


@dataclass(frozen=True)
class LeftOut:
    """A job whose release for an epoch reverted: its labelers' `amount` is not in that epoch.
    `forfeited`: the requester refunded the escrow first, so it can never be paid; otherwise it
    stays owed and is tried again at the next epoch."""

    job_id: str
    amount: int
    reason: str
    forfeited: bool


def is_committed(row: LabelRelease) -> bool:
    """A release that counts against the job's escrow: pending or on-chain, not failed."""
    return row.failure is None


def is_forfeited(session: Session, row: LabelRelease) -> bool:
    """A failed release whose answers were kept on it (the escrow was refunded)."""
    return row.failure is not None and (
        session.scalar(select(LabelAnswer.id).where(LabelAnswer.release_id == row.id).limit(1))
        is not None
    )


def owed_answers(
    rows: list[tuple[LabelAnswer, int]], payable: set[tuple[str, str]], left: int, price: int
) -> list[LabelAnswer]:
    """The answers a job pays now, of its `rows` (answer, item number) by item then labeler:
    those the pay rule pays (`payable`, (item, labeler) pairs), neither paid nor reserved, each
    at exactly `price` (no split, so no remainder), while `left` (its escrow not committed to a
    release) covers a whole price. At most `overlap` answers per work item are ever taken, so the
    escrow (`price x overlap x work items`) covers every paid answer; `left` makes that a
    guarantee."""
    owed: list[LabelAnswer] = []
    for answer, position in rows:
        if (
            answer.paid_epoch is not None
            or answer.release_id is not None
            or (str(position), answer.labeler) not in payable
        ):
            continue
        if left - price * (len(owed) + 1) < 0:
            break  # the escrow is spent: no job pays more than it holds
        owed.append(answer)
    return owed


def _payable(
    session: Session, job: LabelJob, policy: QualityPolicy, now: int
) -> set[tuple[str, str]]:
    """(item, labeler) of every answer of `job` the pay rule pays at time `now`."""
    served, gold = _served(session, job.job_id)
    if not served:
        return set()
    _, paid = paid_answers(served, job.label_count, gold, policy, ended=now >= job.ends_at)
    return {(a.item, a.labeler) for a in paid}


def reserve_labeling(
    session: Session, epoch: int, policy: QualityPolicy, *, now: int, ended_only: bool = False
) -> int:
    """Step 1 for epoch `epoch`: reserve every job's newly paid answers (`paid_answers` at time
    `now`) into one release row per job (only jobs that have ended by `now`, with `ended_only`:
    their answers are final). A job that already has a pending or released row for this epoch
    is left for the next one; one whose release for this epoch failed but stays owed is reserved
    again (a retry). A job whose escrow was refunded (a forfeited release) is never reserved
    again. Returns the number of rows reserved."""
    jobs = select(LabelJob).order_by(LabelJob.job_id)
    if ended_only:
        jobs = jobs.where(LabelJob.ends_at <= now)
    reserved = 0
    for job in session.scalars(jobs):
        releases = list(
            session.scalars(select(LabelRelease).where(LabelRelease.job_id == job.job_id))
        )
        if any(is_forfeited(session, r) for r in releases):
            continue
        this = next((r for r in releases if r.epoch == epoch), None)
        if this is not None and is_committed(this):
            continue
        payable = _payable(session, job, policy, now)
        if not payable:
            continue
        rows = session.execute(
            select(LabelAnswer, LabelItem.position)
            .join(LabelItem, LabelItem.id == LabelAnswer.item_id)
            .where(LabelItem.job_id == job.job_id)
            .order_by(LabelItem.position, LabelAnswer.labeler)
        ).all()
        committed = sum(int(r.amount) for r in releases if is_committed(r))
        price = int(job.price)
        owed = owed_answers([(a, p) for a, p in rows], payable, int(job.escrow) - committed, price)
        if not owed:
            continue
        if this is None:
            this = LabelRelease(epoch=epoch, job_id=job.job_id, amount="0")
            session.add(this)
            session.flush()
        this.amount, this.failure, this.tx_hash = str(price * len(owed)), None, None
        for answer in owed:
            answer.release_id, answer.amount = this.id, str(price)
        reserved += 1
    return reserved


def pending_releases(session: Session, epoch: int) -> list[PendingRelease]:
    rows = session.scalars(
        select(LabelRelease)
        .where(
            LabelRelease.epoch == epoch,
            LabelRelease.tx_hash.is_(None),
            LabelRelease.failure.is_(None),
        )
        .order_by(LabelRelease.id)
    )
    return [PendingRelease(r.id, r.job_id, int(r.amount)) for r in rows]


def released_total(session: Session, job_id: str) -> int:
    """What this node recorded as released on-chain for `job_id`."""
    rows = session.scalars(
        select(LabelRelease).where(
            LabelRelease.job_id == job_id,
            LabelRelease.tx_hash.is_not(None),
            LabelRelease.failure.is_(None),
        )
    )
    return sum(int(r.amount) for r in rows)


def record_release(session: Session, row_id: int, tx_hash: str) -> None:
    session.get_one(LabelRelease, row_id).tx_hash = tx_hash


def record_failure(session: Session, row_id: int, reason: str, *, forfeited: bool) -> None:
    """The release reverted with `reason`: its answers leave the epoch, unreserved (still
    owed) unless `forfeited` (the escrow was refunded), in which case they stay on the row."""
    session.get_one(LabelRelease, row_id).failure = reason
    if not forfeited:
        session.execute(
            update(LabelAnswer)
            .where(LabelAnswer.release_id == row_id)
            .values(release_id=None, amount=None)
        )


def labeling_lines(session: Session, epoch: int) -> list[Line]:
    """Step 3: the payout lines of the answers on releases of epoch `epoch` that are on-chain:
    one line `label:<job id>` per labeler and job, the sum of its answers' amounts."""
    lines: list[Line] = []
    releases = session.scalars(
        select(LabelRelease)
        .where(
            LabelRelease.epoch == epoch,
            LabelRelease.tx_hash.is_not(None),
            LabelRelease.failure.is_(None),
        )
        .order_by(LabelRelease.job_id)
    )
    for release in releases:
        earned: dict[str, int] = {}
        for answer in session.scalars(
            select(LabelAnswer).where(LabelAnswer.release_id == release.id)
        ):
            earned[answer.labeler] = earned.get(answer.labeler, 0) + int(answer.amount)
        if sum(earned.values()) != int(release.amount):
            raise PayoutError(
                f"job {release.job_id}'s release of epoch {epoch} does not match its answers "
                "(a bug)"
            )
        lines += [
            Line(labeler, f"label:{release.job_id}", LABELING, amount)
            for labeler, amount in sorted(earned.items())
        ]
    return lines


def mark_labels_paid(session: Session, epoch: int) -> None:
    """Mark the answers of epoch `epoch`'s on-chain releases paid: call it in the transaction
    that marks the epoch posted."""
    released = select(LabelRelease.id).where(
        LabelRelease.epoch == epoch,
        LabelRelease.tx_hash.is_not(None),
        LabelRelease.failure.is_(None),
    )
    session.execute(
        update(LabelAnswer).where(LabelAnswer.release_id.in_(released)).values(paid_epoch=epoch)
    )


def left_out(session: Session, epoch: int) -> list[LeftOut]:
    """The jobs whose release for epoch `epoch` reverted, with the reason."""
    rows = session.scalars(
        select(LabelRelease)
        .where(LabelRelease.epoch == epoch, LabelRelease.failure.is_not(None))
        .order_by(LabelRelease.job_id)
    )
    return [
        LeftOut(r.job_id, int(r.amount), r.failure or "", is_forfeited(session, r)) for r in rows
    ]
