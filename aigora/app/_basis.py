"""What a network snapshot is built under, derived the same way by its builder and by anyone who
checks it: the policy in force (from the Governor), the universe of anchored batches, and the
reputation run the policy's scores come from.

The builder (`plan_basis`) fixes the universe: every content or attestation batch the node's scan
found, up to the highest one (`through_batch`), less the ones still pending because nobody could
serve them (`skipped`). A checker (`derive_admission`) takes a snapshot's committed basis and
recomputes, from its own store, the reputation run (which must have the committed digest) and
which CIDs the policy admits and refuses, with the reason. The two share every function.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from aigora.app._governance import Governance
from aigora.chain import EnactmentRecord
from aigora.content import Universe, compute_run
from aigora.governance import Policy
from aigora.index import (
    DEFAULT_DUPLICATE_THRESHOLD,
    AdmissionPolicy,
    Snapshot,
    SnapshotBasis,
    candidates,
    document_text,
)
from aigora.reputation import ReputationParams
from aigora.store import Anchor, AnchorKind, BlobStore, ContentItem, PeerBatch, session_scope
from aigora.verify import AdmissionFacts

ZERO = bytes(32)


@dataclass(frozen=True)
class Plan:
    """The admission rule, the scores it reads and the basis the snapshot commits to."""

    rule: AdmissionPolicy
    scores: Mapping[str, tuple[float, str]]
    basis: SnapshotBasis


@dataclass(frozen=True)
class Derivation:
    """What a basis makes of one store: `admitted` CIDs (text ones: what must be in the
    snapshot), `refused` CIDs with the policy's reason, the run's digest, and `unknown`: what
    the store cannot decide (batches of the universe it has not imported)."""

    admitted: frozenset[str]
    refused: Mapping[str, str]
    reputation: bytes
    missing_batches: tuple[int, ...]
    skipped_only: frozenset[str] = frozenset()
    published: Mapping[str, tuple] = field(default_factory=dict)
    duplicate_threshold: int = DEFAULT_DUPLICATE_THRESHOLD
    cuts: Mapping[str, tuple[tuple[int, int, int], ...]] = field(default_factory=dict)
    """CID -> the passage rule's (index, start, end) of each admitted document (with a cutter)."""
    texts: Mapping[str, str] = field(default_factory=dict)
    """CID -> the text of each admitted document (with a cutter): what a sample re-embeds."""


Cutter = Callable[[str], Sequence[tuple[int, int, int]]]
"""Document text -> the passage rule's (index, start, end) of it."""


def admission_rule(policy: Policy, universe: Universe) -> AdmissionPolicy:
    """The policy's admission section as the index's rule, over `universe`."""
    admission = policy.admission
    return AdmissionPolicy(
        min_score=admission.min_score,
        admit_unscored=admission.admit_unscored,
        exclude_statuses=tuple(admission.exclude_statuses),
        licenses=tuple(admission.licenses),
        removed={r.cid: r.reason for r in admission.removed},
        anchored_only=True,
        through_batch=universe.through_batch,
        skipped=universe.skipped,
        duplicate_threshold=policy.objectives.duplicate_threshold,
    )


def reputation_params(policy: Policy) -> ReputationParams:
    return ReputationParams(seeds=tuple(policy.reputation.seeds), damping=policy.reputation.damping)


def network_universe(db: Engine, chain_id: int, registry: str) -> Universe:
    """Every content or attestation batch the scan found or this node anchored itself, less
    those nobody has served yet."""
    with session_scope(db) as session:
        where = (PeerBatch.chain_id == chain_id, PeerBatch.registry_address == registry)
        found = session.scalar(select(func.max(PeerBatch.batch_id)).where(*where)) or 0
        own = (
            session.scalar(
                select(func.max(Anchor.batch_id)).where(
                    Anchor.chain_id == chain_id,
                    Anchor.kind.in_((AnchorKind.CONTENT.value, AnchorKind.ATTESTATIONS.value)),
                )
            )
            or 0
        )
        through = max(found, own)
        pending = session.scalars(
            select(PeerBatch.batch_id).where(*where, PeerBatch.state == "pending")
        )
        return Universe(through_batch=int(through), skipped=frozenset(int(b) for b in pending))


def run_scores(
    db: Engine, policy: Policy, universe: Universe
) -> tuple[dict[str, tuple[float, str]], bytes]:
    """The scores and digest of the run over the universe with the policy's parameters (no
    scores and a zero digest when the policy's admission uses none)."""
    if not policy.admission.uses_scores:
        return {}, ZERO
    _, result = compute_run(db, reputation_params(policy), anchored_only=True, universe=universe)
    scores = {cid: (s.score, s.status) for cid, s in result.scores.items()}
    return scores, result.digest()


def plan_basis(db: Engine, policy: Policy, universe: Universe) -> Plan:
    scores, digest = run_scores(db, policy, universe)
    basis = SnapshotBasis(
        policy_hash=policy.hash(),
        through_batch=universe.through_batch or 0,
        reputation=digest,
        skipped=tuple(sorted(universe.skipped)),
    )
    return Plan(admission_rule(policy, universe), scores, basis)


def derive_admission(
    db: Engine,
    blobs: BlobStore,
    policy: Policy,
    basis: SnapshotBasis,
    *,
    chain_id: int,
    registry: str,
    cutter: Cutter | None = None,
) -> Derivation:
    """Which CIDs a snapshot with `basis` had to admit and had to leave out, from this store;
    with `cutter`, also how the passage rule cuts each admitted document."""
    universe = Universe(through_batch=basis.through_batch, skipped=frozenset(basis.skipped))
    scores, digest = run_scores(db, policy, universe)
    rule = admission_rule(policy, universe)
    admitted: set[str] = set()
    refused: dict[str, str] = {}
    skipped_only: set[str] = set()
    with session_scope(db) as session:
        in_universe = set()
        published: dict[str, tuple] = {}
        cuts: dict[str, tuple[tuple[int, int, int], ...]] = {}
        texts: dict[str, str] = {}
        for cid, media_type, license, order in candidates(session, rule):
            in_universe.add(cid)
            published[cid] = order
            score, status = scores.get(cid, (None, None))
            reason = rule.refusal(cid, license, score, status)
            text = document_text(blobs.get(cid), media_type) if reason is None else None
            if reason is None and text is None:
                reason = f"{media_type} is not UTF-8 text"
            if reason is None:
                admitted.add(cid)
                if cutter is not None:
                    cuts[cid], texts[cid] = tuple(cutter(text)), text
            else:
                refused[cid] = reason
        outside = session.execute(
            select(ContentItem.cid, ContentItem.license, Anchor.batch_id).outerjoin(
                Anchor, ContentItem.anchor_id == Anchor.id
            )
        )
        for cid, license, batch in outside:
            if cid in in_universe:
                continue
            # Rules that need no score hold for every CID, wherever it was anchored.
            reason = rule.content_refusal(cid, license)
            if reason is not None:
                refused[cid] = reason
            elif batch is None:
                refused[cid] = "not anchored on the network"
            elif batch > basis.through_batch:
                refused[cid] = (
                    f"anchored in batch {batch}, after the snapshot's universe "
                    f"(through batch {basis.through_batch})"
                )
            else:
                skipped_only.add(cid)  # its first batch is one the basis skipped
        where = (PeerBatch.chain_id == chain_id, PeerBatch.registry_address == registry)
        missing = tuple(
            int(b)
            for b in session.scalars(
                select(PeerBatch.batch_id).where(
                    *where,
                    PeerBatch.state == "pending",
                    PeerBatch.batch_id <= basis.through_batch,
                )
            )
            if int(b) not in basis.skipped
        )
    return Derivation(
        frozenset(admitted),
        refused,
        digest,
        missing,
        frozenset(skipped_only),
        published,
        rule.duplicate_threshold,
        cuts,
        texts,
    )


def policy_problem(
    enactments: Sequence[EnactmentRecord], policy_hash: bytes, issued_at: int, grace_s: int
) -> str | None:
    """Whether a receipt issued at `issued_at` may answer under `policy_hash`: it must have been
    enacted by then, and not superseded by a policy in force for longer than `grace_s` (the
    disputes contract's stale grace: time for an operator to re-snapshot)."""
    settled = [i for i, e in enumerate(enactments) if e.timestamp + grace_s < issued_at]
    floor = settled[-1] if settled else 0
    matches = [i for i, e in enumerate(enactments) if e.policy_hash == policy_hash]
    if not matches:
        return f"the snapshot was built under policy 0x{policy_hash.hex()}, never in force"
    if all(enactments[i].timestamp > issued_at for i in matches):
        return (
            f"the snapshot was built under policy 0x{policy_hash.hex()}, not yet in force "
            "when this answer was given"
        )
    if not any(floor <= i and enactments[i].timestamp <= issued_at for i in matches):
        current = enactments[floor]
        return (
            f"the snapshot was built under policy 0x{policy_hash.hex()}, superseded by "
            f"0x{current.policy_hash.hex()} (in force since {current.timestamp}) when this "
            "answer was given"
        )
    return None


def admission_facts(
    db: Engine,
    blobs: BlobStore,
    governance: Governance,
    snapshot: Snapshot,
    *,
    issued_at: int,
    grace_s: int,
    chain_id: int,
    registry: str,
    cutter: Cutter | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    sample: Callable[[frozenset[str]], Sequence[str]] | None = None,
) -> AdmissionFacts:
    """What this store makes of the snapshot's basis, for `check_admission`; with `cutter`, the
    rule's passages of each admitted document, and with `embed` and `sample` (admitted CIDs ->
    those to re-embed), those documents' texts and the engine to re-embed them."""
    basis = snapshot.basis
    if basis is None:
        return AdmissionFacts(policy_problem=None)
    problem = policy_problem(governance.enactments(), basis.policy_hash, issued_at, grace_s)
    if problem is not None:
        return AdmissionFacts(policy_problem=problem)
    policy = governance.policy_by_hash(basis.policy_hash)
    derived = derive_admission(
        db, blobs, policy, basis, chain_id=chain_id, registry=registry, cutter=cutter
    )
    with session_scope(db) as session:
        held = tuple(
            int(b)
            for b in session.scalars(
                select(PeerBatch.batch_id).where(
                    PeerBatch.chain_id == chain_id,
                    PeerBatch.registry_address == registry,
                    PeerBatch.state != "pending",
                    PeerBatch.batch_id.in_(list(basis.skipped) or [-1]),
                )
            )
        )
        late = _first_batch_after(session, basis.through_batch, chain_id, registry)
    late_batch = None
    if late is not None:
        batch, block = late
        at = governance.chain.block_time(block)
        if at + grace_s < issued_at:
            late_batch = (batch, at)
    return AdmissionFacts(
        policy_problem=None,
        admitted=derived.admitted,
        refused=derived.refused,
        reputation=derived.reputation,
        missing_batches=derived.missing_batches,
        skipped_held=held,
        late_batch=late_batch,
        skipped_only=derived.skipped_only,
        published=derived.published,
        duplicate_threshold=derived.duplicate_threshold,
        cuts=derived.cuts,
        texts={c: derived.texts[c] for c in (sample(derived.admitted) if sample else ())},
        embed=embed,
    )


def _first_batch_after(
    session: Session, through: int, chain_id: int, registry: str
) -> tuple[int, int] | None:
    """(batch id, block) of the first content or attestation batch past `through` that this
    store knows of (its scan's or its own), or None."""
    found = session.execute(
        select(PeerBatch.batch_id, PeerBatch.block_number)
        .where(
            PeerBatch.chain_id == chain_id,
            PeerBatch.registry_address == registry,
            PeerBatch.batch_id > through,
        )
        .order_by(PeerBatch.batch_id)
        .limit(1)
    ).first()
    own = session.execute(
        select(Anchor.batch_id, Anchor.block_number)
        .where(
            Anchor.chain_id == chain_id,
            Anchor.kind.in_((AnchorKind.CONTENT.value, AnchorKind.ATTESTATIONS.value)),
            Anchor.batch_id > through,
        )
        .order_by(Anchor.batch_id)
        .limit(1)
    ).first()
    rows = [tuple(row) for row in (found, own) if row is not None]
    return min(rows) if rows else None
