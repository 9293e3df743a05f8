"""The node's labeling marketplace: jobs funded on-chain, tasks, signed answers, exports.

Rules live in `aigora.labels`; this module adds the chain (a job serves tasks only once its
escrow in `Bounties` names this node's operator and covers the spec) and the clock.
"""

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from web3.contract import Contract

from aigora.app._context import NodeContext
from aigora.chain import JobRecord, TxSigner, read_job
from aigora.core.errors import AigoraError, ContractRevert, NotFound
from aigora.labels import (
    LABEL_ANSWER_TYPES,
    JobSpec,
    QualityPolicy,
    Task,
    accepted_labels,
    create_job,
    next_task,
    pending_releases,
    record_failure,
    record_release,
    released_total,
    reserve_labeling,
    submit_answer,
)
from aigora.store import LabelJob, session_scope


class NoBounties(AigoraError):
    """This node's chain has no bounties contract it knows of."""


class PostedJob(BaseModel):
    """A recorded job: its id, the escrow it needs, and whether that escrow is on-chain."""

    job_id: str
    escrow: str
    funded: bool


class JobInfo(BaseModel):
    """Whether a job's escrow is on-chain, and the EIP-712 domain and types its answers are
    signed in (`LabelAnswer`)."""

    job_id: str
    funded: bool
    domain: dict[str, Any]
    types: dict[str, Any] = LABEL_ANSWER_TYPES


class NextTask(BaseModel):
    """The labeler's next assignment; `task` is null when there is nothing to do. The answer
    is signed as EIP-712 `LabelAnswer` (`types`) in `domain`."""

    task: Task | None
    domain: dict[str, Any]
    types: dict[str, Any] = LABEL_ANSWER_TYPES


class AnswerAccepted(BaseModel):
    accepted_for_review: bool
    job_id: str
    item: int


class LabeledRow(BaseModel):
    """An item with a trusted label: one validation row for training value."""

    text: str
    label: int


class LabelExport(BaseModel):
    job_id: str
    rows: list[LabeledRow]


def bounties_of(context: NodeContext) -> Contract:
    bounties = context.deployment.bounties
    if bounties is None:
        raise NoBounties("no bounties contract is deployed for this node")
    return bounties


def quality_policy(context: NodeContext) -> QualityPolicy:
    config = context.config.labels
    return QualityPolicy(
        min_posterior=config.min_posterior,
        min_gold_accuracy=config.min_gold_accuracy,
        min_gold_answers=config.min_gold_answers,
    )


def escrow_state(context: NodeContext, job_id: str) -> JobRecord:
    """The job's escrow as `Bounties` holds it."""
    return read_job(context.chain, bounties_of(context), bytes.fromhex(job_id[2:]))


class Labels:
    def __init__(self, context: NodeContext) -> None:
        self.context = context

    def post(self, spec: JobSpec, *, secret: bytes | None = None) -> PostedJob:
        """Record a job; it serves tasks once `funded` sees its escrow on-chain. `secret`: the
        job's serving secret, for tests only (see `create_job`); a node draws a random one."""
        with session_scope(self.context.db) as session:
            job = create_job(session, spec, secret=secret)
            job_id, escrow = job.job_id, int(job.escrow)
        return PostedJob(job_id=job_id, escrow=str(escrow), funded=self.funded(job_id))

    def post_and_fund(self, spec: JobSpec, requester: TxSigner) -> PostedJob:
        """Record a job and escrow its bounty from `requester` (the spec's requester), who names
        this node's operator as the one that releases it. Funded already: nothing is sent."""
        if requester.address.lower() != spec.requester.lower():
            raise AigoraError(f"the spec's requester is {spec.requester}, not {requester.address}")
        posted = self.post(spec)
        if posted.funded:
            return posted
        context = self.context
        bounties = bounties_of(context)
        chain = context.chain
        chain.transact(
            requester, context.deployment.token.functions.approve(bounties.address, spec.escrow)
        )
        chain.transact(
            requester,
            bounties.functions.open_job(
                bytes.fromhex(posted.job_id[2:]),
                spec.escrow,
                context.operator.address,
                spec.ends_at,
            ),
        )
        return posted.model_copy(update={"funded": self.funded(posted.job_id)})

    def job(self, job_id: str) -> JobInfo:
        return JobInfo(
            job_id=job_id, funded=self.funded(job_id), domain=self.context.domain.as_dict()
        )

    def funded(self, job_id: str) -> bool:
        """True when the job's escrow is on-chain, released by this node, covering the spec."""
        with session_scope(self.context.db) as session:
            job = session.get(LabelJob, job_id)
            if job is None:
                raise NotFound(f"no labeling job {job_id}")
            escrow, ends_at, requester = int(job.escrow), job.ends_at, job.requester
        state = escrow_state(self.context, job_id)
        return (
            state.escrowed >= escrow
            and state.operator == self.context.operator.address
            and state.requester.lower() == requester.lower()
            and state.ends_at == ends_at
        )

    def _funded_jobs(self, now: int) -> list[str]:
        """Running jobs whose escrow is on-chain (one chain read per running job; ended jobs,
        which serve no task, are not read)."""
        with session_scope(self.context.db) as session:
            ids = list(session.scalars(select(LabelJob.job_id).where(LabelJob.ends_at > now)))
        return [job_id for job_id in ids if self.funded(job_id)]

    def next_task(self, labeler: str) -> Task | None:
        now = self.context.chain.now()
        funded = self._funded_jobs(now)
        with session_scope(self.context.db) as session:
            return next_task(session, labeler, now, funded)

    def next(self, labeler: str) -> NextTask:
        """Assign the labeler its next item (and say which domain to sign the answer in)."""
        task = self.next_task(labeler)
        return NextTask(
            task=task,
            domain=self.context.domain.as_dict(),
        )

    def answer(
        self, job_id: str, item: int, labeler: str, label: int, signature: bytes
    ) -> AnswerAccepted:
        """Record a labeler's signed answer to an item assigned to it."""
        now = self.context.chain.now()
        with session_scope(self.context.db) as session:
            submit_answer(
                session, self.context.domain, job_id, item, labeler, label, signature, now
            )
        return AnswerAccepted(accepted_for_review=True, job_id=job_id, item=item)

    def export(self, job_id: str) -> LabelExport:
        """The job's items with a trusted label, as validation rows (once the job has ended)."""
        now = self.context.chain.now()
        with session_scope(self.context.db) as session:
            rows = accepted_labels(session, job_id, quality_policy(self.context), now)
        return LabelExport(job_id=job_id, rows=[LabeledRow.model_validate(r) for r in rows])


RECOVERED = "recovered"
"""The tx_hash recorded for a release found on-chain after a crash (its hash was not kept)."""


def prepare_labeling(context: NodeContext, epoch: int, *, ended_only: bool = False) -> None:
    """Reserve what epoch `epoch` pays labelers and release it from `Bounties`, job by job (only
    jobs that have ended, with `ended_only`: the node does that as soon as a job ends, so its
    escrow is released well before the requester may refund). A job whose release reverts is
    left out of the epoch with the reason; it never stops the others."""
    now = context.chain.now()
    with session_scope(context.db) as session:
        reserve_labeling(session, epoch, quality_policy(context), now=now, ended_only=ended_only)
    release_escrow(context, epoch)


def release_escrow(context: NodeContext, epoch: int) -> None:
    """Release from `Bounties` what epoch `epoch` pays labelers, job by job, exactly once: a
    release recorded without its transaction is checked against the job's on-chain total first
    (a crash after sending leaves it released on-chain, not recorded here). A release that
    reverts (the requester refunded, any other reason) is recorded as failed and left out;
    other errors (the chain unreachable) propagate, and the close is retried as a whole."""
    bounties = bounties_of(context)
    with session_scope(context.db) as session:
        pending = pending_releases(session, epoch)
    for release in pending:
        with session_scope(context.db) as session:
            done = released_total(session, release.job_id)
        state = escrow_state(context, release.job_id)
        if state.released >= done + release.amount:
            with session_scope(context.db) as session:
                record_release(session, release.row_id, RECOVERED)
            continue
        call = bounties.functions.release(bytes.fromhex(release.job_id[2:]), release.amount)
        try:
            tx_hash = context.chain.transact(context.operator, call).tx_hash
        except ContractRevert as exc:
            forfeited = escrow_state(context, release.job_id).refunded > 0
            with session_scope(context.db) as session:
                record_failure(session, release.row_id, exc.reason, forfeited=forfeited)
            continue
        with session_scope(context.db) as session:
            record_release(session, release.row_id, tx_hash)
