"""Duplicate groups, and the rule that keeps copies from multiplying a contributor's value.

The rule: items whose embeddings have an exact int8 dot product >= `threshold` are
near-duplicates. Taking items in publication order (callers order them so), an item joins the group
of the earliest *representative* it is a near-duplicate of (or the group of an earlier item with
the same key, such as a CID); an item near no representative becomes one. Groups are stars around
their representative, the earliest upload. Only representatives take part in the valuation, and
each keeps the value it earns; every other member gets 0.

Why: KNN-Shapley splits credit between items that compete for the same neighbourhood, but it also
pays each copy of a useful item separately, so uploading an item k times could earn up to k shares.
Valuing the deduplicated set means a copy never competes with (nor dilutes) its original, and
giving copies 0 means re-uploading, or near-copying with a small perturbation, earns nothing more
than the one item: a contributor's total never grows by adding copies of their own items, and a
later copier of someone else's item gets nothing.

Why stars and not connected components: with transitive groups, a crafted chain of near-copies
(each near the next, morphing step by step from an attacker's item to a victim's) would join two
items that are not near-duplicates of each other and zero the later one, even with chain items
uploaded after the victim. Under the star rule an item is zeroed only when it is itself near an
earlier representative, so nothing uploaded later changes its group, and a chain earns its author
nothing but its own representatives' values.
"""

from collections.abc import Sequence

import numpy as np

from aigora.index import float_dtype
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
    given: int = 0,
) -> np.ndarray:
    """Group id (int64, (n,)) of each item: the index of its group's representative.

    Items are taken in index (publication) order. Item i joins the group of an earlier item with
    the same key (when `keys` is given), else of the lowest-index representative r < i with
    dot(e_i, e_r) >= threshold exactly (equality counts), else it is a representative itself.
    The first `given` items are representatives already (an earlier call grouped them: under
    the star rule nothing later changes an earlier item's group), so only the rest is scored.
    Scores each (block, n) slab against the representatives so far, then the block against itself.
    """
    check_int8_matrix("embeddings", embeddings)
    threshold = int(threshold)
    block = check_positive("block", block)
    n, d = embeddings.shape
    if keys is not None and len(keys) != n:
        raise ValuationError(f"keys must have one entry per item ({n}), got {len(keys)}")
    if not 0 <= given <= n:
        raise ValuationError(f"given must be between 0 and {n}, got {given}")
    floats = embeddings.astype(float_dtype(d))
    groups = np.arange(n, dtype=np.int64)
    reps = np.arange(given, dtype=np.int64)
    first_of_key: dict[object, int] = {}
    for i in range(given) if keys is not None else ():
        first_of_key.setdefault(keys[i], i)
    for start in range(given, n, block):
        stop = min(start + block, n)
        near_earlier = floats[start:stop] @ floats[reps].T >= threshold  # (b, reps)
        near_within = floats[start:stop] @ floats[start:stop].T >= threshold  # (b, b)
        is_new_rep = np.zeros(stop - start, dtype=bool)
        for local in range(stop - start):
            i = start + local
            key = None if keys is None else keys[i]
            if key is not None and key in first_of_key:
                groups[i] = groups[first_of_key[key]]
            elif near_earlier.shape[1] and near_earlier[local].any():
                groups[i] = reps[int(np.argmax(near_earlier[local]))]
            else:
                linked = np.flatnonzero(near_within[local, :local] & is_new_rep[:local])
                if linked.size:
                    groups[i] = start + int(linked[0])
                else:
                    is_new_rep[local] = True
            if key is not None:
                first_of_key.setdefault(key, i)
        reps = np.concatenate([reps, start + np.flatnonzero(is_new_rep)])
    return groups


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
