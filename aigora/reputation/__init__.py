"""Reputation: who counts (seeded trust) and what content's score is (bridging factorisation).

Pure computation over public inputs, no I/O. Given the same ratings, trust edges, parameters and
roots, `compute_reputation` returns the same result to the bit, in any input order, on any thread
count; `ReputationResult.digest()` lets anyone check a published result by recomputing it.

    trust  = seeded_trust(edges, params.seeds, params.damping)      # sums to 1; sybils get little
    fit    = bridging_scores(ratings, trust_weights(trust), params) # cross-viewpoint approval
    result = compute_reputation(ratings, edges, params, attestation_root)
    result.digest()                                                 # keccak of canonical JSON

Verdicts map to ratings accurate = 1.0, misleading = spam = 0.0. Each `ContentScore` has the
content intercept as `score`, a Gaussian interval, the viewpoint `factor`, its raters' count and
summed trust weight, the weight of "accurate" ratings from each side of the viewpoint axis, and a
status: "helpful", "not helpful" or "needs more ratings" (`content_status` holds the rule).

A rating or trust statement is one per (attester, cid) or (truster, trustee): the caller keeps the
latest; repeats are refused with `ReputationError`, as are unknown verdicts, empty seed sets and
damping outside (0, 1).
"""

from aigora.reputation._bridging import BridgingFit, bridging_scores
from aigora.reputation._compute import compute_reputation
from aigora.reputation._errors import ReputationError
from aigora.reputation._inputs import VERDICT_RATINGS, Rating, TrustEdge
from aigora.reputation._params import ALGORITHM_VERSION, ReputationParams
from aigora.reputation._result import ReputationResult
from aigora.reputation._scores import (
    HELPFUL,
    NEEDS_MORE_RATINGS,
    NOT_HELPFUL,
    ContentScore,
    content_status,
)
from aigora.reputation._trust import seeded_trust, trust_weights

__all__ = [
    "ALGORITHM_VERSION",
    "HELPFUL",
    "NEEDS_MORE_RATINGS",
    "NOT_HELPFUL",
    "VERDICT_RATINGS",
    "BridgingFit",
    "ContentScore",
    "Rating",
    "ReputationError",
    "ReputationParams",
    "ReputationResult",
    "TrustEdge",
    "bridging_scores",
    "compute_reputation",
    "content_status",
    "seeded_trust",
    "trust_weights",
]
