"""Which published content a snapshot admits, and building the next snapshot from the last one.

Admission follows a reputation policy that admits everything by default. A passage is a text
body (any `text/*` media type, or JSON), decoded as UTF-8; the engine reads its first
`max_tokens` tokens. Bodies that are not text are skipped with the reason.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from aigora.index._snapshot import Snapshot, SnapshotBasis, SnapshotError
from aigora.store.blobs import BlobStore
from aigora.store.content_models import ContentItem, ContentScoreRecord, ReputationRun
from aigora.store.db import session_scope
from aigora.store.models import Anchor

TEXT_MEDIA_TYPES = ("text/", "application/json")


@dataclass(frozen=True)
class AdmissionPolicy:
    """`min_score`: admit only content whose newest reputation score is at least this (None:
    admit everything); `admit_unscored`: whether content no run has scored yet is admitted when
    a minimum is set; `exclude_statuses`: statuses never admitted (e.g. "not helpful");
    `licenses`: the only licences admitted (empty: any); `removed`: CIDs never admitted, with
    the reason; `anchored_only` (a node in a network): admit only content anchored on the
    network's registry, so no answer or snapshot reveals a passage's CID before its author's
    manifest is anchored (anyone who learned the CID first could anchor a manifest of their own
    for it). In a network the snapshot's universe is also bounded: content anchored in batches
    up to `through_batch`, less the `skipped` batches (anchored, but which nobody could serve
    the node), so that anyone holding the same batches derives the same admitted set."""

    min_score: float | None = None
    admit_unscored: bool = True
    exclude_statuses: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    removed: Mapping[str, str] = field(default_factory=dict)
    anchored_only: bool = False
    through_batch: int | None = None
    skipped: frozenset[int] = frozenset()

    def refusal(
        self, cid: str, license: str, score: float | None, status: str | None
    ) -> str | None:
        """Why the policy refuses this item, or None when it admits it (removal first, then
        licence, status and score: the reason a verifier names is the most specific one)."""
        return self.content_refusal(cid, license) or self.score_refusal(score, status)

    def content_refusal(self, cid: str, license: str) -> str | None:
        """Why the item itself is refused whatever its reputation: removed, or its licence."""
        if cid in self.removed:
            return f"removed by the community: {self.removed[cid]}"
        if self.licenses and license not in self.licenses:
            return f"licence {license!r} is not one the policy admits"
        return None

    def score_refusal(self, score: float | None, status: str | None) -> str | None:
        """Why the item's reputation keeps it out, or None."""
        if status is not None and status in self.exclude_statuses:
            return f"its status is {status!r}, which the policy excludes"
        if self.min_score is None:
            return None
        if score is None:
            return None if self.admit_unscored else "unscored, and the policy admits no unscored"
        if score < self.min_score:
            return f"score {score!r} is below the policy's minimum {self.min_score!r}"
        return None

    @property
    def uses_scores(self) -> bool:
        return self.min_score is not None or bool(self.exclude_statuses)

    def admits(self, score: float | None, status: str | None) -> bool:
        return self.score_refusal(score, status) is None


Scores = Mapping[str, tuple[float, str]]
"""CID -> (score, status) of one reputation run."""


class Embedder(Protocol):
    """What a snapshot needs of the engine (`aigora.engine.Encoder` is one): int8 (n, d)."""

    def embed(
        self, sentences: list[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class BuildResult:
    snapshot: Snapshot
    embedded: int
    reused: int
    removed: int
    skipped: dict[str, str] = field(default_factory=dict)


def passage_text(body: bytes, media_type: str) -> str | None:
    """The text a body contributes as a passage, or None when it is not text."""
    if not media_type.startswith(TEXT_MEDIA_TYPES):
        return None
    try:
        text = body.decode("utf-8").removeprefix("\ufeff").strip()
    except UnicodeDecodeError:
        return None
    return text or None


def has_text_content(db: Engine) -> bool:
    """Whether anything published could become a passage (cheap; no model needed to ask)."""
    with session_scope(db) as session:
        conditions = [ContentItem.media_type.startswith(prefix) for prefix in TEXT_MEDIA_TYPES]
        return session.scalar(select(ContentItem.cid).where(or_(*conditions)).limit(1)) is not None


def newest_scores(session: Session) -> dict[str, tuple[float, str]]:
    """The scores of the newest reputation run this node published (empty before any)."""
    run = session.scalar(select(ReputationRun).order_by(ReputationRun.id.desc()).limit(1))
    if run is None:
        return {}
    rows = session.scalars(select(ContentScoreRecord).where(ContentScoreRecord.run_id == run.id))
    return {row.cid: (row.score, row.status) for row in rows}


def candidates(session: Session, policy: AdmissionPolicy) -> list[tuple[str, str, str]]:
    """(CID, media type, licence) of every item in the policy's universe, admitted or not."""
    query = select(ContentItem.cid, ContentItem.media_type, ContentItem.license)
    if policy.anchored_only or policy.through_batch is not None:
        query = query.join(Anchor, ContentItem.anchor_id == Anchor.id)
    if policy.through_batch is not None:
        query = query.where(Anchor.batch_id <= policy.through_batch)
        if policy.skipped:
            query = query.where(Anchor.batch_id.not_in(sorted(policy.skipped)))
    return [(cid, media_type, license) for cid, media_type, license in session.execute(query)]


def admitted(
    session: Session, policy: AdmissionPolicy, scores: Scores | None = None
) -> list[tuple[str, str]]:
    """(CID, media type) of every published item the policy admits, by `scores` (default: the
    newest run's)."""
    if scores is None:
        scores = newest_scores(session) if policy.uses_scores else {}
    result = []
    for cid, media_type, license in candidates(session, policy):
        score, status = scores.get(cid, (None, None))
        if policy.refusal(cid, license, score, status) is None:
            result.append((cid, media_type))
    return result


def build_snapshot(
    session: Session,
    blobs: BlobStore,
    encoder: Embedder,
    model_root: bytes,
    policy: AdmissionPolicy,
    previous: Snapshot | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    scores: Scores | None = None,
    basis: SnapshotBasis | None = None,
) -> BuildResult:
    """The snapshot of what is admitted now (by `scores`, default the newest run's), committed
    to `basis` when given. Items already in `previous` (same model) keep their embeddings; only
    new items are embedded, in one batched call."""
    if previous is not None and previous.model_root != model_root:
        previous = None
    known = previous.positions if previous is not None else {}
    skipped: dict[str, str] = {}
    new_cids: list[str] = []
    new_texts: list[str] = []
    admitted_cids: set[str] = set()
    for cid, media_type in admitted(session, policy, scores):
        if cid in known:
            admitted_cids.add(cid)
            continue
        text = passage_text(blobs.get(cid), media_type)
        if text is None:
            skipped[cid] = f"{media_type} is not UTF-8 text"
            continue
        admitted_cids.add(cid)
        new_cids.append(cid)
        new_texts.append(text)
    vectors = (
        encoder.embed(new_texts, progress=progress) if new_texts else np.zeros((0, 0), np.int8)
    )
    added = {cid: vectors[i] for i, cid in enumerate(new_cids)}
    removed = [cid for cid in known if cid not in admitted_cids]
    if previous is not None:
        snapshot = previous.changed(added, removed, basis)
    elif added:
        snapshot = Snapshot.of(model_root, added, basis=basis)
    else:
        raise SnapshotError("nothing to snapshot: no admitted text content has been published")
    return BuildResult(snapshot, len(added), len(known) - len(removed), len(removed), skipped)
