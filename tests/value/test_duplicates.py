"""Duplicate groups and the rule that copies cannot multiply a contributor's value."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from aigora.value import (
    ValuationError,
    deduplicated_values,
    duplicate_groups,
    knn_shapley,
    representatives,
    value_items,
)

D = 64


def unit_int8(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random L2-normalised vectors x 127 as int8, like quantised sentence embeddings."""
    x = rng.standard_normal((n, D))
    return np.round(x / np.linalg.norm(x, axis=1, keepdims=True) * 127).astype(np.int8)


def threshold_for(e: np.ndarray) -> int:
    """A near-identity threshold: 95% of the smallest squared norm."""
    return int(0.95 * (e.astype(np.int64) ** 2).sum(axis=1).min())


def perturb(row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The row with one coordinate moved by one int8 unit (towards zero, so it stays in range)."""
    out = row.copy()
    j = int(rng.integers(0, row.size))
    out[j] -= np.sign(out[j]) if out[j] else -1
    return out


def test_items_join_the_earliest_representative_they_are_near() -> None:
    e = np.array([[10, 0], [0, 10], [10, 1], [9, 9], [0, 11]], np.int8)
    # Links at threshold 100: 0-2 (100), 1-4 (110), 2-3 (99: no), 0-3 (90: no), 3-1/3-4 (no).
    assert duplicate_groups(e, 100).tolist() == [0, 1, 0, 3, 1]


def test_threshold_equality_counts() -> None:
    e = np.array([[10, 0], [7, 3]], np.int8)  # dot = 70
    assert duplicate_groups(e, 70).tolist() == [0, 0]
    assert duplicate_groups(e, 71).tolist() == [0, 1]


def test_groups_are_stars_so_a_chain_cannot_bridge_two_items() -> None:
    # 0 ~ 1 and 1 ~ 2 but not 0 ~ 2: 1 joins 0, but 2 is near no representative and stays one.
    e = np.array([[10, 0, 0], [7, 7, 0], [0, 10, 0], [0, 0, 10]], np.int8)
    assert duplicate_groups(e, 70).tolist() == [0, 0, 2, 3]
    assert duplicate_groups(e[::-1].copy(), 70).tolist() == [0, 1, 1, 3]


def test_a_morphing_chain_uploaded_later_cannot_zero_a_victim() -> None:
    """An attacker publishes A, a victim later publishes V (not near A); the attacker then
    uploads near-copies morphing from A to V. V keeps its own group and its value."""
    steps = 12
    angles = np.linspace(0, np.pi / 2, steps)
    path = np.round(127 * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.int8)
    attacker, victim, chain = path[0], path[-1], path[1:-1]
    e = np.vstack([attacker, victim, chain])  # publication order: A, V, then the chain
    threshold = int(0.95 * 127 * 127)
    assert int(attacker.astype(int) @ victim.astype(int)) < threshold
    links = e.astype(np.int64) @ e.astype(np.int64).T >= threshold
    _, component = connected_components(csr_matrix(links), directed=False)
    assert component[0] == component[1], "the chain does bridge A and V transitively"
    groups = duplicate_groups(e, threshold)
    assert groups[1] == 1  # yet the victim stays its own representative


def test_keys_join_groups_regardless_of_embedding() -> None:
    e = np.array([[10, 0], [0, 10], [-10, 0]], np.int8)
    assert duplicate_groups(e, 1000, keys=["a", "b", "a"]).tolist() == [0, 1, 0]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 50), st.integers(-200, 200))
def test_block_size_does_not_change_groups(seed: int, block: int, threshold: int) -> None:
    rng = np.random.default_rng(seed)
    e = rng.integers(-5, 6, (40, 4)).astype(np.int8)
    linked = e.astype(np.int64) @ e.astype(np.int64).T >= threshold
    groups = duplicate_groups(e, threshold, block=block)
    assert np.array_equal(groups, duplicate_groups(e, threshold, block=4096))
    # The star rule, item by item: a representative is near no earlier representative; any
    # other item is near its representative, the lowest-index representative it is near.
    assert np.all(groups <= np.arange(40))
    assert np.array_equal(groups[groups], groups)
    for i in range(40):
        earlier_reps = [r for r in range(i) if groups[r] == r]
        near = [r for r in earlier_reps if linked[i, r]]
        assert groups[i] == (near[0] if near else i)


@st.composite
def uploads(draw: st.DrawFn) -> tuple:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n, m = draw(st.integers(2, 30)), draw(st.integers(1, 20))
    train, valid = unit_int8(rng, n), unit_int8(rng, m)
    yt, yv = rng.integers(0, 3, n), rng.integers(0, 3, m)
    return train, yt, valid, yv, draw(st.integers(1, 5)), rng


@settings(max_examples=60, deadline=None)
@given(uploads(), st.integers(1, 4), st.booleans())
def test_copies_never_raise_a_contributors_total(problem: tuple, copies: int, near: bool) -> None:
    train, yt, valid, yv, k, rng = problem
    threshold = threshold_for(train)
    before = value_items(train, yt, valid, yv, k, threshold)
    target = int(rng.integers(0, train.shape[0]))
    extra = [perturb(train[target], rng) if near else train[target] for _ in range(copies)]
    grown = np.concatenate((train, np.stack(extra)))
    labels = np.concatenate((yt, rng.integers(0, 3, copies)))  # copies may even relabel
    after = value_items(grown, labels, valid, yv, k, threshold)
    n = train.shape[0]
    # Nobody's value moves, and the copies (later uploads) earn exactly nothing.
    assert np.array_equal(after[:n], before)
    assert np.all(after[n:] == 0)
    assert after[[target, *range(n, n + copies)]].sum() <= before[target]


@settings(max_examples=40, deadline=None)
@given(uploads())
def test_representatives_get_knn_shapley_of_the_deduplicated_set(problem: tuple) -> None:
    train, yt, valid, yv, k, rng = problem
    # Make some items copies of earlier ones so groups are non-trivial.
    n = train.shape[0]
    for i in range(1, n):
        if rng.random() < 0.3:
            train[i] = perturb(train[int(rng.integers(0, i))], rng)
    threshold = threshold_for(train)
    groups = duplicate_groups(train, threshold)
    reps = representatives(groups)
    values = value_items(train, yt, valid, yv, k, threshold)
    assert np.array_equal(values[reps], knn_shapley(train[reps], yt[reps], valid, yv, k))
    copies = np.setdiff1d(np.arange(n), reps)
    assert np.all(values[copies] == 0)


def test_deduplicated_values_rejects_misaligned_values() -> None:
    with pytest.raises(ValuationError, match="one value per representative"):
        deduplicated_values(np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))


def test_rejects_bad_embeddings_and_keys() -> None:
    with pytest.raises(ValuationError, match="int8"):
        duplicate_groups(np.zeros((2, 2), np.float32), 1)
    with pytest.raises(ValuationError, match="keys"):
        duplicate_groups(np.zeros((2, 2), np.int8), 1, keys=["a"])
