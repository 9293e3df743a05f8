"""Execution traces: one root per forward pass, and single elements provable against it."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.merkle import leaf_hash
from aigora.engine import (
    TOKENS_OP,
    Encoder,
    Trace,
    op_dtype,
    trace_op_count,
    verify_trace_op,
)
from aigora.engine import verify_trace_element as verify_in
from aigora.engine._commit import CHUNK_BYTES, CHUNK_LEAF, chunk_leaf_hash

SENTENCE = "Proofs of a single element are checked on-chain."


@pytest.fixture(scope="module")
def traced(torch_encoder: Encoder) -> tuple[np.ndarray, Trace]:
    return torch_encoder.embed_with_trace(SENTENCE)


def test_trace_lists_every_op(traced, model) -> None:
    embedding, trace = traced
    layers = model.header["layers"]
    assert trace.names[:2] == [TOKENS_OP, "embeddings.sum"]
    assert trace.names[-2:] == ["pool", "embedding"]
    assert sum(name.endswith(".probs") for name in trace.names) == layers
    assert np.array_equal(trace.output("embedding"), embedding)
    for name, output in trace.ops:
        assert output.dtype == op_dtype(name)


def test_trace_is_cut_to_the_sentence(traced, torch_encoder: Encoder) -> None:
    _, trace = traced
    n = len(torch_encoder.tokenize([SENTENCE])[0])
    assert np.array_equal(trace.output(TOKENS_OP), torch_encoder.tokenize([SENTENCE])[0])
    assert trace.output("layers.0.scores").shape == (12, n, n)
    assert trace.output("layers.3.ffn_in").shape == (n, 1536)
    probs = trace.output("layers.1.probs").astype(np.int64)
    assert np.all(np.abs(probs.sum(axis=-1) - 2**15) <= n)


def test_trace_does_not_depend_on_the_batch(traced, torch_encoder: Encoder) -> None:
    _, alone = traced
    _, batched = torch_encoder.embed_with_traces(["word " * 100, SENTENCE, "x"], batch_size=3)
    assert batched[1].root == alone.root
    assert batched[0].root != alone.root


def test_backends_give_the_same_trace(traced, numpy_encoder: Encoder) -> None:
    _, torch_trace = traced
    _, numpy_trace = numpy_encoder.embed_with_trace(SENTENCE)
    for (name_a, a), (name_b, b) in zip(torch_trace.ops, numpy_trace.ops, strict=True):
        assert name_a == name_b
        assert np.array_equal(a, b), name_a
    assert torch_trace.root == numpy_trace.root


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_element_is_provable(traced, data) -> None:
    _, trace = traced
    op = data.draw(st.integers(0, len(trace) - 1))
    output = trace.output(op)
    element = data.draw(st.integers(0, output.size - 1))
    value = int(output.reshape(-1)[element])
    proof = trace.prove(op, element)
    assert verify_in(trace.root, op, element, value, proof, len(trace))
    assert not verify_in(trace.root, op, element, value + 1, proof, len(trace))


def test_forged_proofs_fail(traced) -> None:
    _, trace = traced
    op = trace.index("layers.2.qkv")
    element = 1500
    value = int(trace.output(op).reshape(-1)[element])
    proof = trace.prove(op, element)
    assert verify_in(trace.root, op, element, value, proof, len(trace))
    other = trace.index("layers.2.ctx")
    assert not verify_in(trace.root, other, element, value, proof, len(trace))
    chunk = bytearray(proof.chunk)
    chunk[0] ^= 1
    assert not verify_in(
        trace.root, op, element, value, dataclasses.replace(proof, chunk=bytes(chunk)), len(trace)
    )
    assert not verify_in(trace.root, op, element + 4096, value, proof, len(trace))
    assert not verify_in(b"\x00" * 32, op, element, value, proof, len(trace))
    assert not verify_in(trace.root, op, element, value, proof, len(trace) + 200)
    forged_leaf = dataclasses.replace(proof.tensor, shape=(1, *proof.tensor.shape))
    assert not verify_in(
        trace.root, op, element, value, dataclasses.replace(proof, tensor=forged_leaf), len(trace)
    )


def test_the_op_count_follows_from_the_header(traced, model) -> None:
    _, trace = traced
    assert trace_op_count(model.header) == len(trace)
    assert trace_op_count({**model.header, "layers": 2}) == len(trace) - 15 * (
        model.header["layers"] - 2
    )


def test_a_whole_op_is_provable_and_nothing_else_is(traced) -> None:
    """The tokens op (what a receipt carries) is proven whole against the root; other ids, a
    longer list, another op index or name, values outside int32 or floats are refused."""
    _, trace = traced
    ids = trace.output(TOKENS_OP)
    proof = trace.prove_op(0)
    n = len(trace)
    assert verify_trace_op(trace.root, 0, TOKENS_OP, ids.astype(np.int64), proof, n)
    changed = ids.astype(np.int64).copy()
    changed[1] += 1
    assert not verify_trace_op(trace.root, 0, TOKENS_OP, changed, proof, n)
    assert not verify_trace_op(trace.root, 0, TOKENS_OP, np.append(ids, 102), proof, n)
    assert not verify_trace_op(trace.root, 1, TOKENS_OP, ids, proof, n)
    assert not verify_trace_op(trace.root, 0, "embeddings.sum", ids, proof, n)
    assert not verify_trace_op(trace.root, 0, TOKENS_OP, ids.astype(np.int64) + 2**32, proof, n)
    assert not verify_trace_op(trace.root, 0, TOKENS_OP, ids.astype(np.float64), proof, n)
    assert not verify_trace_op(trace.root, 0, TOKENS_OP, ids, proof[:-1], n)
    op = trace.index("embedding")
    embedding = trace.output(op)
    assert verify_trace_op(trace.root, op, "embedding", embedding, trace.prove_op(op), n)


def test_out_of_range_element_is_refused(traced) -> None:
    _, trace = traced
    with pytest.raises(IndexError):
        trace.prove(0, trace.output(0).size)


def test_tree_nodes_cover_contiguous_ops(traced) -> None:
    """The trace root is a positional tree: the node over ops [a, b) changes exactly when an op
    in that range changes, which is what lets a dispute walk down to the first differing op."""
    _, trace = traced
    ops = list(trace.ops)
    k = trace.index("layers.1.ctx")
    changed = ops[k][1].copy()
    changed.reshape(-1)[5] += 1
    ops[k] = (ops[k][0], changed)
    other = Trace(ops)
    a, b = trace.op_tree, other.op_tree
    for height in range(a.depth + 1):
        for index in range(len(a.levels[height])):
            first, last = index << height, ((index + 1) << height) - 1
            assert (a.node(height, index) != b.node(height, index)) == (first <= k <= last)


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, 2**256 - 1),
    chunk_index=st.integers(0, 2**256 - 1),
    chunk=st.binary(max_size=CHUNK_BYTES),
)
def test_the_written_out_chunk_leaf_is_abi_encode(index, chunk_index, chunk) -> None:
    """The hand-written encoding of a chunk leaf equals eth_abi's `abi.encode`, the one the
    disputes contract recomputes, for every length (padding), index and empty chunk."""
    expected = leaf_hash(CHUNK_LEAF, (index, chunk_index, chunk))
    assert chunk_leaf_hash(index, chunk_index, chunk) == expected
