"""Arguments for `StepVerifier.recompute`: the minimal proven inputs of one trace element.

A trace dispute ends at one element of one op. The contract recomputes that element from the
trace chunks and model chunks it depends on; this module picks exactly those chunks, in the order
the contract reads them (see the layout in `StepVerifier.vy`):

- trace reads: contiguous byte spans (a row, one element) and strided columns (one element per
  token: the value column of `ctx`, the residual column of `pool`); a span's chunks in ascending
  order, a column's distinct chunks in ascending order;
- model reads: a weight row's chunks, then the output channel's `mult`, `offset` and `shift`
  (or, for `embeddings.sum`, the word's and the position's element).

Everything here is pure: proofs come from `Trace` and `IntModel`.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from aigora.core.ordered_merkle import OrderedTree
from aigora.engine import CHUNK_BYTES, IntModel, Trace

_LAYER_OPS = (
    "qkv",
    "scores",
    "probs",
    "ctx",
    "attn_out",
    "attn_sum",
    "ln1.res",
    "ln1.mm",
    "ffn_in",
    "gelu",
    "gelu_out",
    "ffn_out",
    "ffn_sum",
    "ln2.res",
    "ln2.mm",
)
_LINEAR = ("qkv", "attn_out", "ffn_in", "ffn_out")
_LAYER_NORM = ("ln1.res", "ln1.mm", "ln2.res", "ln2.mm")


@dataclass(frozen=True)
class _Read:
    """`count` elements of `width` bytes, `stride` bytes apart, from byte `start` of op `op`;
    stride 0 is one contiguous span of `width` bytes."""

    op: int
    start: int
    width: int
    stride: int = 0
    count: int = 1

    def chunk_indices(self) -> list[int]:
        if self.stride == 0:
            first, last = self.start // CHUNK_BYTES, (self.start + self.width - 1) // CHUNK_BYTES
            return list(range(first, last + 1))
        positions = (self.start + t * self.stride for t in range(self.count))
        return sorted({p // CHUNK_BYTES for p in positions})


@dataclass(frozen=True)
class _ParamRead:
    """`length` bytes from byte `start` of model tensor `name`."""

    name: str
    start: int
    length: int

    def chunk_indices(self) -> list[int]:
        first = self.start // CHUNK_BYTES
        return list(range(first, (self.start + self.length - 1) // CHUNK_BYTES + 1))


@dataclass(frozen=True)
class StepArguments:
    """Everything `recompute` takes, as ABI-ready tuples."""

    trace_root: bytes
    op_count: int
    model_root: bytes
    op: int
    element: int
    ops: tuple[tuple[Any, ...], ...]
    chunks: tuple[tuple[Any, ...], ...]
    params: tuple[tuple[Any, ...], ...]

    def inputs(self) -> tuple[list, list, list]:
        """The proven inputs alone (`_ops`, `_chunks`, `_params`), as `Disputes.prove_step`
        takes them after the revealed chunk and the element."""
        return (
            [list(o) for o in self.ops],
            [list(c) for c in self.chunks],
            [list(p) for p in self.params],
        )

    def as_args(self) -> tuple[Any, ...]:
        """Positional arguments of `StepVerifier.recompute`."""
        return (
            self.trace_root,
            self.op_count,
            self.model_root,
            self.op,
            self.element,
            [list(o) for o in self.ops],
            [list(c) for c in self.chunks],
            [list(p) for p in self.params],
        )


def expected_value(trace: Trace, op: int, element: int) -> int:
    """The value the trace holds at element `element` (C order) of op `op`."""
    return int(trace.output(op).reshape(-1)[element])


def _site(name: str, channel: int) -> list[_ParamRead]:
    return [
        _ParamRead(f"{name}.mult", 4 * channel, 4),
        _ParamRead(f"{name}.offset", 8 * channel, 8),
        _ParamRead(f"{name}.shift", 4 * channel, 4),
    ]


def _reads(
    trace: Trace, header: dict[str, Any], op: int, element: int
) -> tuple[list[_Read], list[_ParamRead]]:
    """The trace and model reads of one element, in the contract's order."""
    name = trace.names[op]
    n = int(trace.output(0).shape[0])
    w, heads, inter = int(header["hidden"]), int(header["heads"]), int(header["intermediate"])
    d, e = w // heads, element
    if op == 0:
        raise ValueError("tokens are an input: they cannot be recomputed")
    if name == "embeddings.sum":
        token = int(trace.output(0)[e // w])
        return [_Read(0, e // w * 4, 4)], [
            _ParamRead("embeddings.word", 2 * (token * w + e % w), 2),
            _ParamRead("embeddings.position", 2 * e, 2),
        ]
    if name == "pool":
        return [_Read(op - 1, 2 * e, 2, 2 * w, n)], []
    if name == "embedding":
        return [_Read(op - 1, 0, 4 * w)], []
    if name.startswith("embeddings.ln."):
        return [_Read(1, e // w * 4 * w, 4 * w)], _site(name, e % w)
    layer = int(name.split(".")[1])
    b = 4 + 15 * layer
    kind = _LAYER_OPS[op - b]
    prefix = f"layers.{layer}"
    if kind in _LAYER_NORM:
        source = b + 5 if kind.startswith("ln1") else b + 12
        return [_Read(source, e // w * 4 * w, 4 * w)], _site(name, e % w)
    if kind in _LINEAR:
        source, k, outputs = {
            "qkv": (b - 1, w, 3 * w),
            "attn_out": (b + 3, w, w),
            "ffn_in": (b + 7, w, inter),
            "ffn_out": (b + 10, inter, w),
        }[kind]
        o = e % outputs
        weight = _ParamRead(f"{name}.weight", o * k, k)
        return [_Read(source, e // outputs * k, k)], [weight, *_site(name, o)]
    if kind == "scores":
        h, query, key = e // (n * n), e // n % n, e % n
        return [_Read(b, query * 3 * w + h * d, d), _Read(b, key * 3 * w + w + h * d, d)], []
    if kind == "probs":
        return [_Read(b + 1, e // n * n * 4, 4 * n)], _site(f"{prefix}.softmax", e // (n * n))
    if kind == "ctx":
        c = e % w
        probs = _Read(b + 2, ((c // d) * n * n + e // w * n) * 4, 4 * n)
        return [probs, _Read(b, 2 * w + c, 1, 3 * w, n)], _site(name, c)
    if kind in ("attn_sum", "ffn_sum"):
        res, branch = (b - 2, b + 4) if kind == "attn_sum" else (b + 6, b + 11)
        return [_Read(res, 2 * e, 2), _Read(branch, 2 * e, 2)], []
    if kind == "gelu":
        return [_Read(b + 8, 4 * e, 4)], []
    return [_Read(b + 9, 4 * e, 4)], _site(name, e % inter)  # gelu_out


def _op_leaf(trace: Trace, op: int, op_tree: OrderedTree) -> tuple[Any, ...]:
    leaf = trace.op(op).leaf
    proof = op_tree.proof(op)
    return (leaf.index, leaf.name, leaf.dtype, list(leaf.shape), leaf.root, proof)


def _trace_chunk(trace: Trace, op: int, chunk_index: int) -> tuple[Any, ...]:
    committed = trace.op(op)
    proof = committed.tree.proof(chunk_index)
    return (op, chunk_index, committed.chunks[chunk_index], proof)


def _model_chunk(model: IntModel, name: str, chunk_index: int) -> tuple[Any, ...]:
    itemsize = np.dtype(model.tensors[name].dtype).itemsize
    proof = model.prove(name, chunk_index * CHUNK_BYTES // itemsize)
    leaf = proof.tensor
    return (
        leaf.index,
        leaf.name,
        leaf.dtype,
        list(leaf.shape),
        leaf.root,
        list(proof.tensor_proof),
        proof.chunk_index,
        proof.chunk,
        list(proof.chunk_proof),
    )


def step_arguments(
    trace: Trace, model: IntModel, op: int, element: int, op_tree: OrderedTree | None = None
) -> StepArguments:
    """The minimal proven inputs from which `recompute` derives element `element` of op `op`:
    trace inputs proven against `op_tree` (by default `trace.op_tree`), model inputs against
    `model.root`.

    In a dispute the inputs are the honest trace's (every op before the first differing one is
    the same in both traces) but must be proven against the *operator's* root: pass the tree of
    the op leaves the operator revealed."""
    op_tree = op_tree or trace.op_tree
    size = int(np.prod(trace.op(op).leaf.shape))
    if not 0 <= element < size:
        raise IndexError(f"element {element} is outside {trace.names[op]} of {size} elements")
    reads, param_reads = _reads(trace, dict(model.header), op, element)
    ops = [0, *sorted({r.op for r in reads} - {0})]
    chunks = [_trace_chunk(trace, r.op, ci) for r in reads for ci in r.chunk_indices()]
    params = [_model_chunk(model, p.name, ci) for p in param_reads for ci in p.chunk_indices()]
    return StepArguments(
        trace_root=op_tree.root,
        op_count=len(trace),
        model_root=model.root,
        op=op,
        element=element,
        ops=tuple(_op_leaf(trace, k, op_tree) for k in ops),
        chunks=tuple(chunks),
        params=tuple(params),
    )
