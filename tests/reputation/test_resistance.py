"""Sybil brigades against a content score, with and without the trust layer.

Each community has 100 honest attesters in two viewpoints (4 seeds; each attester vouches for 8
others) and a target that both sides call accurate. A brigade of 50 sybils (half the honest count)
vouches for itself densely and gets 10 trust edges from randomly chosen honest attesters; to look
ordinary, half the sybils pose as one viewpoint and half as the other, then all rate the target
the same way. With trust weighting the
score must move by less than a factor of 1.5 either way. The same brigade with every attester
weighted 1 (no trust layer) must do real damage, or the test would prove nothing. Ten communities,
all of them: the factor varies with which honest attesters the attack edges come from (up to 1.43
among these ten).
"""

import numpy as np
import pytest

from aigora.reputation import (
    HELPFUL,
    NOT_HELPFUL,
    ContentScore,
    ReputationParams,
    bridging_scores,
    compute_reputation,
)

from .community import ROOT, Community, add_sybils, add_target, build

TARGET = "target"
SYBILS = 50
ATTACK_EDGES = 10


def community(seed: int, approval: float, brigade: bool | None) -> Community:
    """A community with a target approved by `approval` of both sides, plus an optional brigade
    whose sybils all call the target accurate (True) or misleading (False)."""
    c = build(seed=seed)
    add_target(c, TARGET, np.random.default_rng(seed + 100), approval, approval)
    if brigade is not None:
        add_sybils(c, np.random.default_rng(seed + 200), SYBILS, ATTACK_EDGES, TARGET, brigade)
    return c


def with_trust(c: Community) -> ContentScore:
    return compute_reputation(c.ratings, c.edges, ReputationParams(seeds=c.seeds), ROOT).scores[
        TARGET
    ]


def without_trust(c: Community) -> ContentScore:
    everyone = {r.attester: 1.0 for r in c.ratings}
    return bridging_scores(c.ratings, everyone, ReputationParams(seeds=c.seeds)).scores[TARGET]


def ratio(honest: float, attacked: float) -> float:
    """How far the score moved, as a factor >= 1 (inf when the sign flipped)."""
    if attacked <= 0:
        return float("inf")
    return max(attacked / honest, honest / attacked)


SEEDS = range(1, 11)


@pytest.mark.parametrize("seed", SEEDS)
def test_brigade_against_approved_content_moves_it_less_than_1_5x(seed: int) -> None:
    honest = with_trust(community(seed, 0.9, None))
    attacked = with_trust(community(seed, 0.9, False))
    assert honest.ci_low > 0.15  # clearly positive
    assert ratio(honest.score, attacked.score) < 1.5
    assert attacked.status != NOT_HELPFUL


@pytest.mark.parametrize("seed", SEEDS)
def test_brigade_for_content_moves_it_less_than_1_5x(seed: int) -> None:
    honest = with_trust(community(seed, 0.75, None))
    attacked = with_trust(community(seed, 0.75, True))
    assert honest.ci_low > 0.05
    assert ratio(honest.score, attacked.score) < 1.5
    assert attacked.status != HELPFUL


@pytest.mark.parametrize("seed", SEEDS)
def test_same_brigades_without_trust_do_real_damage(seed: int) -> None:
    """The attack is strong: weighted like honest attesters, the sybils collapse or flip a clearly
    approved score, and push a modest one up several times further than they can through trust."""
    approved = without_trust(community(seed, 0.9, None)).score
    assert ratio(approved, without_trust(community(seed, 0.9, False)).score) > 5
    modest = without_trust(community(seed, 0.75, None)).score
    pushed = without_trust(community(seed, 0.75, True)).score - modest
    pushed_through_trust = (
        with_trust(community(seed, 0.75, True)).score
        - with_trust(community(seed, 0.75, None)).score
    )
    assert pushed > 0.05
    assert pushed > 3 * pushed_through_trust


def test_sybils_hold_little_trust() -> None:
    """The brigade's 50 accounts together hold about as much trust as a handful of honest ones."""
    c = community(1, 0.9, False)
    trust = compute_reputation(c.ratings, c.edges, ReputationParams(seeds=c.seeds), ROOT).trust
    sybil_trust = sum(t for a, t in trust.items() if a.startswith("sybil-"))
    honest_mean = sum(trust[a] for a in c.honest) / len(c.honest)
    assert sybil_trust < 6 * honest_mean
