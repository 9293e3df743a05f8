"""Exact KNN-Shapley values of training items against a labeled validation set.

The utility of a training subset S for one validation point (x, y) is that of the unweighted K-NN
classifier (Jia et al. 2019, "Efficient Task-Specific Data Valuation for Nearest Neighbor
Algorithms"): u(S) = (1/K) * #{the min(K, |S|) items of S nearest to x whose label is y}, so
u(empty) = 0. Its Shapley values have a closed form: with the items sorted nearest-first
a_1..a_N and m_i = 1[label of a_i == y],

    s[a_N] = m_N / max(K, N)
    s[a_i] = s[a_{i+1}] + (m_i - m_{i+1}) / max(K, i)        (= ... / K * min(K, i) / i)

and an item's value is the mean of its s over the validation points. The paper (and pyDVL, which
asserts K < N) writes the base case as m_N / N; that is the Shapley value only when N >= K. For
N < K the farthest item is among the K nearest of every coalition it joins, so it always adds
m_N / K; m_N / max(K, N) covers both cases and equals the paper's wherever that applies.
Guarantees:

- Exact, not sampled: "nearest" is the exact integer dot product of int8 embeddings (computed in
  float BLAS, exact by the argument in `aigora.index._search`), ties broken by lower training
  index first, so every node computes the same ranking.
- Deterministic to the bit: each validation point's s is one sequential reverse cumulative sum in
  the order of the recursion above (the same float operations as pyDVL's loop), and points are
  accumulated one at a time in validation order, so `block` changes speed and memory, never the
  result.
- Efficiency: the values sum to the mean over validation points of u(all items) (up to rounding).

Cost: one (block, n) score matrix, one sort of it and a few gathers per block of validation points.
Memory: a float copy of `train` (4 * n * d bytes for d <= 1024) plus about 40 * block * n bytes.
"""

import numpy as np

from aigora.core.errors import AigoraError
from aigora.index import check_int8_matrix as _check_int8_matrix
from aigora.index import check_positive as _check_positive
from aigora.index import float_dtype


class ValuationError(AigoraError):
    """Embeddings, labels or parameters are unusable for a data valuation."""


def check_int8_matrix(name: str, array: np.ndarray) -> None:
    _check_int8_matrix(name, array, ValuationError)


def _check_labels(name: str, labels: np.ndarray, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValuationError(f"{name} must have shape ({n},), one per item, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValuationError(f"{name} must be integers, got {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValuationError(f"{name} must be non-negative, got {labels.min()}")
    return labels.astype(np.int64)


def check_positive(name: str, value: int) -> int:
    """`value` as an int, or a `ValuationError` saying why it is not a positive integer."""
    return _check_positive(name, value, ValuationError)


def check_inputs(
    train: np.ndarray,
    train_labels: np.ndarray,
    valid: np.ndarray,
    valid_labels: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated int64 train and validation labels and k; raises `ValuationError` otherwise."""
    check_int8_matrix("train", train)
    check_int8_matrix("valid", valid)
    if train.shape[1] != valid.shape[1]:
        raise ValuationError(
            f"valid dimension {valid.shape[1]} does not match train dimension {train.shape[1]}"
        )
    yt = _check_labels("train_labels", train_labels, train.shape[0])
    yv = _check_labels("valid_labels", valid_labels, valid.shape[0])
    return yt, yv, check_positive("k", k)


def nearest_first(scores: np.ndarray) -> np.ndarray:
    """Row-wise order of columns by (score desc, column asc), for integer-valued float scores.

    Sorts packed keys (distance of the score from the block's best, then column) instead of a
    stable argsort: the keys are distinct, so any sort gives the one tie-broken order, and numpy's
    SIMD value sort is faster than an argsort. Keys are uint32 when the block's score range times n
    fits (normalised embeddings: d * 127**2 range, n up to ~130,000), else int64; both give the
    same order, so the result never depends on which was used.
    """
    n = scores.shape[1]
    top, bottom = int(scores.max()), int(scores.min())
    if (top - bottom + 1) * n <= 2**32 and top - bottom < 2**24:  # float32 difference exact
        keys = (top - scores).astype(np.uint32) * np.uint32(n) + np.arange(n, dtype=np.uint32)
    else:
        keys = (top - scores.astype(np.int64)) * n + np.arange(n)  # (b, n), >= 0
    keys.sort(axis=1)
    return (keys % keys.dtype.type(n)).astype(np.intp)


def knn_shapley(
    train: np.ndarray,
    train_labels: np.ndarray,
    valid: np.ndarray,
    valid_labels: np.ndarray,
    k: int,
    block: int = 64,
) -> np.ndarray:
    """Exact KNN-Shapley value (float64, (n,)) of each training item, averaged over `valid`.

    See the module docstring for the utility, the recursion and the guarantees. `train` (n, d) and
    `valid` (m, d) are int8; labels are non-negative ints; `block` validation points are valued at
    once, holding about 40 * block * n bytes.
    """
    yt, yv, k = check_inputs(train, train_labels, valid, valid_labels, k)
    block = check_positive("block", block)
    n, d = train.shape
    ftype = float_dtype(d)
    train_f = train.astype(ftype)
    # max(K, i) for ranks i = 1..N-1: the recursion's step denominators (divided, not multiplied
    # by a reciprocal, so each step rounds exactly as the textbook recursion does).
    step = np.maximum(k, np.arange(1, n, dtype=np.float64))
    total = np.zeros(n)
    for start in range(0, valid.shape[0], block):
        stop = min(start + block, valid.shape[0])
        scores = valid[start:stop].astype(ftype) @ train_f.T  # (b, n), exact integers
        order = nearest_first(scores)  # (b, n) training indices, nearest first
        match = (yt[order] == yv[start:stop, None]).astype(np.float64)  # (b, n)
        terms = np.empty_like(match)
        terms[:, -1] = match[:, -1] / max(k, n)
        terms[:, :-1] = (match[:, :-1] - match[:, 1:]) / step
        s = np.cumsum(terms[:, ::-1], axis=1)[:, ::-1]  # s[:, i] = value of order[:, i]
        by_item = np.empty_like(s)
        np.put_along_axis(by_item, order, s, axis=1)
        for row in by_item:  # one at a time, in validation order: independent of `block`
            total += row
    return total / valid.shape[0]
