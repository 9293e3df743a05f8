"""The labeling marketplace's bookkeeping: jobs, task assignment, signed answers, pay lines.

- A **job** is a canonical JSON spec (title, instructions, label names, overlap, price per
  accepted label, end time, items with optional gold answers, requester). Its id is the keccak256
  of that JSON; the requester escrows `price x overlap x (non-gold items)` under that id in
  `Bounties.vy`, naming this node's operator as the one who releases it. Tasks are served only
  once the escrow is on-chain.
- **Assignment**: a labeler first gets the job's gold items it has not answered, until it has
  answered `min_gold_answers` of them (it cannot tell them apart), then the item with the fewest
  live assignments below `overlap`. An assignment lives `ASSIGNMENT_TTL_S`; an expired, unanswered
  one frees its slot.
- **Answers** are EIP-712 `LabelAnswer(bytes32 job, uint256 item, address labeler, uint256
  label)` signatures in the node's domain. Refused: a bad signature, an item not assigned to the
  signer (or whose assignment expired), a second answer, an answer after the job's end, a label
  out of range.
- **Pay** (`_pay`): at each payout epoch, every job's answers are judged (`_quality.judge`); each
  accepted answer not yet paid is reserved at `price` into the job's escrow release, and becomes
  a payout line only once that release is on-chain; it is marked paid when the epoch is posted.
  A job never pays more than its escrow, and a job whose release fails is left out of the epoch
  without holding it up.
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aigora.core.canonical import canonical_json
from aigora.core.eip712 import Domain, recover_typed
from aigora.core.errors import AigoraError, NotFound, SignatureError
from aigora.core.hashing import keccak
from aigora.labels._quality import Answer, LabelingError, QualityPolicy, judge
from aigora.store.label_models import (
    LabelAnswer,
    LabelAssignment,
    LabelItem,
    LabelJob,
)

LABELING = "labeling"
ASSIGNMENT_TTL_S = 3600
LABEL_ANSWER_TYPES = {
    "LabelAnswer": [
        {"name": "job", "type": "bytes32"},
        {"name": "item", "type": "uint256"},
        {"name": "labeler", "type": "address"},
        {"name": "label", "type": "uint256"},
    ]
}


class JobItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20_000)
    gold: int | None = Field(default=None, ge=0)


class JobSpec(BaseModel):
    """What a requester posts; every field is part of the job id."""

    model_config = ConfigDict(extra="forbid")

    requester: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    title: str = Field(min_length=1, max_length=200)
    instructions: str = Field(max_length=20_000)
    labels: list[str] = Field(min_length=2, max_length=64)
    overlap: int = Field(ge=1, le=25)
    price: str = Field(pattern=r"^[1-9][0-9]{0,77}$")
    ends_at: int = Field(gt=0, lt=2**63)
    items: list[JobItem] = Field(min_length=1, max_length=100_000)

    @field_validator("items")
    @classmethod
    def _some_gold_some_work(cls, items: list[JobItem]) -> list[JobItem]:
        if not any(i.gold is not None for i in items):
            raise ValueError("a job needs gold items (known answers) to measure its labelers")
        if all(i.gold is not None for i in items):
            raise ValueError("a job needs items without a known answer to be worth labeling")
        return items

    def check_gold(self) -> None:
        for index, item in enumerate(self.items):
            if item.gold is not None and item.gold >= len(self.labels):
                raise LabelingError(f"item {index}: gold label {item.gold} is not a label index")

    @property
    def work_items(self) -> int:
        return sum(1 for i in self.items if i.gold is None)

    @property
    def escrow(self) -> int:
        """What the requester must escrow: every work item's overlap, at the full price."""
        return int(self.price) * self.overlap * self.work_items


def parse_spec(raw: bytes | str | Mapping[str, Any]) -> JobSpec:
    try:
        data = json.loads(raw) if isinstance(raw, bytes | str) else dict(raw)
        spec = JobSpec.model_validate(data)
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise LabelingError(f"job spec: {where}: {first['msg']}") from None
        raise LabelingError(f"a job spec must be a JSON object: {exc}") from None
    spec.check_gold()
    return spec


def job_id_of(spec: JobSpec) -> str:
    return "0x" + keccak(canonical_json(spec.model_dump())).hex()


def create_job(session: Session, spec: JobSpec) -> LabelJob:
    """Record a job (idempotent: the same spec is the same job)."""
    job_id = job_id_of(spec)
    existing = session.get(LabelJob, job_id)
    if existing is not None:
        return existing
    job = LabelJob(
        job_id=job_id,
        requester=spec.requester,
        spec=canonical_json(spec.model_dump()).decode(),
        label_count=len(spec.labels),
        overlap=spec.overlap,
        price=spec.price,
        ends_at=spec.ends_at,
        escrow=str(spec.escrow),
        created_at=datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    session.add_all(
        LabelItem(job_id=job_id, position=i, text=item.text, gold=item.gold)
        for i, item in enumerate(spec.items)
    )
    return job


@dataclass(frozen=True)
class Task:
    """One item to label, as a labeler sees it (gold or not is not said)."""

    job_id: str
    item: int
    text: str
    labels: list[str]
    instructions: str
    expires_at: int


def _spec(job: LabelJob) -> dict[str, Any]:
    return json.loads(job.spec)


def next_task(
    session: Session,
    labeler: str,
    now: int,
    funded: Sequence[str],
    policy: QualityPolicy,
) -> Task | None:
    """Assign `labeler` its next item among the funded, running jobs (None: nothing to do)."""
    jobs = session.scalars(
        select(LabelJob)
        .where(LabelJob.job_id.in_(list(funded)), LabelJob.ends_at > now)
        .order_by(LabelJob.created_at, LabelJob.job_id)
    ).all()
    for job in jobs:
        item = _pick_item(session, job, labeler, now, policy)
        if item is None:
            continue
        expires = min(now + ASSIGNMENT_TTL_S, job.ends_at)
        stale = session.scalars(
            select(LabelAssignment).where(
                LabelAssignment.item_id == item.id, LabelAssignment.labeler == labeler
            )
        ).first()
        if stale is not None:
            stale.assigned_at, stale.expires_at = now, expires
        else:
            session.add(
                LabelAssignment(
                    item_id=item.id, labeler=labeler, assigned_at=now, expires_at=expires
                )
            )
        spec = _spec(job)
        return Task(
            job.job_id, item.position, item.text, spec["labels"], spec["instructions"], expires
        )
    return None


def _pick_item(
    session: Session, job: LabelJob, labeler: str, now: int, policy: QualityPolicy
) -> LabelItem | None:
    mine = select(LabelAssignment.item_id).where(
        LabelAssignment.labeler == labeler,
        (LabelAssignment.expires_at > now) | LabelAssignment.item_id.in_(_answered_by(labeler)),
    )
    golds_answered = session.scalar(
        select(func.count())
        .select_from(LabelAnswer)
        .join(LabelItem, LabelItem.id == LabelAnswer.item_id)
        .where(
            LabelItem.job_id == job.job_id,
            LabelItem.gold.is_not(None),
            LabelAnswer.labeler == labeler,
        )
    )
    candidates = select(LabelItem).where(LabelItem.job_id == job.job_id, LabelItem.id.not_in(mine))
    if golds_answered < policy.min_gold_answers:
        gold = session.scalars(
            candidates.where(LabelItem.gold.is_not(None)).order_by(LabelItem.position)
        ).first()
        if gold is not None:
            return gold
    answered = (LabelAnswer.item_id == LabelAssignment.item_id) & (
        LabelAnswer.labeler == LabelAssignment.labeler
    )
    live = (
        select(LabelAssignment.item_id, func.count().label("taken"))
        .outerjoin(LabelAnswer, answered)
        .where((LabelAssignment.expires_at > now) | LabelAnswer.id.is_not(None))
        .group_by(LabelAssignment.item_id)
        .subquery()
    )
    return session.scalars(
        candidates.where(LabelItem.gold.is_(None))
        .outerjoin(live, live.c.item_id == LabelItem.id)
        .where(func.coalesce(live.c.taken, 0) < job.overlap)
        .order_by(func.coalesce(live.c.taken, 0), LabelItem.position)
    ).first()


def _answered_by(labeler: str):
    return select(LabelAnswer.item_id).where(LabelAnswer.labeler == labeler)


def answer_message(job_id: str, item: int, labeler: str, label: int) -> dict[str, Any]:
    return {"job": job_id, "item": item, "labeler": labeler, "label": label}


def submit_answer(
    session: Session,
    domain: Domain,
    job_id: str,
    item: int,
    labeler: str,
    label: int,
    signature: bytes,
    now: int,
) -> LabelAnswer:
    """Check and record one signed answer; `LabelingError` says why one is refused."""
    try:
        signer = recover_typed(
            domain,
            LABEL_ANSWER_TYPES,
            "LabelAnswer",
            answer_message(job_id, item, labeler, label),
            signature,
        )
    except (SignatureError, AigoraError) as exc:
        raise LabelingError(f"the answer's signature does not verify: {exc}") from None
    if signer.lower() != labeler.lower():
        raise LabelingError("the answer is not signed by the labeler it names")
    job = session.get(LabelJob, job_id)
    if job is None:
        raise NotFound(f"no labeling job {job_id}")
    if now >= job.ends_at:
        raise LabelingError("the job has ended: answers are no longer taken")
    if not 0 <= label < job.label_count:
        raise LabelingError(f"label {label} is not one of the job's {job.label_count} labels")
    row = session.scalars(
        select(LabelItem).where(LabelItem.job_id == job_id, LabelItem.position == item)
    ).first()
    if row is None:
        raise NotFound(f"job {job_id} has no item {item}")
    assignment = session.scalars(
        select(LabelAssignment).where(
            LabelAssignment.item_id == row.id, LabelAssignment.labeler == signer
        )
    ).first()
    if assignment is None:
        raise LabelingError("this item was not assigned to this labeler")
    previous = session.scalars(
        select(LabelAnswer).where(LabelAnswer.item_id == row.id, LabelAnswer.labeler == signer)
    ).first()
    if previous is not None:
        raise LabelingError("this labeler already answered this item")
    if now > assignment.expires_at:
        raise LabelingError("the assignment expired; ask for a new task")
    answer = LabelAnswer(
        item_id=row.id,
        labeler=signer,
        label=label,
        signature="0x" + signature.hex(),
        submitted_at=now,
    )
    session.add(answer)
    return answer


def _job_answers(
    session: Session, job_id: str
) -> tuple[list[tuple[LabelAnswer, LabelItem]], dict[str, int]]:
    rows = session.execute(
        select(LabelAnswer, LabelItem)
        .join(LabelItem, LabelItem.id == LabelAnswer.item_id)
        .where(LabelItem.job_id == job_id)
        .order_by(LabelItem.position, LabelAnswer.labeler)
    ).all()
    gold = {
        str(item.position): item.gold
        for item in session.scalars(
            select(LabelItem).where(LabelItem.job_id == job_id, LabelItem.gold.is_not(None))
        )
    }
    return [(a, i) for a, i in rows], gold


def accepted_labels(session: Session, job_id: str, policy: QualityPolicy) -> list[dict[str, Any]]:
    """The job's items with a trusted label, as validation rows `{"text", "label"}`: gold items
    with their known answer, others whose aggregate posterior clears the policy."""
    rows, gold = _job_answers(session, job_id)
    job = session.get(LabelJob, job_id)
    if job is None:
        raise NotFound(f"no labeling job {job_id}")
    answers = [Answer(str(item.position), a.labeler, a.label) for a, item in rows]
    judged = judge(answers, job.label_count, gold, policy) if answers else None
    out = []
    for item in session.scalars(
        select(LabelItem).where(LabelItem.job_id == job_id).order_by(LabelItem.position)
    ):
        if item.gold is not None:
            out.append({"text": item.text, "label": item.gold})
        elif judged is not None and str(item.position) in judged.labels:
            label = judged.labels[str(item.position)]
            if label.posterior >= policy.min_posterior:
                out.append({"text": item.text, "label": label.label})
    return out
