"""The labeling marketplace's bookkeeping: jobs, task assignment, signed answers.

- A **job** is a canonical JSON spec (title, instructions, label names, overlap, price per
  accepted label, end time, items with optional gold answers, requester). Its id is the keccak256
  of that JSON; the requester escrows `price x overlap x (non-gold items)` under that id in
  `Bounties.vy`, naming this node's operator as the one who releases it. Tasks are served only
  once the escrow is on-chain. The node draws a random secret per job, kept in its database and
  never served; it numbers the items (a keyed shuffle of the spec's order).
- **Assignment** (`_serving`): a labeler holds at most one task per job (asking again returns it
  until it is answered or expires); otherwise it gets the first item in its own keyed order that
  it was never assigned and that has fewer than `overlap` live or answered assignments, gold or
  not alike. An assignment lives `ASSIGNMENT_TTL_S`; an expired, unanswered one frees its slot,
  and that item is not served to that labeler again.
- **Answers** are EIP-712 `LabelAnswer(bytes32 job, uint256 item, address labeler, uint256
  label)` signatures in the node's domain. Refused: a bad signature, an item not assigned to the
  signer (or whose assignment expired), a second answer, an answer after the job's end, a label
  out of range.
- **Pay** (`_pay`): at each payout epoch, every job's answers are judged by
  `_quality.paid_answers`; each paid answer not yet paid nor reserved is reserved at `price`
  into the job's escrow release, and enters the epoch only once that release is on-chain; it is
  marked paid when the epoch is posted. A labeler's answers released in one epoch for one job
  are one payout line `label:<job id>` (so earnings name no item: which items were paid would
  say which were not gold). A job never pays more than its escrow, and a job whose release
  fails is left out of the epoch without holding it up.
- **Gold stays on the node** until the job ends: no task, answer or earning says which items are
  gold, and the labels are exported only after the end.
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
from aigora.labels._quality import Answer, LabelingError, QualityPolicy, paid_answers
from aigora.labels._serving import item_positions, job_secret, next_position
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


def create_job(session: Session, spec: JobSpec, *, secret: bytes | None = None) -> LabelJob:
    """Record a job (idempotent: the same spec is the same job). `secret` keys its numbers and
    serving orders: a fresh random one (`job_secret`) unless given, which only tests do, so that
    what each labeler is served is the same on every run."""
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
        secret="0x" + (secret := job_secret() if secret is None else secret).hex(),
        created_at=datetime.now(UTC),
    )
    session.add(job)
    session.flush()
    positions = item_positions(secret, len(spec.items))
    session.add_all(
        LabelItem(job_id=job_id, position=positions[i], text=item.text, gold=item.gold)
        for i, item in enumerate(spec.items)
    )
    return job


@dataclass(frozen=True)
class Task:
    """One item to label, as a labeler sees it (gold or not is not said)."""

    job_id: str
    item: int  # the item's number in the job (a keyed shuffle of the spec's order)
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
) -> Task | None:
    """Assign `labeler` its next item among the funded, running jobs (None: nothing to do)."""
    jobs = session.scalars(
        select(LabelJob)
        .where(LabelJob.job_id.in_(list(funded)), LabelJob.ends_at > now)
        .order_by(LabelJob.created_at, LabelJob.job_id)
    ).all()
    for job in jobs:
        held = _held(session, job, labeler, now)
        if held is not None:
            item, expires = held
        else:
            item = _pick_item(session, job, labeler, now)
            if item is None:
                continue
            expires = min(now + ASSIGNMENT_TTL_S, job.ends_at)
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


def _held(session: Session, job: LabelJob, labeler: str, now: int) -> tuple[LabelItem, int] | None:
    """The labeler's live, unanswered assignment in `job` and its expiry, if it holds one."""
    row = session.execute(
        select(LabelItem, LabelAssignment.expires_at)
        .join(LabelAssignment, LabelAssignment.item_id == LabelItem.id)
        .where(
            LabelItem.job_id == job.job_id,
            LabelAssignment.labeler == labeler,
            LabelAssignment.expires_at > now,
            LabelItem.id.not_in(_answered_by(labeler)),
        )
    ).first()
    return None if row is None else (row[0], row[1])


def _pick_item(session: Session, job: LabelJob, labeler: str, now: int) -> LabelItem | None:
    """The first open item in the labeler's keyed order (`_serving`): never assigned to it, with
    fewer than `overlap` live or answered assignments. Gold plays no part in the choice."""
    mine = select(LabelAssignment.item_id).where(LabelAssignment.labeler == labeler)
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
    open_items = dict(
        session.execute(
            select(LabelItem.position, LabelItem.id)
            .where(LabelItem.job_id == job.job_id, LabelItem.id.not_in(mine))
            .outerjoin(live, live.c.item_id == LabelItem.id)
            .where(func.coalesce(live.c.taken, 0) < job.overlap)
        ).all()
    )
    position = next_position(bytes.fromhex(job.secret[2:]), labeler, open_items)
    if position is None:
        return None
    return session.get(LabelItem, open_items[position])


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


def _served(session: Session, job_id: str) -> tuple[dict[str, list[Answer]], dict[str, int]]:
    """Each labeler's answers in the order it gave them (one task at a time: the order served),
    and the gold labels, items named by their numbers."""
    rows = session.execute(
        select(LabelAnswer.labeler, LabelItem.position, LabelAnswer.label)
        .join(LabelItem, LabelItem.id == LabelAnswer.item_id)
        .where(LabelItem.job_id == job_id)
        .order_by(LabelAnswer.id)
    ).all()
    served: dict[str, list[Answer]] = {}
    for labeler, position, label in rows:
        served.setdefault(labeler, []).append(Answer(str(position), labeler, label))
    gold = {
        str(item.position): item.gold
        for item in session.scalars(
            select(LabelItem).where(LabelItem.job_id == job_id, LabelItem.gold.is_not(None))
        )
    }
    return served, gold


def accepted_labels(
    session: Session, job_id: str, policy: QualityPolicy, now: int
) -> list[dict[str, Any]]:
    """The job's items with a trusted label, as validation rows `{"text", "label"}`: gold items
    with their known answer, others whose aggregate (over qualified labelers) clears the policy.
    Only after the job's end: before it, these rows would tell its labelers which items are gold
    (gold rows, and work items among the rows)."""
    job = session.get(LabelJob, job_id)
    if job is None:
        raise NotFound(f"no labeling job {job_id}")
    if now < job.ends_at:
        raise LabelingError(
            f"job {job_id} runs until {job.ends_at}: its labels are exported after it ends, "
            "so that no one labeling it learns which items are gold"
        )
    served, gold = _served(session, job_id)
    judged = paid_answers(served, job.label_count, gold, policy, ended=True)[0] if served else None
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
