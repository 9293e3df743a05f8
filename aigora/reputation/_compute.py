"""The whole recomputation: trust from the trust graph, weights from trust, scores from ratings.

A pure function of its arguments. The node calls it with the attestation set behind an anchored
root; a verifier calls it with the same public data and compares `digest()`s.
"""

import re
from collections.abc import Iterable

from aigora.reputation._bridging import score_table
from aigora.reputation._errors import ReputationError
from aigora.reputation._inputs import Rating, TrustEdge
from aigora.reputation._params import ALGORITHM_VERSION, ReputationParams
from aigora.reputation._result import ReputationResult
from aigora.reputation._table import RatingTable
from aigora.reputation._trust import seeded_trust, trust_weights

_ROOT = re.compile(r"0x[0-9a-fA-F]{64}")


def compute_reputation(
    ratings: Iterable[Rating],
    edges: Iterable[TrustEdge],
    params: ReputationParams,
    attestation_root: str,
    trust_root: str | None = None,
) -> ReputationResult:
    """Seeded trust over `edges`, then bridging scores of `ratings` weighted by that trust.

    Every attester appears in `trust`, with 0.0 when no seed reaches it (its ratings then weigh
    nothing). Roots are 32-byte 0x-hex strings, recorded in lowercase. Input order never matters.
    """
    if not isinstance(params, ReputationParams):
        raise ReputationError(f"params must be ReputationParams, got {type(params).__name__}")
    root = _root(attestation_root, "attestation_root")
    t_root = None if trust_root is None else _root(trust_root, "trust_root")
    table = RatingTable.build(ratings)
    edges = list(edges)
    trust = seeded_trust(
        edges, params.seeds, params.damping, params.trust_tol, params.trust_max_iter
    )
    for attester in table.attesters:
        trust.setdefault(attester, 0.0)
    trust = dict(sorted(trust.items()))
    fit = score_table(table, trust_weights(trust), params)
    return ReputationResult(
        algorithm_version=ALGORITHM_VERSION,
        params=params,
        attestation_root=root,
        trust_root=t_root,
        n_ratings=table.r.size,
        n_trust_edges=len(edges),
        trust=trust,
        scores=fit.scores,
        global_intercept=fit.global_intercept,
        mf_iterations=fit.iterations,
        mf_converged=fit.converged,
    )


def _root(value: object, name: str) -> str:
    if not isinstance(value, str) or not _ROOT.fullmatch(value):
        raise ReputationError(f"{name} must be 0x followed by 64 hex digits, got {value!r}")
    return value.lower()
