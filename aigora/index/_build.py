"""Which published content a snapshot admits, and building the next snapshot from the last one.

Admission follows a reputation policy that admits everything by default. Each admitted text
document (see `_passages.document_text`) is cut into passages by the model's passage rule; bodies
that are not text are skipped with the reason.

**Copies earn nothing.** Passages are then grouped by the star rule of `aigora.value`, taking
them in publication order: a passage whose embedding is byte-identical to an earlier one's (as
any two texts are that the tokenizer reads alike: the same words up to case, whitespace and
accents), or whose exact int8 dot product with an earlier representative is at least the
duplicate threshold, is a copy of that representative. Copies are left out of the ranking (the
snapshot records them, see `_snapshot`), so an answer lists each group once, as its earliest
publication, and every usage share goes to that publication's author.

**Publication order** is what nobody can backdate. In a network: the registry batch that
anchored the manifest (a chain fact), then the signed creation time, then the CID. On a node of
its own: the time the node received the manifest, then the CID. A manifest's signed `createdAt`
alone would let a copier who signs an older date become the original.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import numpy as np
from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from aigora.index._passages import (
    TEXT_MEDIA_TYPES,
    PassageRef,
    PassageRule,
    document_text,
    passages_of,
)
from aigora.index._snapshot import Snapshot, SnapshotBasis, SnapshotError, embedding_hash
from aigora.store.blobs import BlobStore
from aigora.store.content_models import ContentItem, ContentScoreRecord, ReputationRun
from aigora.store.db import session_scope
from aigora.store.models import Anchor

DEFAULT_DUPLICATE_THRESHOLD = 15_500
"""int8 dot product at or above which a passage copies an earlier one (cosine about 0.96: two
unit vectors of norm 127 have a dot product of about 16,129)."""


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
    the node), so that anyone holding the same batches derives the same admitted set.
    `duplicate_threshold`: the dot product at which a passage is a copy (the module docstring)."""

    min_score: float | None = None
    admit_unscored: bool = True
    exclude_statuses: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    removed: Mapping[str, str] = field(default_factory=dict)
    anchored_only: bool = False
    through_batch: int | None = None
    skipped: frozenset[int] = frozenset()
    duplicate_threshold: int = DEFAULT_DUPLICATE_THRESHOLD

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
    """What a snapshot needs of the engine (`aigora.engine.Encoder` is one): int8 (n, d)
    embeddings, token counts and the model's passage rule."""

    passage_tokens: int
    passage_overlap: int

    def embed(
        self, sentences: list[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray: ...

    def token_count(self, text: str) -> int: ...


@dataclass(frozen=True)
class BuildResult:
    snapshot: Snapshot
    embedded: int
    reused: int
    removed: int
    skipped: dict[str, str] = field(default_factory=dict)


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


class Candidate(NamedTuple):
    """An item of the universe: `published` sorts items in publication order (the module
    docstring says why it is what it is)."""

    cid: str
    media_type: str
    license: str
    published: tuple[Any, ...]


def candidates(session: Session, policy: AdmissionPolicy) -> list[Candidate]:
    """Every item in the policy's universe, admitted or not, in publication order."""
    anchored = policy.anchored_only or policy.through_batch is not None
    query = select(
        ContentItem.cid,
        ContentItem.media_type,
        ContentItem.license,
        ContentItem.created_at,
        ContentItem.received_at,
        Anchor.batch_id,
    ).outerjoin(Anchor, ContentItem.anchor_id == Anchor.id)
    if anchored:
        query = query.where(Anchor.batch_id.is_not(None))
    if policy.through_batch is not None:
        query = query.where(Anchor.batch_id <= policy.through_batch)
        if policy.skipped:
            query = query.where(Anchor.batch_id.not_in(sorted(policy.skipped)))
    found = [
        Candidate(
            cid,
            media_type,
            license,
            (batch, created, cid) if anchored else (received.timestamp(), cid),
        )
        for cid, media_type, license, created, received, batch in session.execute(query)
    ]
    return sorted(found, key=lambda c: c.published)


def admitted(
    session: Session, policy: AdmissionPolicy, scores: Scores | None = None
) -> list[Candidate]:
    """Every published item the policy admits, by `scores` (default: the newest run's), in
    publication order."""
    if scores is None:
        scores = newest_scores(session) if policy.uses_scores else {}
    result = []
    for candidate in candidates(session, policy):
        score, status = scores.get(candidate.cid, (None, None))
        if policy.refusal(candidate.cid, candidate.license, score, status) is None:
            result.append(candidate)
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
    to `basis` when given. Passages already in `previous` (same model), items and copies alike,
    keep their embeddings; only new documents are cut and embedded, in one batched call.
    `progress(k)` is called as k more passages are embedded."""
    if previous is not None and previous.model_root != model_root:
        previous = None
    known: dict[str, list[tuple[PassageRef, np.ndarray]]] = {}
    if previous is not None:
        for passage, vector in previous.items().items():
            known.setdefault(passage.cid, []).append((passage, vector))
        for copy in previous.copies:
            known.setdefault(copy.passage.cid, []).append((copy.passage, copy.embedding))
        for passages in known.values():
            passages.sort(key=lambda pv: pv[0].index)  # a document's passages in order
    skipped: dict[str, str] = {}
    new: list[PassageRef] = []
    new_texts: list[str] = []
    order: list[str] = []  # admitted documents with passages, in publication order
    rule: PassageRule | None = None
    for candidate in admitted(session, policy, scores):
        cid = candidate.cid
        if cid in known:
            order.append(cid)
            continue
        text = document_text(blobs.get(cid), candidate.media_type)
        if text is None:
            skipped[cid] = f"{candidate.media_type} is not UTF-8 text"
            continue
        rule = rule or PassageRule.of(encoder)
        passages = passages_of(cid, text, encoder.token_count, rule)
        if not passages:
            skipped[cid] = "no text to read"
            continue
        order.append(cid)
        new.extend(passages)
        new_texts.extend(text[p.start : p.end] for p in passages)
    vectors = encoder.embed(new_texts, progress=progress) if new_texts else None
    fresh: dict[str, list[tuple[PassageRef, np.ndarray]]] = {}
    for i, passage in enumerate(new):
        fresh.setdefault(passage.cid, []).append((passage, vectors[i]))
    kept = {cid for cid in order if cid in known}
    removed = [cid for cid in known if cid not in kept]
    kept_copies = {}
    settled = 0
    if previous is not None and _settled(order, kept, removed, previous):
        kept_copies = {c: v for c, v in previous.copy_map().items() if c.cid in kept}
        settled = sum(len(known[cid]) for cid in kept)
    items, copies = group_copies(
        [p for cid in order for p in (known.get(cid) or fresh[cid])],
        policy.duplicate_threshold,
        settled=settled,
        known_copies=kept_copies,
    )
    if not items:
        raise SnapshotError("nothing to snapshot: no admitted text content has been published")
    snapshot = _next(model_root, previous, items, copies, basis)
    return BuildResult(snapshot, len(new), sum(len(known[c]) for c in kept), len(removed), skipped)


def _settled(order: list[str], kept: set[str], removed: list[str], previous: Snapshot) -> bool:
    """Whether the kept passages keep their groups: every new document comes after every kept
    one in publication order (nothing later changes an earlier passage's group), and no removed
    document is the original of a kept copy (an orphaned copy must be grouped again)."""
    seen_new = False
    for cid in order:
        if cid not in kept:
            seen_new = True
        elif seen_new:
            return False
    gone = set(removed)
    return not any(previous.passages[c.of].cid in gone for c in previous.copies)


def group_copies(
    passages: list[tuple[PassageRef, np.ndarray]],
    threshold: int,
    *,
    settled: int = 0,
    known_copies: Mapping[PassageRef, tuple[PassageRef, np.ndarray]] | None = None,
) -> tuple[dict[PassageRef, np.ndarray], dict[PassageRef, tuple[PassageRef, np.ndarray]]]:
    """Items and copies (copy -> (its representative, its embedding)) of `passages`, given in
    publication order, by the star rule (the module docstring). The first `settled` passages
    are grouped already: `known_copies` maps those that are copies to their representatives,
    the others are representatives; only the rest is grouped, against them."""
    from aigora.value import duplicate_groups  # value imports index: import at call time

    known_copies = dict(known_copies or {})
    reps = [(p, v) for p, v in passages[:settled] if p not in known_copies]
    rest = passages[settled:]
    items = dict(reps)
    if not rest:
        return items, known_copies
    pool = reps + rest
    embeddings = np.stack([v for _, v in pool]).astype(np.int8)
    keys = [embedding_hash(v) for _, v in pool]
    groups = duplicate_groups(embeddings, threshold, keys=keys, given=len(reps))
    for i in range(len(reps), len(pool)):
        passage, vector = pool[i]
        if groups[i] == i:
            items[passage] = vector
        else:
            known_copies[passage] = (pool[int(groups[i])][0], vector)
    return items, known_copies


def _next(
    model_root: bytes,
    previous: Snapshot | None,
    items: dict[PassageRef, np.ndarray],
    copies: dict[PassageRef, tuple[PassageRef, np.ndarray]],
    basis: SnapshotBasis | None,
) -> Snapshot:
    """The snapshot of `items` and `copies`: `previous` itself when nothing changed, else its
    next generation."""
    if previous is None:
        return Snapshot.of(model_root, items, basis=basis, copies=copies)
    same = set(items) == set(previous.passages) and {c: o for c, (o, _) in copies.items()} == {
        c: o for c, (o, _) in previous.copy_map().items()
    }
    if same and basis == previous.basis:
        return previous
    return Snapshot.of(model_root, items, previous.generation + 1, basis, copies)
