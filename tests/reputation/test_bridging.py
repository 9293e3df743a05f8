"""Bridging scores: approval across viewpoints counts, approval from one viewpoint does not."""

import numpy as np
import pytest

from aigora.reputation import (
    HELPFUL,
    NEEDS_MORE_RATINGS,
    NOT_HELPFUL,
    Rating,
    ReputationParams,
    bridging_scores,
    compute_reputation,
    content_status,
)

from .community import ROOT, Community, add_side_brigade, add_target, build, verdict

SEEDS = range(1, 6)


def scores(c: Community):
    return compute_reputation(c.ratings, c.edges, ReputationParams(seeds=c.seeds), ROOT).scores


@pytest.mark.parametrize("seed", SEEDS)
def test_statuses_follow_the_truth(seed: int) -> None:
    c = build(seed=seed)
    s = scores(c)
    status = {kind: [s[cid].status for cid in c.of_kind(kind)] for kind in ("good", "bad")}
    polar = [s[cid] for cid in c.of_kind("polar-a") + c.of_kind("polar-b")]
    # 90% agreement puts good content near the 0.40 threshold: a good share, not all, clear it
    assert status["good"].count(HELPFUL) >= len(status["good"]) // 3
    assert NOT_HELPFUL not in status["good"]
    assert status["bad"].count(NOT_HELPFUL) >= 0.8 * len(status["bad"])
    assert HELPFUL not in status["bad"]
    assert all(p.status != HELPFUL for p in polar)
    # the model puts polarising content's split on the factor, not the score
    assert np.median([abs(p.factor) for p in polar]) > 0.5
    assert np.median([abs(s[cid].factor) for cid in c.of_kind("good")]) < 0.2


@pytest.mark.parametrize("seed", SEEDS)
def test_content_endorsed_across_viewpoints_becomes_helpful(seed: int) -> None:
    c = build(seed=seed)
    add_target(c, "bridge", np.random.default_rng(seed), 0.95, 0.95)
    bridge = scores(c)["bridge"]
    assert bridge.status == HELPFUL
    assert abs(bridge.factor) < 0.2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("other_side_rates", [False, True])
def test_one_viewpoint_brigade_cannot_make_content_helpful(
    seed: int, other_side_rates: bool
) -> None:
    """All 50 honest attesters of side a, and 50 new accounts they vouch for, call a polarising
    item accurate; side b either ignores it or mostly calls it misleading."""
    c = build(seed=seed)
    rng = np.random.default_rng(seed)
    c.kinds["brigaded"] = "polar-a"
    add_side_brigade(c, rng, "a", 50, "brigaded")
    if other_side_rates:
        for attester in c.sides["b"]:
            if rng.random() < 0.4:
                c.ratings.append(Rating(attester, "brigaded", verdict(rng.random() < 0.1)))
    brigaded = scores(c)["brigaded"]
    assert brigaded.rating_weight > 20  # well supported: the refusal is not for lack of ratings
    assert brigaded.status != HELPFUL
    if other_side_rates:  # the contrast between the sides is what the factor explains
        assert abs(brigaded.factor) > 0.5
    else:  # no contrast to explain: refused for support from one side only
        assert min(brigaded.support_positive, brigaded.support_negative) < 2.0


@pytest.mark.parametrize("seed", SEEDS)
def test_without_the_both_sides_rule_a_silent_other_side_lets_a_brigade_through(seed: int) -> None:
    """Why `min_side_support` exists: set it to 0 and the one-sided turnout above is helpful."""
    c = build(seed=seed)
    c.kinds["brigaded"] = "polar-a"
    add_side_brigade(c, np.random.default_rng(seed), "a", 50, "brigaded")
    params = ReputationParams(seeds=c.seeds, min_side_support=0.0)
    result = compute_reputation(c.ratings, c.edges, params, ROOT)
    assert result.scores["brigaded"].status == HELPFUL


def test_intervals_cover_the_score_and_narrow_with_support() -> None:
    c = build(seed=1)
    s = scores(c)
    assert all(x.ci_low < x.score < x.ci_high for x in s.values())
    few = [Rating(a, "few", "accurate") for a in c.sides["a"][:2] + c.sides["b"][:2]]
    c.ratings += few
    c.ratings += [Rating("stranger", "unweighted", "accurate")]
    s = scores(c)
    width = {cid: x.ci_high - x.ci_low for cid, x in s.items()}
    assert width["few"] > 1.5 * max(width[cid] for cid in c.of_kind("good"))
    assert s["few"].status == NEEDS_MORE_RATINGS  # four trusted raters weigh less than 5
    # content whose raters no seed reaches keeps the prior: score 0, wide interval, no status
    unweighted = s["unweighted"]
    assert (unweighted.score, unweighted.factor, unweighted.rating_weight) == (0.0, 0.0, 0.0)
    assert unweighted.n_ratings == 1
    assert unweighted.ci_high - unweighted.ci_low > width["few"]
    assert unweighted.status == NEEDS_MORE_RATINGS


def test_spam_and_misleading_count_the_same() -> None:
    c = build(seed=2)
    p = ReputationParams(seeds=c.seeds)
    weights = {r.attester: 1.0 for r in c.ratings}
    as_spam = [
        Rating(r.attester, r.cid, "spam" if r.verdict == "misleading" else r.verdict)
        for r in c.ratings
    ]
    assert bridging_scores(as_spam, weights, p) == bridging_scores(c.ratings, weights, p)


def test_absent_attesters_weigh_nothing() -> None:
    c = build(seed=3)
    p = ReputationParams(seeds=c.seeds)
    weights = {r.attester: 1.0 for r in c.ratings}
    extra = [Rating("outsider", cid, "misleading") for cid in c.of_kind("good")]
    with_outsider = bridging_scores(c.ratings + extra, weights, p).scores
    alone = bridging_scores(c.ratings, weights, p).scores
    for cid in c.of_kind("good"):
        assert with_outsider[cid].score == alone[cid].score
        assert with_outsider[cid].n_ratings == alone[cid].n_ratings + 1


@pytest.mark.parametrize(
    ("score", "factor", "weight", "support", "expected"),
    [
        (0.45, 0.1, 10.0, (4.0, 4.0), HELPFUL),
        (0.45, 0.1, 4.9, (2.0, 2.0), NEEDS_MORE_RATINGS),  # too little trusted support
        (0.45, 0.6, 10.0, (4.0, 4.0), NEEDS_MORE_RATINGS),  # approval owed to one viewpoint
        (0.45, 0.1, 10.0, (9.0, 1.9), NEEDS_MORE_RATINGS),  # approved by one side only
        (0.39, 0.0, 10.0, (4.0, 4.0), NEEDS_MORE_RATINGS),
        (-0.05, 0.0, 10.0, (0.0, 0.0), NOT_HELPFUL),
        (-0.25, 0.2, 10.0, (0.0, 0.0), NOT_HELPFUL),  # -0.25 <= -0.05 - 0.8 * 0.2
        (-0.2, 0.5, 10.0, (0.0, 0.0), NEEDS_MORE_RATINGS),  # polarising: -0.2 > -0.05 - 0.4
    ],
)
def test_status_thresholds(
    score: float, factor: float, weight: float, support: tuple[float, float], expected: str
) -> None:
    params = ReputationParams(seeds=("s",))
    assert content_status(score, factor, weight, support, params) == expected
