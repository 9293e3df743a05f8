"""Execution traces: every op's output for one sentence, committed to by one Merkle root.

A trace lists the ops of one forward pass in execution order (`tokens`, `embeddings.sum`, ...,
`layers.5.ln2.res`, `pool`, `embedding`), each output cut to the sentence's own tokens, so the
trace does not depend on the batch it ran in. `tokens` (the token ids, int32) is the input every
other op derives from. Each op's output is committed in its declared dtype (`op_dtype`) with the
chunk and tensor leaves of `_commit`, in positional trees (`aigora.core.ordered_merkle`): a
tensor root over its chunks, the trace root over its ops. A dispute walks these trees from the
root to the first op, then the first chunk, where two parties differ, and ends at one element;
`Trace.prove` gives an element's proof and `verify_trace_element` checks it against the root alone.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from aigora.core import ordered_merkle
from aigora.core.ordered_merkle import OrderedTree
from aigora.engine import _commit
from aigora.engine._commit import CHUNK_BYTES, ElementProof, TensorLeaf

TOKENS_OP = "tokens"

_INT8_OPS = ("ln.mm", "ln1.mm", "ln2.mm", "qkv", "ctx", "gelu_out", "embedding")
_INT16_OPS = ("ln.res", "ln1.res", "ln2.res", "attn_out", "ffn_out")


def trace_op_count(header: Mapping[str, Any]) -> int:
    """How many ops the trace of a model with this header has: `tokens`, the three embedding
    ops, 15 per layer (the last layer has no `ln2.mm`), `pool` and `embedding`. The disputes
    step verifier counts the same way."""
    return 15 * int(header["layers"]) + 5


def op_dtype(name: str) -> np.dtype:
    """The dtype an op's output is committed in: int8 matmul inputs and the embedding, int16
    residual-stream values, int32 for token ids, accumulators, sums, probabilities and GELU
    values."""
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


@dataclass(frozen=True)
class OpCommitment:
    """One op's tensor leaf and the positional tree over its chunks."""

    leaf: TensorLeaf
    chunks: list[bytes]
    tree: OrderedTree


def commit_op(index: int, name: str, array: np.ndarray) -> OpCommitment:
    """The positional chunk tree of one op's output and the tensor leaf naming its root."""
    pieces = _commit.chunks(_commit.canonical_bytes(array))
    tree = OrderedTree([_commit.chunk_leaf_hash(index, i, c) for i, c in enumerate(pieces)])
    leaf = TensorLeaf(index, name, array.dtype.name, tuple(array.shape), tree.root)
    return OpCommitment(leaf, pieces, tree)


class Trace:
    """The outputs of every op of one forward pass, in order, with their Merkle commitment."""

    def __init__(self, ops: Sequence[tuple[str, np.ndarray]]) -> None:
        self.ops: tuple[tuple[str, np.ndarray], ...] = tuple(
            (name, to_op_dtype(name, np.asarray(a))) for name, a in ops
        )
        self._commitments: list[OpCommitment] | None = None
        self._tree: OrderedTree | None = None

    def _commit(self) -> tuple[list[OpCommitment], OrderedTree]:
        if self._commitments is None or self._tree is None:
            self._commitments = [commit_op(i, n, a) for i, (n, a) in enumerate(self.ops)]
            self._tree = OrderedTree([c.leaf.hash() for c in self._commitments])
        return self._commitments, self._tree

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

    @property
    def op_tree(self) -> OrderedTree:
        """The positional tree over the ops' tensor leaves (its root is the trace root)."""
        return self._commit()[1]

    def op(self, op_index: int) -> OpCommitment:
        """Op `op_index`'s tensor leaf, chunks and chunk tree."""
        return self._commit()[0][op_index]

    def prove_op(self, op_index: int) -> tuple[bytes, ...]:
        """The positional proof of op `op_index`'s tensor leaf against the trace root."""
        return tuple(self._commit()[1].proof(op_index))

    def prove(self, op_index: int, element_index: int) -> ElementProof:
        """Proof of element `element_index` (C order) of op `op_index`'s output."""
        committed, tree = self._commit()
        op = committed[op_index]
        size = int(np.prod(op.leaf.shape, dtype=np.int64))
        if not 0 <= element_index < size:
            raise IndexError(
                f"element {element_index} is outside {op.leaf.name} of {size} elements"
            )
        chunk_index = element_index * np.dtype(op.leaf.dtype).itemsize // CHUNK_BYTES
        return ElementProof(
            tensor=op.leaf,
            tensor_proof=tuple(tree.proof(op_index)),
            chunk_index=chunk_index,
            chunk=op.chunks[chunk_index],
            chunk_proof=tuple(op.tree.proof(chunk_index)),
        )

    def __len__(self) -> int:
        return len(self.ops)


def verify_trace_element(
    trace_root: bytes,
    op_index: int,
    element_index: int,
    value: int,
    proof: ElementProof,
    op_count: int,
) -> bool:
    """True when `proof` shows that element `element_index` of op `op_index` is `value` in the
    trace of `op_count` ops with root `trace_root`. Never raises on a malformed proof."""
    if _commit.proven_value(proof, op_index, element_index) != value:
        return False
    leaf = proof.tensor
    chunk_leaf = _commit.chunk_leaf_hash(op_index, proof.chunk_index, proof.chunk)
    if not ordered_merkle.verify(
        leaf.root, chunk_leaf, proof.chunk_index, leaf.chunk_count, proof.chunk_proof
    ):
        return False
    return ordered_merkle.verify(trace_root, leaf.hash(), op_index, op_count, proof.tensor_proof)


def verify_trace_op(
    trace_root: bytes,
    op_index: int,
    name: str,
    values: np.ndarray,
    proof: Sequence[bytes],
    op_count: int,
) -> bool:
    """True when `proof` shows that op `op_index` of the trace of `op_count` ops with root
    `trace_root` is the op `name` whose whole output is `values` (committed in the op's dtype).
    Never raises on a malformed proof or values outside the op's dtype."""
    dtype = op_dtype(name)
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        return False
    info = np.iinfo(dtype)
    if array.size and (array.min() < info.min or array.max() > info.max):
        return False
    leaf = commit_op(op_index, name, array.astype(dtype)).leaf
    return ordered_merkle.verify(trace_root, leaf.hash(), op_index, op_count, proof)


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
