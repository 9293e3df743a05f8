"""Training value of snapshot items: exact KNN-Shapley, with copies unable to multiply a share."""

from aigora.value._duplicates import (
    deduplicated_values,
    duplicate_groups,
    representatives,
    value_items,
)
from aigora.value._knn_shapley import ValuationError, knn_shapley

__all__ = [
    "ValuationError",
    "deduplicated_values",
    "duplicate_groups",
    "knn_shapley",
    "representatives",
    "value_items",
]
