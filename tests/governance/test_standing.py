"""The standing rule (`aigora.governance._standing`) as properties: a power is the exact floor of
the float trust in 10**-18 units; a table never holds more power than the trust it came from, nor
more than `MAX_VOTERS` entries, and keeps the most trusted (ties by address); genesis is the seeds,
equally; and nothing depends on the order the inputs come in."""

import math
import random
from fractions import Fraction

from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.hashing import keccak
from aigora.governance import (
    MAX_VOTERS,
    POWER_UNIT,
    genesis_standing,
    power_of,
    standing_from_trust,
)
from aigora.reputation import seeded_trust
from tests.reputation.test_trust import TOL, graphs

ADDRESSES = [to_checksum_address(keccak(i.to_bytes(4, "big"))[:20]) for i in range(MAX_VOTERS + 60)]
"""Mixed-case EIP-55 addresses, so that a tie broken by raw spelling would show."""
TRUST = st.one_of(
    st.floats(0.0, 1.0),
    st.sampled_from([0.0, 1e-19, 1e-18, 2.5e-3, 0.1, 1 / 3]),  # ties, and powers of 0 and 1
)


def rank(table_entry: tuple[str, int]) -> tuple[int, str]:
    account, power = table_entry
    return -power, account.lower()


@st.composite
def trust_maps(draw: st.DrawFn, max_size: int = 24) -> dict[str, float]:
    values = draw(st.lists(TRUST, max_size=max_size))
    accounts = draw(st.permutations(ADDRESSES))[: len(values)]
    return dict(zip(accounts, values, strict=True))


# ---- one power ----------------------------------------------------------------------------------


def test_a_power_is_the_floats_own_value_not_its_decimal_spelling():
    assert power_of(0.0) == 0
    assert power_of(1.0) == POWER_UNIT
    assert power_of(1e-19) == 0
    assert power_of(0.1) == 100_000_000_000_000_005  # 0.1 is 0.1000000000000000055511...
    assert power_of(0.3) == 299_999_999_999_999_988  # and 0.3 is 0.2999999999999999888977...


@settings(max_examples=200, deadline=None)
@given(trust=st.floats(0.0, 1.0))
def test_a_power_is_the_exact_floor_of_trust_in_units(trust):
    numerator, denominator = trust.as_integer_ratio()
    power = power_of(trust)
    assert power == numerator * POWER_UNIT // denominator
    assert power <= Fraction(trust) * POWER_UNIT < power + 1
    assert power_of(math.nextafter(trust, 2.0)) >= power  # monotone


# ---- one table ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(trust=trust_maps())
def test_a_table_holds_each_accounts_exact_power_and_never_more_than_its_trust(trust):
    table = standing_from_trust(trust)
    assert table == {a: power_of(t) for a, t in trust.items() if power_of(t) > 0}
    assert sum(table.values()) <= sum(map(Fraction, trust.values())) * POWER_UNIT


@settings(max_examples=100, deadline=None)
@given(graph=graphs())
def test_a_table_of_a_seeded_trust_run_holds_at_most_all_trust(graph):
    """Trust sums to 1 up to float rounding (`TOL`), so a table holds 10**18 units up to that
    rounding, never exactly "at most 10**18": a run's floats can sum to 1 + a few 2**-52, and
    tables a few hundred units above 10**18 do occur (1,330 at most over 3,000 random graphs).
    `POWER_UNIT`'s bound holds for trust whose exact sum is at most 1 (the test above)."""
    edges, seeds, damping = graph
    trust = seeded_trust(edges, seeds, damping)
    table = standing_from_trust(trust)
    assert sum(table.values()) <= sum(map(Fraction, trust.values())) * POWER_UNIT
    assert abs(sum(table.values()) - POWER_UNIT) <= TOL * POWER_UNIT
    assert set(table) <= set(trust)
    assert all(power > 0 for power in table.values())


@settings(max_examples=20, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(1e-6, 1e-2), st.sampled_from([0.0, 1e-19, 2.5e-3])),
        min_size=MAX_VOTERS + 1,
        max_size=MAX_VOTERS + 40,
    ),
    order=st.randoms(use_true_random=False),
)
def test_a_full_table_keeps_the_most_trusted_ties_by_address(values, order: random.Random):
    accounts = ADDRESSES[: len(values)]
    order.shuffle(accounts)
    trust = dict(zip(accounts, values, strict=True))
    table = standing_from_trust(trust)
    positive = {a: power_of(t) for a, t in trust.items() if power_of(t) > 0}
    assert len(table) == min(MAX_VOTERS, len(positive))
    assert all(positive[a] == p for a, p in table.items())
    left_out = positive.keys() - table.keys()
    if left_out:
        weakest_kept = max(table.items(), key=rank)
        strongest_left = min(((a, positive[a]) for a in left_out), key=rank)
        assert rank(weakest_kept) < rank(strongest_left)


def test_a_tie_at_the_cut_is_broken_by_lower_case_address():
    accounts = ADDRESSES[: MAX_VOTERS + 1]
    table = standing_from_trust(dict.fromkeys(accounts, 1 / len(accounts)))
    (dropped,) = set(accounts) - set(table)
    assert dropped == max(accounts, key=str.lower)
    assert dropped != max(accounts)  # raw spelling would have picked another: the test can fail


def test_powers_of_zero_never_enter_the_table():
    trust = {ADDRESSES[0]: 1.0, ADDRESSES[1]: 0.0, ADDRESSES[2]: 5e-19}
    assert standing_from_trust(trust) == {ADDRESSES[0]: POWER_UNIT}
    assert standing_from_trust({}) == {}


# ---- genesis and order --------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    seeds=st.lists(st.sampled_from(ADDRESSES[:40]), min_size=1, max_size=12),
    damping=st.floats(0.05, 0.95),
)
def test_genesis_is_the_seeds_with_equal_power(seeds, damping):
    table = genesis_standing(seeds, damping)
    assert set(table) == set(seeds)
    assert len(set(table.values())) == 1
    (power,) = set(table.values())
    assert abs(power - POWER_UNIT // len(set(seeds))) <= 1_000
    assert genesis_standing(list(reversed(seeds)), damping) == table


@settings(max_examples=50, deadline=None)
@given(graph=graphs(), order=st.randoms(use_true_random=False))
def test_the_table_does_not_depend_on_input_order(graph, order: random.Random):
    edges, seeds, damping = graph
    table = standing_from_trust(seeded_trust(edges, seeds, damping))
    shuffled_edges, shuffled_seeds = edges[:], list(seeds)
    order.shuffle(shuffled_edges)
    order.shuffle(shuffled_seeds)
    trust = seeded_trust(shuffled_edges, shuffled_seeds, damping)
    items = list(trust.items())
    order.shuffle(items)
    again = standing_from_trust(dict(items))
    assert again == table
    assert list(again) == list(table)  # the same order, too: ranked, not as the input came
