"""Seeded trust: the invariants that make it a sybil defence, checked on arbitrary graphs."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.reputation import ReputationError, TrustEdge, seeded_trust, trust_weights

TOL = 1e-9


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[TrustEdge], tuple[str, ...], float]:
    n = draw(st.integers(1, 12))
    nodes = [f"n{i:02d}" for i in range(n)]
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
            unique=True,
            max_size=40,
        )
    )
    weights = draw(st.lists(st.floats(0.01, 100.0), min_size=len(pairs), max_size=len(pairs)))
    edges = [TrustEdge(nodes[u], nodes[v], w) for (u, v), w in zip(pairs, weights, strict=True)]
    seeds = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=4, unique=True))
    damping = draw(st.floats(0.05, 0.95))
    return edges, tuple(seeds), damping


def reachable(edges: list[TrustEdge], seeds: tuple[str, ...]) -> set[str]:
    out: dict[str, list[str]] = {}
    for e in edges:
        out.setdefault(e.truster, []).append(e.trustee)
    seen, stack = set(seeds), list(seeds)
    while stack:
        for v in out.get(stack.pop(), []):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return seen


@settings(max_examples=300, deadline=None, derandomize=True)
@given(graphs())
def test_trust_is_a_distribution_that_favours_seeds(graph) -> None:
    edges, seeds, d = graph
    trust = seeded_trust(edges, seeds, d)
    assert abs(sum(trust.values()) - 1.0) < TOL
    assert all(t >= 0 for t in trust.values())
    for s in seeds:
        assert trust[s] >= d / len(seeds) - TOL  # every step returns d to the seeds
    assert sum(t for a, t in trust.items() if a not in seeds) <= 1 - d + TOL


@settings(max_examples=300, deadline=None, derandomize=True)
@given(graphs())
def test_only_what_seeds_reach_gets_trust(graph) -> None:
    edges, seeds, d = graph
    trust = seeded_trust(edges, seeds, d)
    reach = reachable(edges, seeds)
    for node, t in trust.items():
        if node in reach:
            assert t > 0
        else:
            assert t == 0.0  # exactly: nothing ever flows there


@settings(max_examples=300, deadline=None, derandomize=True)
@given(graphs(), st.data())
def test_a_region_keeps_at_most_its_inflow_times_1_minus_d_over_d(graph, data) -> None:
    """For any set X without seeds: trust(X) <= (1 - d) / d * Σ_{u ∉ X, v ∈ X} t_u C_uv.

    This is the sybil bound: a cluster gets only what its edges from outside carry in, amplified
    by at most (1 - d) / d, however densely it vouches for itself.
    """
    edges, seeds, d = graph
    trust = seeded_trust(edges, seeds, d)
    candidates = sorted(set(trust) - set(seeds))
    region = (
        set(data.draw(st.lists(st.sampled_from(candidates), unique=True))) if candidates else set()
    )
    out_weight: dict[str, float] = {}
    for e in edges:
        if e.truster != e.trustee:
            out_weight[e.truster] = out_weight.get(e.truster, 0.0) + e.weight
    inflow = sum(
        trust[e.truster] * e.weight / out_weight[e.truster]
        for e in edges
        if e.truster not in region and e.trustee in region and e.truster != e.trustee
    )
    assert sum(trust[v] for v in region) <= (1 - d) / d * inflow + TOL


@settings(max_examples=100, deadline=None, derandomize=True)
@given(graphs(), st.randoms(use_true_random=False))
def test_order_of_edges_and_seeds_does_not_matter(graph, rnd: random.Random) -> None:
    edges, seeds, d = graph
    shuffled = edges[:]
    rnd.shuffle(shuffled)
    assert seeded_trust(shuffled, tuple(reversed(seeds)), d) == seeded_trust(edges, seeds, d)


def test_two_nodes_match_the_closed_form() -> None:
    """s -> a, a trusts no one (so jumps back to s): t_s = 1 / (2 - d), t_a = (1 - d) / (2 - d)."""
    d = 0.3
    trust = seeded_trust([TrustEdge("s", "a")], ["s"], d)
    assert trust["s"] == pytest.approx(1 / (2 - d), abs=1e-12)
    assert trust["a"] == pytest.approx((1 - d) / (2 - d), abs=1e-12)


def test_edge_weights_are_relative_per_truster() -> None:
    scaled = [TrustEdge("s", "a", 3.0), TrustEdge("s", "b", 1.0)]
    unit = [TrustEdge("s", "a", 0.75), TrustEdge("s", "b", 0.25)]
    assert seeded_trust(scaled, ["s"]) == pytest.approx(seeded_trust(unit, ["s"]), abs=1e-15)
    trust = seeded_trust(scaled, ["s"])
    assert trust["a"] == pytest.approx(3 * trust["b"])


def test_self_trust_is_ignored() -> None:
    edges = [TrustEdge("s", "a"), TrustEdge("a", "a")]
    assert seeded_trust(edges, ["s"]) == seeded_trust(edges[:1], ["s"])


@pytest.mark.parametrize("damping", [0.0, 1.0, -0.1, 1.5, float("nan"), True])
def test_damping_outside_the_open_unit_interval_is_refused(damping: float) -> None:
    with pytest.raises(ReputationError, match="damping"):
        seeded_trust([TrustEdge("s", "a")], ["s"], damping)


def test_empty_seed_set_is_refused() -> None:
    with pytest.raises(ReputationError, match="seed set is empty"):
        seeded_trust([TrustEdge("s", "a")], [])


def test_repeated_edge_is_refused() -> None:
    with pytest.raises(ReputationError, match="more than one trust edge s -> a"):
        seeded_trust([TrustEdge("s", "a"), TrustEdge("s", "a", 2.0)], ["s"])


def test_no_convergence_is_an_error_not_a_silent_result() -> None:
    with pytest.raises(ReputationError, match="did not converge"):
        seeded_trust([TrustEdge("s", "a"), TrustEdge("a", "s")], ["s"], 0.01, max_iter=3)


def test_weights_cap_at_the_trust_weighted_median_and_ignore_account_counts() -> None:
    trust = {"seed": 0.4, "h1": 0.2, "h2": 0.2, "h3": 0.1, "low": 0.1}
    weights = trust_weights(trust)
    # seed and h1 hold half of all trust: the reference is h1's 0.2; at or above it weighs 1
    assert weights == {"seed": 1.0, "h1": 1.0, "h2": 1.0, "h3": 0.5, "low": 0.5}
    # splitting the low account's trust over 1000 accounts does not raise their total weight
    split = {**{k: v for k, v in trust.items() if k != "low"}}
    split.update({f"sybil{i}": 0.1 / 1000 for i in range(1000)})
    total = sum(w for k, w in trust_weights(split).items() if k.startswith("sybil"))
    assert total == pytest.approx(0.5)


def test_untrusted_accounts_weigh_nothing() -> None:
    assert trust_weights({"s": 1.0, "x": 0.0}) == {"s": 1.0, "x": 0.0}
    assert trust_weights({}) == {}
