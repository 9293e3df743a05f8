"""What content's score is: a bridging matrix factorisation in the manner of Community Notes.

Each rating r (1.0 accurate, 0.0 misleading or spam) by attester a on content c is modelled as

    r ≈ μ + b_a + b_c + f_a · f_c

with one-dimensional viewpoint factors f. Agreement that one viewpoint explains (raters with f_a of
one sign liking content with f_c of the same sign) is absorbed by f_a · f_c; only approval that
holds across viewpoints lifts the content intercept b_c, which is the score. Intercepts are
regularised more than factors (`intercept_lambda` > `factor_lambda`), so when the data cannot tell
the two apart, as with content rated by one side only, the factor takes it.

The fit minimises the weighted ridge loss

    Σ w_a (r - r̂)² + λ_i (μ² + Σ b_a² + Σ b_c²) + λ_f (Σ f_a² + Σ f_c²)

where w_a is the attester's trust weight, so the ratings of accounts the trust layer does not reach
weigh nothing and those of barely reached sybils weigh little. `_factorize` solves it by alternating
exact ridge solves in a fixed order over ratings sorted by (cid, attester), so the result does not
depend on input order or thread count. The sign of the factors is arbitrary; only |factor| is read
by the thresholds.

The interval is Gaussian: reading the ridge penalties as priors and w_a as the precision of a
rating, the posterior covariance of (b_c, f_c) is σ² H⁻¹ with H the content's 2x2 normal matrix
and σ² the weighted mean squared residual over all weighted ratings. It is conditional on the
attester parameters and μ (their uncertainty is not propagated), so it is narrower than the truth
for content whose raters are themselves uncertain. Content without weighted ratings gets the prior
interval, 0 ± z·σ/√λ_i.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from aigora.reputation._factorize import fit
from aigora.reputation._inputs import Rating
from aigora.reputation._ordered import group_sum
from aigora.reputation._params import ReputationParams
from aigora.reputation._scores import ContentScore, content_status
from aigora.reputation._table import RatingTable


@dataclass(frozen=True)
class BridgingFit:
    """The fitted model: per-content scores plus the global intercept and how the fit stopped."""

    scores: dict[str, ContentScore]
    global_intercept: float
    iterations: int
    converged: bool


def bridging_scores(
    ratings: Iterable[Rating], weights: Mapping[str, float], params: ReputationParams
) -> BridgingFit:
    """Fit the bridging model to `ratings`, each attester's ratings weighted by `weights`.

    An attester missing from `weights` weighs 0. Weights must be finite and >= 0; a repeated
    (attester, cid) pair is refused (keep the latest attestation per pair). Every rated cid gets a
    score; `n_ratings` counts all its ratings, `rating_weight` sums their weights.
    """
    return score_table(RatingTable.build(ratings), weights, params)


def score_table(
    table: RatingTable, weights: Mapping[str, float], params: ReputationParams
) -> BridgingFit:
    """`bridging_scores` on ratings already in canonical form."""
    w = table.attester_weights(weights)[table.ai]
    n_cid = len(table.cids)
    n_ratings = np.bincount(table.ci, minlength=n_cid).tolist()
    rating_weight = group_sum(table.ci, w, n_cid).tolist()
    keep = w > 0
    result = fit(
        table.ai[keep], table.ci[keep], table.r[keep], w[keep], len(table.attesters), n_cid, params
    )
    half_width = params.ci_z * np.sqrt(result.variance)
    accurate = w * table.r  # the weight of each "accurate" rating, 0 for the others
    f_att = result.f_att[table.ai]
    positive = group_sum(table.ci, np.where(f_att >= 0, accurate, 0.0), n_cid).tolist()
    negative = group_sum(table.ci, np.where(f_att <= 0, accurate, 0.0), n_cid).tolist()
    score = result.b_cid.tolist()
    factor = result.f_cid.tolist()
    low = (result.b_cid - half_width).tolist()
    high = (result.b_cid + half_width).tolist()
    scores = {
        cid: ContentScore(
            cid,
            score[j],
            low[j],
            high[j],
            factor[j],
            n_ratings[j],
            rating_weight[j],
            positive[j],
            negative[j],
            content_status(
                score[j], factor[j], rating_weight[j], (positive[j], negative[j]), params
            ),
        )
        for j, cid in enumerate(table.cids)
    }
    return BridgingFit(scores, result.mu, result.iterations, result.converged)
