"""Duplicate groups, and the rule that keeps copies from multiplying a contributor's value.

The rule: items whose embeddings have an exact int8 dot product >= `threshold` (or that share a
key, such as a CID) are near-duplicates; groups are the connected components of that relation. Only
each group's representative, its lowest index, takes part in the valuation, and it keeps the value
it earns; every other member gets 0. Callers order items by publication, so the representative is
the earliest upload.

Why: KNN-Shapley splits credit between items that compete for the same neighbourhood, but it also
pays each copy of a useful item separately, so uploading an item k times could earn up to k shares.
Valuing the deduplicated set means a copy never competes with (nor dilutes) its original, and
giving copies 0 means re-uploading, or near-copying with a small perturbation, earns nothing more
than the one item: a contributor's total never grows by adding copies of their own items, and a
later copier of someone else's item gets nothing.

Known limit: because groups are transitive, a crafted chain of near-copies can join two items
that are not near-duplicates of each other, zeroing the later one. The threshold should be high
(near-identity) so such a chain needs items that are themselves near-copies of both.
"""

from collections.abc import Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from aigora.index._search import float_dtype
from aigora.value._knn_shapley import (
    ValuationError,
    check_inputs,
    check_int8_matrix,
    check_positive,
    knn_shapley,
)


def duplicate_groups(
    embeddings: np.ndarray,
    threshold: int,
    block: int = 4096,
    keys: Sequence[object] | None = None,
) -> np.ndarray:
    """Group id (int64, (n,)) of each item: the lowest index in its near-duplicate group.

    Items i and j are linked when dot(e_i, e_j) >= threshold exactly (equality counts), or when
    `keys` is given and keys[i] == keys[j]; groups are connected components of those links, so the
    relation is transitive. Scans the upper triangle in (block, n) score blocks.
    """
    check_int8_matrix("embeddings", embeddings)
    threshold = int(threshold)
    block = check_positive("block", block)
    n, d = embeddings.shape
    if keys is not None and len(keys) != n:
        raise ValuationError(f"keys must have one entry per item ({n}), got {len(keys)}")
    ftype = float_dtype(d)
    floats = embeddings.astype(ftype)
    rows, cols = [], []
    for start in range(0, n, block):
        stop = min(start + block, n)
        scores = floats[start:stop] @ floats[start:].T  # (b, n - start), exact integers
        i, j = np.nonzero(scores >= threshold)
        later = j > i  # column j is item start + j; keep pairs with the other item later
        rows.append(i[later] + start)
        cols.append(j[later] + start)
    if keys is not None:
        first: dict[object, int] = {}
        firsts = np.array([first.setdefault(key, idx) for idx, key in enumerate(keys)], np.int64)
        rows.append(firsts)
        cols.append(np.arange(n, dtype=np.int64))
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(r.size, np.int8), (r, c)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    _, lowest = np.unique(component, return_index=True)  # first index is the lowest
    return lowest[component].astype(np.int64)


def representatives(groups: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the items that represent their group: those with groups[i] == i."""
    return np.flatnonzero(groups == np.arange(groups.shape[0]))


def deduplicated_values(groups: np.ndarray, representative_values: np.ndarray) -> np.ndarray:
    """Per-item values (float64, (n,)) under the rule: representatives keep theirs, copies get 0.

    `representative_values` is aligned with `representatives(groups)`, e.g. the output of
    `knn_shapley` on only those items.
    """
    groups = np.asarray(groups)
    reps = representatives(groups)
    if np.asarray(representative_values).shape != reps.shape:
        raise ValuationError(
            f"expected one value per representative ({reps.size}), "
            f"got shape {np.shape(representative_values)}"
        )
    values = np.zeros(groups.shape[0])
    values[reps] = representative_values
    return values


def value_items(
    train: np.ndarray,
    train_labels: np.ndarray,
    valid: np.ndarray,
    valid_labels: np.ndarray,
    k: int,
    threshold: int,
    keys: Sequence[object] | None = None,
    block: int = 64,
) -> np.ndarray:
    """KNN-Shapley value (float64, (n,)) of each item under the duplicate rule of this module.

    Representatives are valued with their own labels against `valid` as if the copies did not
    exist; copies get 0. Items must be in publication order (earliest first).
    """
    yt, yv, k = check_inputs(train, train_labels, valid, valid_labels, k)
    groups = duplicate_groups(train, threshold, keys=keys)
    reps = representatives(groups)
    return deduplicated_values(groups, knn_shapley(train[reps], yt[reps], valid, yv, k, block))
