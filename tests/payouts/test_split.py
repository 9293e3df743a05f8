"""Integer splits: the parts always add up to the pool, follow the weights within one unit, and
give the leftover units by the documented rule."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aigora.payouts import PayoutError, allocate, split_fee

POOLS = st.integers(0, 10**30)
WEIGHTS = st.lists(st.integers(0, 10**18), min_size=1, max_size=40)


@given(pool=POOLS, weights=WEIGHTS)
def test_parts_sum_to_the_pool_and_stay_within_a_unit_of_the_exact_share(pool, weights):
    parts = allocate(pool, weights)
    assert sum(parts) == pool
    total = sum(weights) or len(weights)
    for part, weight in zip(parts, weights if sum(weights) else [1] * len(weights), strict=True):
        exact = Fraction(pool * weight, total)
        assert exact - 1 < part <= exact + 1
        assert part >= 0


@given(pool=POOLS, weights=WEIGHTS)
def test_a_heavier_weight_never_gets_less(pool, weights):
    parts = allocate(pool, weights)
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert parts[i] >= parts[j]


def test_leftover_units_go_to_the_largest_remainders_then_the_earlier_item():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(2, [1, 1, 1]) == [1, 1, 0]
    assert allocate(7, [0, 0]) == [4, 3]  # no weight at all: an even split
    assert allocate(100, [3, 0, 1]) == [75, 0, 25]
    assert allocate(0, [5, 5]) == [0, 0]


@pytest.mark.parametrize(
    ("pool", "weights"), [(-1, [1]), (1.5, [1]), (3, [1, -1]), (3, [1.0]), (3, [])]
)
def test_bad_pools_and_weights_are_refused(pool, weights):
    with pytest.raises(PayoutError):
        allocate(pool, weights)


@given(
    fee=st.integers(0, 10**24),
    scores=st.lists(st.integers(-(2**20), 2**20), max_size=20),
    bps=st.integers(0, 10_000),
)
def test_a_fee_is_split_between_operator_and_passages_exactly(fee, scores, bps):
    split = split_fee(fee, scores, bps)
    assert split.operator + sum(split.passages) == fee
    assert len(split.passages) == len(scores)
    if scores:
        assert split.operator == fee * bps // 10_000
    for score, part in zip(scores, split.passages, strict=True):
        if score <= 0 and any(s > 0 for s in scores):
            assert part == 0


def test_fee_split_follows_scores():
    split = split_fee(1000, [300, 100, -50], 2000)
    assert split.operator == 200
    assert split.passages == (600, 200, 0)
    with pytest.raises(PayoutError, match="bps"):
        split_fee(1000, [1], 10_001)
