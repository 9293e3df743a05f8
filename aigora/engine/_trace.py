"""Execution traces: every op's output for one sentence, committed to by one Merkle root.

A trace lists the ops of one forward pass in execution order (`embeddings.sum`, ...,
`layers.5.ln2.res`, `pool`, `embedding`), each output cut to the sentence's own tokens, so the
trace does not depend on the batch it ran in. Each op's output is committed in its declared
dtype (`op_dtype`) with the encoding of `_commit`; the trace root is the list root over them.
A dispute narrows a disagreement to one element of one op; `Trace.prove` gives the proof and
`verify_element` checks it against the root alone.
"""

from collections.abc import Sequence

import numpy as np

from aigora.core.merkle import StandardMerkleTree
from aigora.engine import _commit
from aigora.engine._commit import ElementProof

_INT8_OPS = ("ln.mm", "ln1.mm", "ln2.mm", "qkv", "ctx", "gelu_out", "embedding")
_INT16_OPS = ("ln.res", "ln1.res", "ln2.res", "attn_out", "ffn_out")


def op_dtype(name: str) -> np.dtype:
    """The dtype an op's output is committed in: int8 matmul inputs and the embedding, int16
    residual-stream values, int32 for accumulators, sums, probabilities and GELU values."""
    if name.endswith(_INT8_OPS):
        return np.dtype(np.int8)
    if name.endswith(_INT16_OPS):
        return np.dtype(np.int16)
    return np.dtype(np.int32)


def to_op_dtype(name: str, values: np.ndarray) -> np.ndarray:
    """`values` in the op's committed dtype; raises if any value would not fit (a bug)."""
    dtype = op_dtype(name)
    info = np.iinfo(dtype)
    if values.size and (values.min() < info.min or values.max() > info.max):
        raise OverflowError(f"op {name} produced values outside {dtype}")
    return values.astype(dtype)


class Trace:
    """The outputs of every op of one forward pass, in order, with their Merkle commitment."""

    def __init__(self, ops: Sequence[tuple[str, np.ndarray]]) -> None:
        self.ops: tuple[tuple[str, np.ndarray], ...] = tuple(
            (name, to_op_dtype(name, np.asarray(a))) for name, a in ops
        )
        self._leaves: list[_commit.TensorLeaf] | None = None
        self._tree: StandardMerkleTree | None = None

    def _commit(self) -> tuple[list[_commit.TensorLeaf], StandardMerkleTree]:
        if self._leaves is None or self._tree is None:
            self._leaves = _commit.tensor_leaves(self.ops)
            self._tree = _commit.list_tree(self._leaves)
        return self._leaves, self._tree

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.ops]

    def index(self, name: str) -> int:
        """The op index of the op called `name`."""
        return self.names.index(name)

    def output(self, op: int | str) -> np.ndarray:
        """The output of op `op` (index or name) in its committed dtype."""
        return self.ops[self.index(op) if isinstance(op, str) else op][1]

    @property
    def root(self) -> bytes:
        """The 32-byte trace root."""
        return self._commit()[1].root

    def prove(self, op_index: int, element_index: int) -> ElementProof:
        """Proof of element `element_index` (C order) of op `op_index`'s output."""
        leaves, tree = self._commit()
        return _commit.prove_element(leaves, tree, self.ops[op_index][1], op_index, element_index)

    def __len__(self) -> int:
        return len(self.ops)


def verify_element(
    trace_root: bytes, op_index: int, element_index: int, value: int, proof: ElementProof
) -> bool:
    """True when `proof` shows that element `element_index` of op `op_index` is `value` in the
    trace with root `trace_root`."""
    return _commit.verify_element(trace_root, op_index, element_index, value, proof)


class Recorder:
    """Collects a batch's op outputs, then cuts one trace per sentence out of them."""

    def __init__(self) -> None:
        self._ops: list[tuple[str, np.ndarray, tuple[int, ...]]] = []

    def __call__(self, name: str, value: object, token_axes: tuple[int, ...]) -> None:
        array = value.cpu().numpy() if hasattr(value, "cpu") else np.asarray(value)
        self._ops.append((name, array, token_axes))

    def traces(self, lengths: Sequence[int]) -> list[Trace]:
        out = []
        for b, n in enumerate(lengths):
            ops = []
            for name, array, axes in self._ops:
                row = array[b]
                index = tuple(
                    slice(0, n) if a in axes else slice(None) for a in range(1, array.ndim)
                )
                ops.append((name, row[index]))
            out.append(Trace(ops))
        return out
