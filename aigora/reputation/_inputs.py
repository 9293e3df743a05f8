"""The public inputs reputation is computed from: ratings (from attestations) and trust edges.

Addresses and CIDs are opaque, case-sensitive strings here: the caller passes each in its one
canonical spelling (checksummed addresses as signature recovery returns them, CIDs as
`core.cid` spells them). Two spellings of one account would count as two accounts.

Each rule about a single input lives in its `__post_init__`, so an invalid `Rating` or `TrustEdge`
cannot exist; rules about the set (no duplicates) live where the set is read.
"""

import math
from dataclasses import dataclass
from types import MappingProxyType

from aigora.reputation._errors import ReputationError

VERDICT_RATINGS = MappingProxyType({"accurate": 1.0, "misleading": 0.0, "spam": 0.0})
"""How a verdict enters the bridging model. Misleading and spam both say "this should not be shown
as reliable", so both rate 0.0; distinguishing them would need a second model, not a third point on
one scale. Part of the algorithm: changing it changes `ALGORITHM_VERSION`."""


def _require_name(value: object, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ReputationError(f"{what} must be a non-empty string, got {value!r}")


@dataclass(frozen=True, slots=True)
class Rating:
    """One attester's verdict on one content item: the part of an attestation that scoring reads.

    `reason` and `created_at` are not needed for scoring; the caller keeps one rating per
    (attester, cid), normally the latest, because a duplicate pair is refused.
    """

    attester: str
    cid: str
    verdict: str

    def __post_init__(self) -> None:
        _require_name(self.attester, "a rating's attester")
        _require_name(self.cid, "a rating's cid")
        if self.verdict not in VERDICT_RATINGS:
            raise ReputationError(
                f"unknown verdict {self.verdict!r} from {self.attester} on {self.cid}; "
                f"expected one of {sorted(VERDICT_RATINGS)}"
            )

    @property
    def value(self) -> float:
        """The rating the bridging model fits: 1.0 for accurate, 0.0 for misleading or spam."""
        return VERDICT_RATINGS[self.verdict]


@dataclass(frozen=True, slots=True)
class TrustEdge:
    """`truster` vouches for `trustee` with a positive, finite `weight` (relative to its others).

    Only the ratio of one truster's weights matters: each truster's outgoing weights are
    normalised to sum to 1, so vouching for more accounts never hands out more trust.
    """

    truster: str
    trustee: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        _require_name(self.truster, "a trust edge's truster")
        _require_name(self.trustee, "a trust edge's trustee")
        w = self.weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w <= 0:
            raise ReputationError(
                f"trust edge {self.truster} -> {self.trustee} has weight {w!r}; "
                "weights must be finite numbers above 0"
            )
