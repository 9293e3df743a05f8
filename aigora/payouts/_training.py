"""The training pool, split by what each item is worth to the model (KNN-Shapley).

Items are the snapshot's passages whose document carries a label (from the labels file, e.g.
the labeling marketplace's output), each with its document's label, in publication order, so
the earliest of a near-duplicate group is the one valued (`aigora.value`); a document earns
what its passages earn. Copies the snapshot left out are not items: they earn nothing. Values
are float64; before any money is computed they become
integer weights, floor(value * 2**40) for positive values and 0 otherwise (multiplying by a power
of two is exact, so the weights are the same on every machine), and `allocate` splits the pool
by them exactly. An item of zero or negative value earns nothing; with no positive value at all,
the pool is not spent this epoch.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aigora.payouts._split import allocate
from aigora.value import value_items

WEIGHT_SCALE = 2**40


@dataclass(frozen=True)
class TrainingItem:
    """One labeled passage: `key` names it (passages of one document are distinct items),
    `cid` is its document, paid to `author`."""

    cid: str
    author: str
    label: int
    embedding: np.ndarray
    key: object = None


@dataclass(frozen=True)
class Validation:
    """Labeled validation points: int8 embeddings (m, d) and integer labels (m,)."""

    embeddings: np.ndarray
    labels: np.ndarray


def value_weights(values: np.ndarray) -> list[int]:
    """Integer weights from KNN-Shapley values (positive values only)."""
    return [int(v * WEIGHT_SCALE) if v > 0 else 0 for v in np.asarray(values, dtype=np.float64)]


def training_split(
    pool: int, items: Sequence[TrainingItem], validation: Validation, k: int, threshold: int
) -> list[tuple[TrainingItem, int]]:
    """(item, amount) for every item that earns something from `pool`."""
    if pool == 0 or not items:
        return []
    values = value_items(
        np.stack([item.embedding for item in items]).astype(np.int8),
        np.array([item.label for item in items], dtype=np.int64),
        validation.embeddings,
        validation.labels,
        k,
        threshold,
        keys=[item.cid if item.key is None else item.key for item in items],
    )
    weights = value_weights(values)
    if sum(weights) == 0:
        return []
    return [(i, a) for i, a in zip(items, allocate(pool, weights), strict=True) if a]
