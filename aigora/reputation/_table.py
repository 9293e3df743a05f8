"""Ratings as sorted integer arrays: the canonical form every computation reads.

Attesters and CIDs are numbered in sorted order and ratings sorted by (cid, attester), so the
arrays, and every sum over them, are the same whatever order the ratings arrived in.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from aigora.reputation._errors import ReputationError
from aigora.reputation._inputs import VERDICT_RATINGS, Rating
from aigora.reputation._ordered import FloatArray, IntArray


@dataclass(frozen=True)
class RatingTable:
    """Ratings in canonical order: `ai[k]` rated `ci[k]` with value `r[k]` (1.0 or 0.0)."""

    attesters: list[str]  # sorted; attester i is attesters[i]
    cids: list[str]  # sorted
    ai: IntArray
    ci: IntArray
    r: FloatArray

    @classmethod
    def build(cls, ratings: Iterable[Rating]) -> "RatingTable":
        """Read and order `ratings`; refuses a non-Rating and a repeated (attester, cid) pair."""
        ratings = list(ratings)
        for rating in ratings:
            if not isinstance(rating, Rating):
                raise ReputationError(f"expected Rating, got {type(rating).__name__}")
        att_of = [x.attester for x in ratings]
        cid_of = [x.cid for x in ratings]
        attesters, cids = sorted(set(att_of)), sorted(set(cid_of))
        att_index = {a: i for i, a in enumerate(attesters)}
        cid_index = {c: i for i, c in enumerate(cids)}
        ai = np.array([att_index[a] for a in att_of], dtype=np.int64)
        ci = np.array([cid_index[c] for c in cid_of], dtype=np.int64)
        value = VERDICT_RATINGS.__getitem__
        r = np.array([value(x.verdict) for x in ratings], dtype=np.float64)
        key = ci * max(len(attesters), 1) + ai
        order = np.argsort(key, kind="stable")
        key = key[order]
        repeated = np.flatnonzero(key[1:] == key[:-1])
        if repeated.size:
            k = int(key[repeated[0]])
            a, c = attesters[k % len(attesters)], cids[k // len(attesters)]
            raise ReputationError(
                f"{a} rated {c} more than once; "
                "keep one rating per (attester, cid), normally the latest"
            )
        return cls(attesters, cids, ai[order], ci[order], r[order])

    def attester_weights(self, weights: Mapping[str, float]) -> FloatArray:
        """Each attester's weight (0.0 if absent); refuses negative or non-finite weights."""
        w = np.array([float(weights.get(a, 0.0)) for a in self.attesters], dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad.size:
            a = self.attesters[int(bad[0])]
            raise ReputationError(f"attester {a} has weight {weights[a]!r}; weights must be >= 0")
        return w
