"""Sums whose order of addition is fixed, so results are identical bit for bit on every run.

`np.sum` may split a reduction differently depending on SIMD paths and memory alignment, and BLAS
may split it by thread count. Here every addition happens in an order fixed by the array's length
alone:

- `group_sum` is `np.bincount`, which adds each weight into its bin strictly in array order;
- `ordered_sum` lays the array out in rows of `_WIDTH`, adds the rows one after another (element
  by element, so each of the `_WIDTH` column sums is left to right), adds the tail into the first
  columns, then adds the column sums left to right. One long dependency chain (a plain loop) is
  latency-bound and about ten times slower; this order is just as fixed.

Inputs are sorted canonically before they get here, so the same inputs give the same bits.
"""

from functools import lru_cache

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_WIDTH = 1024


def group_sum(groups: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    """Per-group sums of `values`, each added left to right in array order."""
    return np.bincount(groups, weights=values, minlength=n_groups)


def ordered_sum(values: FloatArray) -> float:
    """The sum of `values` in the fixed order described above, as a Python float."""
    n = values.size
    if n <= _WIDTH:
        return _sequential(values)
    rows = n // _WIDTH
    block = values[: rows * _WIDTH].reshape(rows, _WIDTH)
    columns = block[0].copy()
    for row in block[1:]:
        columns += row
    tail = values[rows * _WIDTH :]
    columns[: tail.size] += tail
    return _sequential(columns)


def _sequential(values: FloatArray) -> float:
    if values.size == 0:
        return 0.0
    return float(np.bincount(_zeros(values.size), weights=values)[0])


@lru_cache(maxsize=4)
def _zeros(size: int) -> IntArray:
    """A read-only all-zero index: every value goes to the one bin, in order."""
    zeros = np.zeros(size, dtype=np.intp)
    zeros.flags.writeable = False
    return zeros
