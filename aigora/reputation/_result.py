"""The published reputation: scores with everything needed to recompute them, and one digest.

`digest()` is the keccak256 of the canonical JSON (RFC 8785) of `as_dict()`, which holds the
algorithm version, every parameter, the input roots and counts, every trust value and every
score. Numbers are the float64 values the computation produced, unrounded: RFC 8785 writes the
shortest decimal that reads back to the same double, so two digests are equal exactly when every
number is equal to the bit (except that -0.0 and 0.0 serialise alike). Recomputing from the same
inputs and comparing digests is the whole verification.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aigora.core.canonical import canonical_hash
from aigora.reputation._params import ReputationParams
from aigora.reputation._scores import ContentScore


@dataclass(frozen=True)
class ReputationResult:
    """Trust of every account and score of every rated content item, with their provenance.

    `attestation_root` (and `trust_root`, when trust statements are anchored separately) are the
    Merkle roots of the input sets as 0x-prefixed lowercase hex; `n_ratings` and `n_trust_edges`
    count the inputs so a verifier can tell a missing batch from a changed algorithm.
    """

    algorithm_version: str
    params: ReputationParams
    attestation_root: str
    trust_root: str | None
    n_ratings: int
    n_trust_edges: int
    trust: Mapping[str, float]
    scores: Mapping[str, ContentScore]
    global_intercept: float
    mf_iterations: int
    mf_converged: bool

    def as_dict(self) -> dict[str, Any]:
        """The whole result as canonical-JSON-ready values."""
        return {
            "algorithm_version": self.algorithm_version,
            "params": self.params.as_dict(),
            "inputs": {
                "attestation_root": self.attestation_root,
                "trust_root": self.trust_root,
                "ratings": self.n_ratings,
                "trust_edges": self.n_trust_edges,
            },
            "trust": dict(self.trust),
            "scores": {cid: s.as_dict() for cid, s in self.scores.items()},
            "fit": {
                "global_intercept": self.global_intercept,
                "iterations": self.mf_iterations,
                "converged": self.mf_converged,
            },
        }

    def digest(self) -> bytes:
        """keccak256 of the canonical JSON of `as_dict()`: equal iff the results are bit-equal."""
        return canonical_hash(self.as_dict())
