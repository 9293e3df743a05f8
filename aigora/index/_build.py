"""Which published content a snapshot admits, and building the next snapshot from the last one.

Admission follows a reputation policy that admits everything by default. A passage is a text
body (any `text/*` media type, or JSON), decoded as UTF-8; the engine reads its first
`max_tokens` tokens. Bodies that are not text are skipped with the reason.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from aigora.index._snapshot import Snapshot, SnapshotError
from aigora.store.blobs import BlobStore
from aigora.store.content_models import ContentItem, ContentScoreRecord, ReputationRun
from aigora.store.db import session_scope

TEXT_MEDIA_TYPES = ("text/", "application/json")


@dataclass(frozen=True)
class AdmissionPolicy:
    """`min_score`: admit only content whose newest reputation score is at least this (None:
    admit everything); `admit_unscored`: whether content no run has scored yet is admitted when
    a minimum is set; `exclude_statuses`: statuses never admitted (e.g. "not helpful");
    `anchored_only` (a node in a network): admit only content anchored on the network's
    registry, so no answer or snapshot reveals a passage's CID before its author's manifest is
    anchored (anyone who learned the CID first could anchor a manifest of their own for it)."""

    min_score: float | None = None
    admit_unscored: bool = True
    exclude_statuses: tuple[str, ...] = ()
    anchored_only: bool = False

    def admits(self, score: float | None, status: str | None) -> bool:
        if status is not None and status in self.exclude_statuses:
            return False
        if self.min_score is None:
            return True
        if score is None:
            return self.admit_unscored
        return score >= self.min_score


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


def admitted(session: Session, policy: AdmissionPolicy) -> list[tuple[str, str]]:
    """(CID, media type) of every published item the policy admits, by the newest run's scores."""
    run = session.scalar(select(ReputationRun).order_by(ReputationRun.id.desc()).limit(1))
    scores: dict[str, tuple[float, str]] = {}
    if run is not None:
        for row in session.scalars(
            select(ContentScoreRecord).where(ContentScoreRecord.run_id == run.id)
        ):
            scores[row.cid] = (row.score, row.status)
    result = []
    query = select(ContentItem.cid, ContentItem.media_type)
    if policy.anchored_only:
        query = query.where(ContentItem.anchor_id.is_not(None))
    for cid, media_type in session.execute(query):
        score, status = scores.get(cid, (None, None))
        if policy.admits(score, status):
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
) -> BuildResult:
    """The snapshot of what is admitted now. Items already in `previous` (same model) keep their
    embeddings; only new items are embedded, in one batched call."""
    if previous is not None and previous.model_root != model_root:
        previous = None
    known = previous.positions if previous is not None else {}
    skipped: dict[str, str] = {}
    new_cids: list[str] = []
    new_texts: list[str] = []
    admitted_cids: set[str] = set()
    for cid, media_type in admitted(session, policy):
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
        snapshot = previous.changed(added, removed)
    elif added:
        snapshot = Snapshot.of(model_root, added)
    else:
        raise SnapshotError("nothing to snapshot: no admitted text content has been published")
    return BuildResult(snapshot, len(added), len(known) - len(removed), len(removed), skipped)
