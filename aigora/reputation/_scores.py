"""What a content item's score is made of, and the one rule that turns it into a status."""

from typing import Any, NamedTuple

from aigora.reputation._params import ReputationParams

HELPFUL = "helpful"
NOT_HELPFUL = "not helpful"
NEEDS_MORE_RATINGS = "needs more ratings"


class ContentScore(NamedTuple):
    """One content item's score: its intercept, interval, viewpoint factor, support and status.

    `score` is the content intercept b_c (approval that no viewpoint explains, relative to the
    global intercept μ); `ci_low`/`ci_high` its interval; `factor` the viewpoint factor f_c (its
    sign is arbitrary, only |factor| matters); `n_ratings` counts all ratings, `rating_weight` sums
    their attesters' trust weights; `support_positive` and `support_negative` sum the weights of
    "accurate" ratings from attesters whose own factor is >= 0 and <= 0, the two sides of the
    viewpoint axis. Immutable (a tuple), and cheap to build by the hundred thousand.
    """

    cid: str
    score: float
    ci_low: float
    ci_high: float
    factor: float
    n_ratings: int
    rating_weight: float
    support_positive: float
    support_negative: float
    status: str

    def as_dict(self) -> dict[str, Any]:
        """Canonical-JSON-ready fields (the cid is the key it is published under)."""
        return {
            "score": self.score,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "factor": self.factor,
            "n_ratings": self.n_ratings,
            "rating_weight": self.rating_weight,
            "support_positive": self.support_positive,
            "support_negative": self.support_negative,
            "status": self.status,
        }


def content_status(
    score: float,
    factor: float,
    rating_weight: float,
    support: tuple[float, float],
    p: ReputationParams,
) -> str:
    """Helpful, not helpful, or needs more ratings: Community Notes' rule, weighed, and bridged.

    Helpful needs enough trusted ratings, a high intercept, a small factor (approval not owed to
    one viewpoint) and "accurate" ratings from both sides of the viewpoint axis (`support`, the
    positive and the negative side). The last rule is ours: when only one side rates, every rater
    agrees, the model sees no contrast for the factor to explain, and the approval lands in the
    intercept; support from both sides is what "bridging" means, so it is required outright.
    Not helpful needs enough trusted ratings and an intercept below a line that falls with
    |factor|, so polarising content must be clearly rejected to be marked down.
    """
    if rating_weight < p.min_rating_weight:
        return NEEDS_MORE_RATINGS
    if (
        score >= p.helpful_min_score
        and abs(factor) < p.helpful_max_factor
        and min(support) >= p.min_side_support
    ):
        return HELPFUL
    if score <= p.not_helpful_max_score - p.not_helpful_factor_slope * abs(factor):
        return NOT_HELPFUL
    return NEEDS_MORE_RATINGS
