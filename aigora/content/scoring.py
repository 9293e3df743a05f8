"""Publish reputation runs from the store's attestations and vouches, and reproduce them.

A run publishes one document, stored as canonical JSON under its CID:
`{"inputs": {"attestations": [...], "trust": [...]}, "result": {...}}`. The inputs are the signed
messages with their signatures (anyone can check every signature and that the attestations' digests
make the recorded root); the result is `ReputationResult.as_dict()`, whose digest is recorded.
`reproduce` recomputes the result from the published inputs alone and compares digests.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from aigora.content.anchoring import batch_tree
from aigora.content.service import attestation_message, newest_key, trust_message
from aigora.content.signed import InvalidSignedObject, Signed, check
from aigora.core.canonical import canonical_json
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError, NotFound
from aigora.reputation import (
    Rating as ReputationRating,
)
from aigora.reputation import (
    ReputationParams,
    ReputationResult,
    TrustEdge,
    compute_reputation,
)
from aigora.store.blobs import BlobStore
from aigora.store.content_models import (
    AttestationRecord,
    ContentScoreRecord,
    ReputationRun,
    TrustRecord,
)
from aigora.store.db import session_scope
from aigora.store.models import Anchor

EMPTY_ROOT = "0x" + "00" * 32


class NotReproduced(AigoraError):
    """A published reputation run does not follow from its published inputs."""


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    result_cid: str
    result_digest: str
    attestation_root: str
    ratings: int
    trust_edges: int
    statuses: dict[str, int]


@dataclass(frozen=True)
class Universe:
    """Which anchored inputs a network computation reads: registry batches up to
    `through_batch`, less `skipped` ones (None: everything anchored)."""

    through_batch: int | None = None
    skipped: frozenset[int] = frozenset()

    def bound(self, query: Any, anchor_id: Any) -> Any:
        if self.through_batch is None:
            return query
        query = query.join(Anchor, anchor_id == Anchor.id).where(
            Anchor.batch_id <= self.through_batch
        )
        if self.skipped:
            query = query.where(Anchor.batch_id.not_in(sorted(self.skipped)))
        return query


def compute_run(
    db: Engine,
    params: ReputationParams,
    anchored_only: bool = False,
    universe: Universe = Universe(),
) -> tuple[dict[str, Any], ReputationResult]:
    """The inputs and the result of a run over the store's current attestations and vouches,
    computing only: nothing is published or recorded (a verifier re-derives a snapshot's run so).

    `anchored_only` (a node in a network) takes only what is anchored on the network's registry,
    within `universe`, the newest per signer and subject among those (`service.newest_key`):
    every node that has imported the same batches then computes the same inputs, and so the same
    digest, whatever it holds unanchored and whatever order the batches arrived in."""
    with session_scope(db) as session:
        if anchored_only:
            attestation_rows = _newest(
                session.scalars(
                    universe.bound(
                        select(AttestationRecord).where(AttestationRecord.anchor_id.is_not(None)),
                        AttestationRecord.anchor_id,
                    )
                ),
                lambda a: (a.attester, a.cid),
            )
            trust_rows = _newest(
                session.scalars(
                    universe.bound(
                        select(TrustRecord).where(TrustRecord.anchor_id.is_not(None)),
                        TrustRecord.anchor_id,
                    )
                ),
                lambda t: (t.truster, t.trustee),
            )
        else:
            attestation_rows = list(
                session.scalars(
                    select(AttestationRecord).where(AttestationRecord.superseded.is_(False))
                )
            )
            trust_rows = list(
                session.scalars(select(TrustRecord).where(TrustRecord.superseded.is_(False)))
            )
        attestations = [
            _attestation_input(a) for a in sorted(attestation_rows, key=lambda a: a.digest)
        ]
        trust = [_trust_input(t) for t in sorted(trust_rows, key=lambda t: t.digest)]
    inputs = {"attestations": attestations, "trust": trust}
    return inputs, _compute(inputs, params, domain=None)


def publish_run(
    db: Engine,
    blobs: BlobStore,
    domain: Domain,
    params: ReputationParams,
    anchored_only: bool = False,
    universe: Universe = Universe(),
) -> RunSummary:
    """Compute reputation over every current attestation and vouch (`compute_run`), publish
    the document under its CID and record the run with its scores."""
    inputs, result = compute_run(db, params, anchored_only, universe)
    attestations, trust = inputs["attestations"], inputs["trust"]
    document = canonical_json({"inputs": inputs, "result": result.as_dict()})
    result_cid = blobs.put(document)
    digest = "0x" + result.digest().hex()
    with session_scope(db) as session:
        run = ReputationRun(
            algorithm_version=result.algorithm_version,
            attestation_root=result.attestation_root,
            attestation_count=len(attestations),
            params_json=json.dumps(params.as_dict(), sort_keys=True),
            result_cid=result_cid,
            result_digest=digest,
            computed_at=datetime.now(UTC),
        )
        session.add(run)
        session.flush()
        for cid, score in result.scores.items():
            session.add(
                ContentScoreRecord(
                    run_id=run.id,
                    cid=cid,
                    score=score.score,
                    ci_low=score.ci_low,
                    ci_high=score.ci_high,
                    factor=score.factor,
                    n_ratings=score.n_ratings,
                    status=score.status,
                )
            )
        run_id = run.id
    statuses: dict[str, int] = {}
    for score in result.scores.values():
        statuses[score.status] = statuses.get(score.status, 0) + 1
    return RunSummary(
        run_id, result_cid, digest, result.attestation_root, len(attestations), len(trust), statuses
    )


@dataclass(frozen=True)
class Reproduction:
    run_id: int
    published_digest: str
    recomputed_digest: str
    differences: list[str]

    @property
    def reproduced(self) -> bool:
        return self.published_digest == self.recomputed_digest and not self.differences


def reproduce(
    db: Engine, blobs: BlobStore, domain: Domain, run_id: int | None = None
) -> Reproduction:
    """Recompute a published run (default: the newest) from its published inputs: every signature
    is checked, the attestation root rebuilt, and the result's digest compared to the record."""
    with session_scope(db) as session:
        query = select(ReputationRun).order_by(ReputationRun.id.desc())
        if run_id is not None:
            query = select(ReputationRun).where(ReputationRun.id == run_id)
        run = session.scalar(query.limit(1))
        if run is None:
            raise NotFound("no reputation run published yet: run `aigora reputation compute`")
        run_id, published, result_cid = run.id, run.result_digest, run.result_cid
    document = json.loads(blobs.get(result_cid))
    params_dict = dict(document["result"]["params"])
    params_dict["seeds"] = tuple(params_dict["seeds"])
    result = _compute(document["inputs"], ReputationParams(**params_dict), domain=domain)
    recomputed = "0x" + result.digest().hex()
    return Reproduction(
        run_id, published, recomputed, _differences(document["result"], result.as_dict())
    )


def _compute(
    inputs: dict[str, Any], params: ReputationParams, domain: Domain | None
) -> ReputationResult:
    """The result from published inputs; with `domain`, every signature is verified first."""
    if domain is not None:
        for kind, key in (("attestation", "attestations"), ("trust", "trust")):
            for entry in inputs[key]:
                signed = Signed(kind, entry["message"], bytes.fromhex(entry["signature"][2:]))
                try:
                    digest = "0x" + check(signed, domain, now=2**62).hex()
                except InvalidSignedObject as exc:
                    raise NotReproduced(f"published {kind} {entry['digest']}: {exc}") from None
                if digest != entry["digest"]:
                    raise NotReproduced(f"{kind} {entry['digest']} does not hash to its digest")
    ratings = [
        ReputationRating(e["message"]["attester"], e["message"]["cid"], e["message"]["verdict"])
        for e in inputs["attestations"]
    ]
    edges = [TrustEdge(e["message"]["truster"], e["message"]["trustee"]) for e in inputs["trust"]]
    return compute_reputation(
        ratings,
        edges,
        params,
        attestation_root=_root([e["digest"] for e in inputs["attestations"]]),
        trust_root=_root([e["digest"] for e in inputs["trust"]]),
    )


def _root(digests: list[str]) -> str:
    return "0x" + batch_tree(digests).root.hex() if digests else EMPTY_ROOT


def _attestation_input(record: AttestationRecord) -> dict[str, Any]:
    return {
        "message": attestation_message(record),
        "signature": record.signature,
        "digest": record.digest,
    }


def _newest(records: Iterable[Any], subject: Callable[[Any], tuple[str, str]]) -> list[Any]:
    """The newest record per (signer, subject), by `service.newest_key`."""
    newest: dict[tuple[str, str], Any] = {}
    for record in records:
        key = subject(record)
        if key not in newest or newest_key(record) > newest_key(newest[key]):
            newest[key] = record
    return list(newest.values())


def _trust_input(record: TrustRecord) -> dict[str, Any]:
    return {
        "message": trust_message(record),
        "signature": record.signature,
        "digest": record.digest,
    }


def _differences(
    published: dict[str, Any], recomputed: dict[str, Any], limit: int = 10
) -> list[str]:
    """The first few places where two results differ, for a human to look at."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                walk(a.get(key), b.get(key), f"{path}.{key}" if path else key)
        elif a != b:
            out.append(f"{path}: published {a!r}, recomputed {b!r}")

    walk(published, recomputed, "")
    return out
