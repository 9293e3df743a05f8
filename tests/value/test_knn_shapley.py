"""KNN-Shapley against exact Shapley by subset enumeration, and its invariants."""

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.value import ValuationError, knn_shapley
from aigora.value._knn_shapley import nearest_first


def ranking(train: np.ndarray, query: np.ndarray) -> list[int]:
    """Training indices nearest first: exact int dot product desc, then index asc."""
    scores = train.astype(np.int64) @ query.astype(np.int64)
    return [int(i) for i in np.lexsort((np.arange(train.shape[0]), -scores))]


def utility(members: set[int], order: list[int], labels: np.ndarray, label: int, k: int) -> float:
    """Jia et al.'s unweighted K-NN utility: share of the min(K, |S|) nearest of S with `label`."""
    nearest = [i for i in order if i in members][:k]
    return sum(int(labels[i] == label) for i in nearest) / k


def shapley_brute_force(
    train: np.ndarray,
    train_labels: np.ndarray,
    valid: np.ndarray,
    valid_labels: np.ndarray,
    k: int,
) -> np.ndarray:
    """Exact Shapley values of the averaged utility by enumerating every subset (small n only)."""
    n = train.shape[0]
    values = np.zeros(n)
    for query, label in zip(valid, valid_labels, strict=True):
        order = ranking(train, query)
        for i in range(n):
            others = [j for j in range(n) if j != i]
            for size in range(n):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for subset in combinations(others, size):
                    s = set(subset)
                    gain = utility(s | {i}, order, train_labels, label, k)
                    values[i] += weight * (gain - utility(s, order, train_labels, label, k))
    return values / valid.shape[0]


def pydvl_recursion(
    train: np.ndarray,
    train_labels: np.ndarray,
    valid: np.ndarray,
    valid_labels: np.ndarray,
    k: int,
) -> np.ndarray:
    """pyDVL's `knn_shapley` loop (pydvl/value/shapley/knn.py, v0.10), ported to our ranking.

    pyDVL asserts K < N and divides the base case by N; max(K, N) is that, extended to N <= K.
    """
    n = train.shape[0]
    res = np.zeros(n)
    for query, label in zip(valid, valid_labels, strict=True):
        ii = ranking(train, query)
        values = np.zeros(n)
        idx = ii[-1]
        values[idx] = int(train_labels[idx] == label) / max(k, n)
        for i in range(n - 1, 0, -1):
            prev_idx, idx = idx, ii[i - 1]
            step = int(train_labels[idx] == label) - int(train_labels[prev_idx] == label)
            values[idx] = values[prev_idx] + step / max(k, i)
        res += values
    return res / valid.shape[0]


@st.composite
def problems(draw: st.DrawFn, max_n: int = 7) -> tuple:
    """Small int8 problems; entries in -2..2 over few dims, so tied dot products are common."""
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, 4))
    d = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    train = rng.integers(-2, 3, (n, d)).astype(np.int8)
    valid = rng.integers(-2, 3, (m, d)).astype(np.int8)
    n_labels = draw(st.integers(1, 3))
    return (
        train,
        rng.integers(0, n_labels, n),
        valid,
        rng.integers(0, n_labels, m),
        draw(st.integers(1, 4)),
    )


@settings(max_examples=150, deadline=None)
@given(problems())
def test_equals_brute_force_shapley(problem: tuple) -> None:
    expected = shapley_brute_force(*problem)
    np.testing.assert_allclose(knn_shapley(*problem), expected, rtol=0, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(problems(max_n=40))
def test_equals_pydvl_recursion_bit_for_bit(problem: tuple) -> None:
    assert np.array_equal(knn_shapley(*problem), pydvl_recursion(*problem))


@settings(max_examples=100, deadline=None)
@given(problems(max_n=40))
def test_efficiency_values_sum_to_mean_full_utility(problem: tuple) -> None:
    train, yt, valid, yv, k = problem
    full = set(range(train.shape[0]))
    mean_u = np.mean(
        [utility(full, ranking(train, q), yt, y, k) for q, y in zip(valid, yv, strict=True)]
    )
    assert knn_shapley(*problem).sum() == pytest.approx(mean_u, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(problems(max_n=40), st.integers(1, 5))
def test_block_size_does_not_change_a_bit(problem: tuple, block: int) -> None:
    assert np.array_equal(knn_shapley(*problem, block=block), knn_shapley(*problem, block=64))


def test_symmetric_items_get_equal_values() -> None:
    # Items 1 and 2 are equally near every query and share a label: swapping them changes no
    # utility, so their values are equal, though tie-breaking ranks one ahead of the other.
    rng = np.random.default_rng(7)
    base = rng.integers(-20, 21, (6, 16)).astype(np.int8)
    train = np.concatenate((base[:2], base[1:2], base[2:]))
    labels = np.array([0, 1, 1, 0, 2, 1, 0])
    valid = rng.integers(-20, 21, (5, 16)).astype(np.int8)
    values = knn_shapley(train, labels, valid, rng.integers(0, 3, 5), k=2)
    assert values[1] == pytest.approx(values[2], abs=1e-15)


def test_ties_go_to_the_lower_index() -> None:
    train = np.array([[1, 0], [3, 0], [3, 0]], np.int8)
    values = knn_shapley(train, np.array([1, 0, 1]), np.array([[1, 0]], np.int8), np.array([1]), 1)
    # Item 1 (wrong label) ties with item 2 (right label) and ranks first by its lower index, so
    # it hides item 2 from the 1-NN: it is worth less than item 2, not the same.
    expected = shapley_brute_force(train, np.array([1, 0, 1]), np.array([[1, 0]], np.int8), [1], 1)
    np.testing.assert_allclose(values, expected, atol=1e-15)
    assert values[1] < values[2]


def test_large_dimension_matches_int64_ranking() -> None:
    # d = 1024 is the largest float32-exact dimension; scores near its bound still rank exactly.
    rng = np.random.default_rng(3)
    train = rng.choice(np.array([-128, 127], np.int16), (30, 1024)).astype(np.int8)
    valid = rng.choice(np.array([-128, 127], np.int16), (3, 1024)).astype(np.int8)
    yt, yv = rng.integers(0, 2, 30), rng.integers(0, 2, 3)
    assert np.array_equal(
        knn_shapley(train, yt, valid, yv, 3), pydvl_recursion(train, yt, valid, yv, 3)
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"train": np.zeros((3, 2), np.float32)}, "int8"),
        ({"train": np.zeros((0, 2), np.int8), "train_labels": np.zeros(0, int)}, "empty"),
        ({"valid": np.zeros((2, 3), np.int8)}, "dimension"),
        ({"train_labels": np.zeros(2, int)}, "train_labels"),
        ({"valid_labels": np.array([0, -1])}, "non-negative"),
        ({"valid_labels": np.array([0.0, 1.0])}, "integers"),
        ({"k": 0}, "at least 1"),
        ({"k": 1.5}, "integer"),
        ({"train": np.zeros(3, np.int8)}, "2-D"),
    ],
)
def test_rejects_bad_inputs(change: dict, message: str) -> None:
    args = {
        "train": np.zeros((3, 2), np.int8),
        "train_labels": np.zeros(3, int),
        "valid": np.zeros((2, 2), np.int8),
        "valid_labels": np.zeros(2, int),
        "k": 1,
    } | change
    with pytest.raises(ValuationError, match=message):
        knn_shapley(**args)


@pytest.mark.parametrize(("span", "n"), [(16_500, 100_000), (3, 50), (2**20, 1_000), (2**30, 64)])
def test_nearest_first_matches_lexsort_on_both_key_widths(span: int, n: int) -> None:
    rng = np.random.default_rng(span)
    scores = rng.integers(-span, span, (4, n)).astype(np.float64)
    reference = np.stack([np.lexsort((np.arange(n), -row)) for row in scores])
    assert np.array_equal(nearest_first(scores), reference)
