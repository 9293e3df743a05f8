"""StepVerifier.recompute: one trace element recomputed on chain equals the numpy engine's."""

from collections.abc import Iterator

import boa
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigora.chain.compile import compile_contract, source_path
from aigora.engine import Encoder, load_default_model
from aigora.engine._model import IntModel
from aigora.engine._trace import Trace
from aigora.verify._step import StepArguments, expected_value, step_arguments

SENTENCE = "cheap family cars"
EIP170 = 24576

# one op of every kind: embeddings, layers 0, 2 and 5, pool and embedding
KINDS = (
    "embeddings.sum",
    "embeddings.ln.res",
    "embeddings.ln.mm",
    *(f"layers.0.{k}" for k in ("qkv", "scores", "probs", "ctx", "attn_out", "attn_sum")),
    *(f"layers.2.{k}" for k in ("ln1.res", "ln1.mm", "ffn_in", "gelu", "gelu_out", "ffn_out")),
    *(f"layers.2.{k}" for k in ("ffn_sum", "ln2.res", "ln2.mm")),
    *(f"layers.5.{k}" for k in ("qkv", "ctx", "ln2.res")),
    "pool",
    "embedding",
)


@pytest.fixture(scope="module")
def model() -> IntModel:
    return load_default_model()


@pytest.fixture(scope="module")
def trace(model: IntModel) -> Trace:
    return Encoder(model, backend="numpy").embed_with_trace(SENTENCE)[1]


@pytest.fixture(scope="module")
def verifier(model: IntModel) -> Iterator[object]:
    h = model.header
    with boa.env.anchor():
        yield boa.load(
            str(source_path("StepVerifier")),
            h["layers"],
            h["hidden"],
            h["heads"],
            h["intermediate"],
        )


def _call(verifier: object, args: StepArguments) -> int:
    return verifier.recompute(*args.as_args())


def test_bytecode_fits_eip170() -> None:
    assert len(compile_contract("StepVerifier").runtime) <= EIP170


def test_layout_matches_trace(verifier: object, trace: Trace) -> None:
    n = len(trace.output(0))
    assert verifier.op_count() == len(trace)
    for k in range(len(trace)):
        leaf = trace.op(k).leaf
        assert verifier.expected_leaf(k, n) == (leaf.name, leaf.dtype, list(leaf.shape))
    with boa.reverts("op index out of range"):
        verifier.expected_leaf(len(trace), n)
    with boa.reverts("token count outside 1..256"):
        verifier.expected_leaf(1, 257)


@pytest.mark.parametrize("name", KINDS)
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fraction=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_recompute_equals_trace(
    verifier: object, trace: Trace, model: IntModel, name: str, fraction: float
) -> None:
    op = trace.index(name)
    element = int(fraction * trace.output(op).size)
    args = step_arguments(trace, model, op, element)
    assert _call(verifier, args) == expected_value(trace, op, element)


def _tampered(model: IntModel) -> IntModel:
    tensors = {k: np.array(v) for k, v in model.tensors.items() if k != "header.json"}
    weight = tensors["layers.2.ffn_out.weight"]
    weight[7] = -weight[7]
    return IntModel(tensors, model.header)


def test_tampered_model_is_caught(verifier: object, trace: Trace, model: IntModel) -> None:
    bad = Encoder(_tampered(model), backend="numpy").embed_with_trace(SENTENCE)[1]
    op = next(k for k in range(len(trace)) if trace.op(k).leaf.root != bad.op(k).leaf.root)
    assert bad.names[op] == "layers.2.ffn_out"
    element = int(np.flatnonzero(trace.output(op) != bad.output(op))[0])
    got = _call(verifier, step_arguments(bad, model, op, element))
    assert got == expected_value(trace, op, element) != expected_value(bad, op, element)


def _replace(args: StepArguments, **fields: object) -> StepArguments:
    return StepArguments(**{**args.__dict__, **fields})


def test_bad_inputs_revert(verifier: object, trace: Trace, model: IntModel) -> None:
    op = trace.index("layers.0.attn_out")
    args = step_arguments(trace, model, op, 5)
    chunk = list(args.chunks[0])
    chunk[3] = [bytes(32), *chunk[3][1:]]
    leaf = list(args.ops[1])
    wrong_shape = [*leaf[:3], [leaf[3][0], leaf[3][1] + 1], *leaf[4:]]
    wrong_name = [leaf[0], "layers.0.ctx2", *leaf[2:]]
    other = step_arguments(trace, model, trace.index("layers.0.ffn_out"), 5).params[0]
    cases = {
        "bad trace chunk proof": _replace(args, chunks=(tuple(chunk), *args.chunks[1:])),
        "wrong op leaf name/dtype/shape": _replace(args, ops=(args.ops[0], tuple(wrong_shape))),
        "missing input chunk": _replace(args, chunks=()),
        "model chunk of the wrong tensor": _replace(args, params=(other, *args.params[1:])),
        "bad op leaf proof": _replace(args, trace_root=bytes(32)),
        "bad model tensor proof": _replace(args, model_root=bytes(32)),
        "tokens are an input": _replace(args, op=0, element=0),
    }
    for reason, bad in cases.items():
        with boa.reverts(reason):
            _call(verifier, bad)
    with boa.reverts("wrong op leaf name/dtype/shape"):
        _call(verifier, _replace(args, ops=(args.ops[0], tuple(wrong_name))))


def test_gas_per_kind(verifier: object, trace: Trace, model: IntModel) -> None:
    """Prints the gas of recompute for each op kind (run with -s to see the table)."""
    n = len(trace.output(0))
    rows = []
    for name in KINDS:
        op = trace.index(name)
        args = step_arguments(trace, model, op, 0)
        assert _call(verifier, args) == expected_value(trace, op, 0)
        rows.append((name, verifier._computation.get_gas_used(), len(args.chunks)))
    print(f"\nrecompute gas, n = {n} tokens")
    for name, gas, chunks in rows:
        print(f"{name:20} {gas:>9,} gas  {chunks:>3} trace chunks")
