"""Exact top-k passage search over int8 embeddings, in blocks, with integer-exact scores.

A passage's score is the exact dot product of two int8 vectors, an int32. Passages rank by score,
descending, then by position, ascending; positions are snapshot order (ascending CID), so every
node searching the same snapshot returns the same passages in the same order, ties included, and a
result can be checked against the reference
`np.lexsort((np.arange(n), -(embeddings.astype(np.int64) @ query.astype(np.int64))))[:k]`.

Why floats inside: numpy exposes no fast int8 matrix product, but BLAS float products of small
integers are exact. A product of two int8 values has magnitude at most 128 * 128 = 2**14, so every
partial sum of a length-d dot product is at most d * 2**14; float32 holds every integer up to
2**24, so for d <= 1024 whatever summation order BLAS picks (blocked, fused, threaded) is exact.
Larger d uses float64 (exact to 2**53). Scores become integers again before they leave the module.

Memory: `top_k` converts one block of `block_rows` rows at a time, so it holds about
block_rows * d * 4 bytes plus the block's (m, block_rows) score matrix. `ExactIndex` converts the
whole matrix once when the float copy fits its memory budget (n * d * 4 bytes for d <= 1024), so a
search is a plain BLAS product over cached floats, the speed class of faiss' flat index; otherwise
it converts block by block on every search, like `top_k`.
"""

import operator
from collections.abc import Callable

import numpy as np

from aigora.core.errors import AigoraError

PRODUCT_MAX = 128 * 128
"""Largest magnitude of one int8 x int8 product."""

FP32_MAX_D = 2**24 // PRODUCT_MAX
"""Largest dimension for which float32 sums of int8 products are exact (1024)."""

INT32_MAX_D = (2**31 - 1) // PRODUCT_MAX
"""Largest dimension for which every score fits an int32 (131071)."""


class SearchError(AigoraError):
    """Embeddings, queries or search parameters are unusable for an exact search."""


def float_dtype(d: int) -> type[np.floating]:
    """The narrowest float type in which all dot products of length-d int8 vectors are exact."""
    return np.float32 if d <= FP32_MAX_D else np.float64


def check_int8_matrix(name: str, array: np.ndarray, error: type[AigoraError] = SearchError) -> None:
    """Refuse (with `error`) anything but a non-empty 2-D int8 array whose dot products fit int32:
    the input every exact int8 computation here (search, valuation) takes."""
    if not isinstance(array, np.ndarray) or array.dtype != np.int8:
        kind = getattr(array, "dtype", type(array).__name__)
        raise error(f"{name} must be an int8 numpy array, got {kind}; quantise it first")
    if array.ndim != 2:
        raise error(f"{name} must be 2-D (items, dim), got shape {array.shape}")
    n, d = array.shape
    if n == 0:
        raise error(f"{name} is empty: there are no items")
    if d == 0 or d > INT32_MAX_D:
        raise error(f"{name} dimension must be between 1 and {INT32_MAX_D}, got {d}")


def _as_query_matrix(queries: np.ndarray, d: int) -> np.ndarray:
    """Queries as an (m, d) int8 matrix; a single (d,) query becomes m = 1."""
    if not isinstance(queries, np.ndarray) or queries.dtype != np.int8:
        kind = getattr(queries, "dtype", type(queries).__name__)
        raise SearchError(f"queries must be an int8 numpy array, got {kind}; quantise them first")
    if queries.ndim == 1:
        queries = queries[None, :]
    if queries.ndim != 2:
        raise SearchError(f"queries must be (dim,) or (queries, dim), got shape {queries.shape}")
    if queries.shape[1] != d:
        raise SearchError(f"query dimension {queries.shape[1]} does not match the index's {d}")
    return queries


def check_positive(name: str, value: int, error: type[AigoraError] = SearchError) -> int:
    """`value` as an int, or `error` saying why it is not a positive integer."""
    try:
        value = operator.index(value)
    except TypeError:
        raise error(f"{name} must be an integer, got {value!r}") from None
    if value < 1:
        raise error(f"{name} must be at least 1, got {value}")
    return value


def _block_best(row: np.ndarray, kk: int) -> np.ndarray:
    """Indices into `row` of its kk best entries by (value desc, index asc), in no set order.

    Everything strictly above the kk-th value, then the lowest indices among those equal to it:
    an entry left out has at least kk entries ranked ahead of it, so it cannot be in any top-kk
    that includes this row.
    """
    if kk >= row.size:
        return np.arange(row.size)
    kth = np.partition(row, row.size - kk)[row.size - kk]
    above = np.flatnonzero(row > kth)
    ties = np.flatnonzero(row == kth)[: kk - above.size]
    return np.concatenate((above, ties))


def _merge(
    pos: np.ndarray, score: np.ndarray, new_pos: np.ndarray, new_score: np.ndarray, kk: int
) -> tuple[np.ndarray, np.ndarray]:
    """The kk best of two candidate sets, ranked by (score desc, position asc)."""
    pos, score = np.concatenate((pos, new_pos)), np.concatenate((score, new_score))
    order = np.lexsort((pos, -score))[:kk]
    return pos[order], score[order]


def _search(
    block_scores: Callable[[np.ndarray, int, int], np.ndarray],
    n: int,
    queries: np.ndarray,
    k: int,
    block_rows: int,
    ftype: type[np.floating],
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of every query, scanning blocks of rows in position order.

    `block_scores(q, start, stop)` returns the (stop - start, m) exact scores, as floats, of rows
    start:stop against the float queries q (rows first: BLAS is faster that way round). Once a
    query holds kk candidates, a later block can only contribute rows scoring strictly above its
    current kk-th score: a row that merely equals it comes after every kept row in position, so it
    ranks behind them. That test is one vectorised comparison per block and leaves few rows to
    merge; only the first block(s), before kk rows are seen, need a full selection per query.
    """
    m, kk = queries.shape[0], min(k, n)
    q = queries.astype(ftype)
    best_pos = [np.empty(0, np.int64)] * m
    best_score = [np.empty(0, np.int64)] * m
    kth = np.empty(m, ftype)  # each query's kk-th best score so far, valid once seen >= kk
    seen = 0
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        scores = block_scores(q, start, stop)  # (stop - start, m)
        if seen >= kk:
            flat = np.flatnonzero(scores > kth)  # 1-D: far faster than a 2-D nonzero
            by_query = np.argsort(flat % m, kind="stable")  # rows stay ascending per query
            rows, hit_query = np.divmod(flat[by_query], m)
            bounds = np.searchsorted(hit_query, np.arange(m + 1))
            slices = ((i, rows[bounds[i] : bounds[i + 1]]) for i in np.unique(hit_query))
            found = ((i, idx, scores[idx, i]) for i, idx in slices)
        else:
            every = np.arange(stop - start)
            found = ((i, every, row) for i, row in enumerate(np.ascontiguousarray(scores.T)))
        for i, idx, values in found:
            if idx.size > kk:
                keep = _block_best(values, kk)
                idx, values = idx[keep], values[keep]
            best_pos[i], best_score[i] = _merge(
                best_pos[i], best_score[i], idx + start, values.astype(np.int64), kk
            )
            kth[i] = best_score[i][-1]
        seen = stop
    if m == 0:
        return np.empty((0, kk), np.int64), np.empty((0, kk), np.int32)
    return np.stack(best_pos), np.stack(best_score).astype(np.int32)


def _converting_scorer(embeddings: np.ndarray) -> Callable[[np.ndarray, int, int], np.ndarray]:
    """Block scores that convert each block of int8 rows to floats on the fly (bounded memory)."""
    ftype = float_dtype(embeddings.shape[1])

    def block_scores(q: np.ndarray, start: int, stop: int) -> np.ndarray:
        return embeddings[start:stop].astype(ftype) @ q.T

    return block_scores


def top_k(
    embeddings: np.ndarray, queries: np.ndarray, k: int, block_rows: int = 65536
) -> tuple[np.ndarray, np.ndarray]:
    """Positions and scores, (m, kk) int64 and int32, of each query's kk = min(k, n) best passages.

    Exact: scores are integer dot products, ranked by score descending then position ascending,
    ties included. Memory stays near block_rows * d * 4 bytes plus an (m, block_rows) score block.
    A single (d,) query is searched as m = 1 and still gets 2-D results.
    """
    check_int8_matrix("embeddings", embeddings)
    n, d = embeddings.shape
    q = _as_query_matrix(queries, d)
    k, block_rows = check_positive("k", k), check_positive("block_rows", block_rows)
    return _search(_converting_scorer(embeddings), n, q, k, block_rows, float_dtype(d))


class ExactIndex:
    """Exact top-k search over one snapshot's int8 embeddings, reusable across queries.

    When the float copy (n * d * 4 bytes, or * 8 for d > 1024) fits `memory_budget_bytes`, it is
    made once here and every search is a BLAS product over it; otherwise each search converts
    block by block, holding about block_rows * d * 4 bytes at a time. Either way results are
    exact and identical. The int8 array is kept by reference, not copied: do not modify it.
    """

    def __init__(
        self,
        embeddings: np.ndarray,
        memory_budget_bytes: int = 2 * 2**30,
        block_rows: int = 65536,
    ) -> None:
        check_int8_matrix("embeddings", embeddings)
        self._block_rows = check_positive("block_rows", block_rows)
        if memory_budget_bytes < 0:
            raise SearchError(f"memory_budget_bytes must be >= 0, got {memory_budget_bytes}")
        self._embeddings = embeddings
        self._ftype = float_dtype(embeddings.shape[1])
        self._floats: np.ndarray | None = None
        if embeddings.size * np.dtype(self._ftype).itemsize <= memory_budget_bytes:
            self._floats = embeddings.astype(self._ftype)

    @property
    def n(self) -> int:
        """Number of passages."""
        return self._embeddings.shape[0]

    @property
    def d(self) -> int:
        """Embedding dimension."""
        return self._embeddings.shape[1]

    @property
    def cached(self) -> bool:
        """Whether a float copy of the whole matrix is held (the fast path)."""
        return self._floats is not None

    def _block_scores(self) -> Callable[[np.ndarray, int, int], np.ndarray]:
        floats = self._floats
        if floats is None:
            return _converting_scorer(self._embeddings)
        return lambda q, start, stop: floats[start:stop] @ q.T

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions (m, kk) int64 and scores (m, kk) int32, exactly as `top_k` returns them."""
        q = _as_query_matrix(queries, self.d)
        k = check_positive("k", k)
        return _search(self._block_scores(), self.n, q, k, self._block_rows, self._ftype)

    def scores(self, query: np.ndarray) -> np.ndarray:
        """Every passage's exact int32 score for one (d,) query, in position order."""
        if isinstance(query, np.ndarray) and query.ndim != 1:
            raise SearchError(f"scores() takes one (dim,) query, got shape {query.shape}")
        q = _as_query_matrix(query, self.d).astype(self._ftype)
        block_scores = self._block_scores()
        out = np.empty(self.n, np.int32)
        for start in range(0, self.n, self._block_rows):
            stop = min(start + self._block_rows, self.n)
            out[start:stop] = block_scores(q, start, stop)[:, 0]
        return out
