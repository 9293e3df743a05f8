"""Exact top-k search: identical to the int64 lexsort reference on every input, ties included."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aigora.core.errors import AigoraError
from aigora.index._search import FP32_MAX_D, ExactIndex, SearchError, top_k


def reference(embeddings: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The contract, written the obvious way: int64 scores, lexsort on (-score, position)."""
    n = embeddings.shape[0]
    positions, scores = [], []
    for query in queries:
        s = embeddings.astype(np.int64) @ query.astype(np.int64)
        order = np.lexsort((np.arange(n), -s))[:k]
        positions.append(order)
        scores.append(s[order])
    return np.array(positions, np.int64).reshape(-1, min(k, n)), np.array(scores, np.int64)


def assert_same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    positions, scores = got
    assert positions.dtype == np.int64
    assert scores.dtype == np.int32
    np.testing.assert_array_equal(positions, want[0])
    np.testing.assert_array_equal(scores.reshape(want[1].shape), want[1])


# Few distinct values and few distinct rows force ties; the extremes force large sums.
VALUES = st.sampled_from([-128, -127, -1, 0, 1, 2, 127])


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, int]:
    d = draw(st.integers(1, 6))
    distinct = draw(hnp.arrays(np.int8, (draw(st.integers(1, 5)), d), elements=VALUES))
    n = draw(st.integers(1, 40))
    picks = draw(hnp.arrays(np.int64, n, elements=st.integers(0, distinct.shape[0] - 1)))
    embeddings = distinct[picks]
    queries = draw(hnp.arrays(np.int8, (draw(st.integers(1, 4)), d), elements=VALUES))
    k = draw(st.integers(1, n + 3))
    block_rows = draw(st.sampled_from([1, 2, 3, 7, n, n + 5]))
    return embeddings, queries, k, block_rows


@settings(max_examples=300, deadline=None, derandomize=True)
@given(problems())
def test_top_k_matches_reference(problem: tuple[np.ndarray, np.ndarray, int, int]) -> None:
    embeddings, queries, k, block_rows = problem
    want = reference(embeddings, queries, k)
    assert_same(top_k(embeddings, queries, k, block_rows=block_rows), want)
    for budget in (2**30, 0):  # cached float copy, then block-by-block conversion
        index = ExactIndex(embeddings, memory_budget_bytes=budget, block_rows=block_rows)
        assert index.cached == (budget > 0)
        assert_same(index.search(queries, k), want)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(problems())
def test_scores_match_int64_reference(problem: tuple[np.ndarray, np.ndarray, int, int]) -> None:
    embeddings, queries, _, block_rows = problem
    for budget in (2**30, 0):
        index = ExactIndex(embeddings, memory_budget_bytes=budget, block_rows=block_rows)
        got = index.scores(queries[0])
        assert got.dtype == np.int32
        want = (embeddings.astype(np.int64) @ queries[0].astype(np.int64)).astype(np.int32)
        np.testing.assert_array_equal(got, want)


@settings(
    max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.integers(1, 30), st.integers(1, 200), st.integers(1, 64))
def test_ties_everywhere(n: int, k: int, block_rows: int) -> None:
    """All rows identical: the ranking is purely by position."""
    embeddings = np.full((n, 8), -128, np.int8)
    query = np.full(8, -128, np.int8)
    positions, scores = top_k(embeddings, query, k, block_rows=block_rows)
    np.testing.assert_array_equal(positions, [np.arange(min(k, n))])
    assert (scores == 8 * 128 * 128).all()


def test_single_query_gives_2d_results() -> None:
    embeddings = np.arange(-60, 60, dtype=np.int8).reshape(30, 4)
    positions, scores = top_k(embeddings, embeddings[3], 5)
    assert positions.shape == scores.shape == (1, 5)
    assert_same(ExactIndex(embeddings).search(embeddings[3], 5), (positions, scores))


def test_no_queries_gives_empty_results() -> None:
    embeddings = np.ones((5, 3), np.int8)
    positions, scores = top_k(embeddings, np.empty((0, 3), np.int8), 10)
    assert positions.shape == scores.shape == (0, 5)


@pytest.mark.parametrize("budget", [2**30, 0])
def test_dimension_beyond_float32_bound_is_exact(budget: int) -> None:
    """d = 2048 with extreme values: sums reach 2**25, past float32's exact range."""
    d = 2048
    assert d > FP32_MAX_D
    rng = np.random.default_rng(7)
    embeddings = np.full((50, d), 127, np.int8)
    embeddings[10:] = rng.integers(-128, 128, (40, d), dtype=np.int8)
    embeddings[20, :] = -128
    embeddings[21, 0] = 126  # differs from the all-127 rows by one unit product
    embeddings[21, 1:] = 127
    queries = np.stack([np.full(d, 127, np.int8), np.full(d, -128, np.int8), embeddings[33]])
    index = ExactIndex(embeddings, memory_budget_bytes=budget, block_rows=16)
    assert_same(index.search(queries, 12), reference(embeddings, queries, 12))
    assert_same(top_k(embeddings, queries, 12, block_rows=7), reference(embeddings, queries, 12))
    want = (embeddings.astype(np.int64) @ queries[1].astype(np.int64)).astype(np.int32)
    np.testing.assert_array_equal(index.scores(queries[1]), want)
    assert want.max() == d * 128 * 128  # the all -128 row against the all -128 query


def test_full_scale_sums_at_float32_bound_are_exact() -> None:
    """d = 1024, the largest float32 dimension: the extreme sum 2**24 and its neighbours."""
    d = FP32_MAX_D
    embeddings = np.full((4, d), -128, np.int8)
    embeddings[1, 0] = -127  # 2**24 - 128
    embeddings[2, :3] = 127  # mixed signs, odd partial sums
    embeddings[3, ::2] = 1
    query = np.full(d, -128, np.int8)
    assert_same(top_k(embeddings, query, 4, block_rows=3), reference(embeddings, query[None], 4))


@pytest.mark.parametrize(
    ("embeddings", "queries", "k", "message"),
    [
        (np.ones((4, 3), np.float32), np.ones(3, np.int8), 1, "int8"),
        (np.ones((4, 3), np.int16), np.ones(3, np.int8), 1, "int8"),
        ([[1, 2, 3]], np.ones(3, np.int8), 1, "int8"),
        (np.ones(3, np.int8), np.ones(3, np.int8), 1, "2-D"),
        (np.ones((2, 2, 3), np.int8), np.ones(3, np.int8), 1, "2-D"),
        (np.ones((0, 3), np.int8), np.ones(3, np.int8), 1, "empty"),
        (np.ones((4, 3), np.int8), np.ones(3, np.float32), 1, "int8"),
        (np.ones((4, 3), np.int8), np.ones((1, 1, 3), np.int8), 1, "shape"),
        (np.ones((4, 3), np.int8), np.ones(5, np.int8), 1, "does not match"),
        (np.ones((4, 3), np.int8), np.ones(3, np.int8), 0, "at least 1"),
        (np.ones((4, 3), np.int8), np.ones(3, np.int8), -2, "at least 1"),
        (np.ones((4, 3), np.int8), np.ones(3, np.int8), 1.5, "integer"),
    ],
)
def test_invalid_input_raises_search_error(
    embeddings: np.ndarray, queries: np.ndarray, k: int, message: str
) -> None:
    with pytest.raises(SearchError, match=message):
        top_k(embeddings, queries, k)
    if isinstance(embeddings, np.ndarray) and embeddings.dtype == np.int8 and embeddings.ndim == 2:
        if embeddings.shape[0]:
            with pytest.raises(SearchError, match=message):
                ExactIndex(embeddings).search(queries, k)
    else:
        with pytest.raises(SearchError, match=message):
            ExactIndex(embeddings)


def test_search_error_is_an_aigora_error() -> None:
    assert issubclass(SearchError, AigoraError)
    index = ExactIndex(np.ones((4, 3), np.int8))
    with pytest.raises(SearchError, match="block_rows"):
        top_k(np.ones((4, 3), np.int8), np.ones(3, np.int8), 1, block_rows=0)
    with pytest.raises(SearchError, match="one"):
        index.scores(np.ones((2, 3), np.int8))
    with pytest.raises(SearchError, match="memory_budget_bytes"):
        ExactIndex(np.ones((4, 3), np.int8), memory_budget_bytes=-1)


def test_positions_equal_faiss_flat_inner_product() -> None:
    """On random vectors (no ties) our ranking is faiss' exact inner-product ranking."""
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(0)

    def quantise(x: np.ndarray) -> np.ndarray:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return np.rint(x * 127).astype(np.int8)

    embeddings = quantise(rng.standard_normal((20_000, 384)))
    queries = quantise(rng.standard_normal((32, 384)))
    top = np.sort(embeddings.astype(np.int64) @ queries.astype(np.int64).T, axis=0)[-11:]
    queries = queries[(top[1:] > top[:-1]).all(axis=0)]  # only queries whose top 11 are distinct
    assert len(queries) >= 16
    flat = faiss.IndexFlatIP(384)
    flat.add(embeddings.astype(np.float32))
    faiss_scores, faiss_positions = flat.search(queries.astype(np.float32), 10)
    positions, ours = ExactIndex(embeddings, block_rows=4096).search(queries, 10)
    np.testing.assert_array_equal(positions, faiss_positions)
    np.testing.assert_array_equal(ours, faiss_scores.astype(np.int32))
