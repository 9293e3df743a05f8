"""Deterministic, integer-only sentence embeddings that every machine computes to the bit.

Floating-point results differ between CPUs, GPUs, thread counts and batch sizes, so a float
answer cannot be proven wrong. This engine converts a BERT sentence encoder (the default is
all-MiniLM-L6-v2) into integers only: int8 weights per output channel, int8 matmul inputs, int16
residual stream, int32/int64 accumulators, fixed-point requantization (int32 multiplier, shift,
round half away from zero), integer polynomials for exp and GELU, integer square root for
LayerNorm and L2 normalization. From token ids to the int8 embedding no float is involved, so
the torch and numpy backends, any thread count or batch size give the same bytes.

    model = load_default_model()          # converts once, then loads from the cache
    enc = Encoder(model, backend="torch")
    emb = enc.embed(["a sentence", "another"])   # int8 (2, 384)
    emb1, trace = enc.embed_with_trace("a sentence")
    proof = trace.prove(op_index=3, element_index=10)
    verify_trace_element(trace.root, 3, 10, int(trace.output(3).flat[10]), proof, len(trace))

`IntModel.root` (an OpenZeppelin StandardMerkleTree) and `Trace.root` (a positional tree, which
disputes walk) are Merkle roots over tensors in the canonical encoding of `aigora.engine._commit`.
"""

from aigora.engine._commit import (
    CHUNK_BYTES,
    ElementProof,
    canonical_bytes,
    tensor_root,
    verify_element,
)
from aigora.engine._default import default_checkpoint, load_default_model
from aigora.engine._encoder import BACKENDS, Encoder, default_cache_dir
from aigora.engine._errors import EngineError
from aigora.engine._model import IntModel
from aigora.engine._spec import FORMAT, FORMAT_VERSION
from aigora.engine._trace import (
    TOKENS_OP,
    Trace,
    op_dtype,
    trace_op_count,
    verify_trace_element,
    verify_trace_op,
)


def __getattr__(name: str):
    # The converter needs torch (seconds to import); load it only when conversion is asked for,
    # so commands that just run the integer model start quickly.
    if name in ("Smoothing", "convert"):
        from aigora.engine import _convert

        return getattr(_convert, name)
    if name == "Fp32Encoder":  # the float baseline needs sentence-transformers (test extra)
        from aigora.engine import _fp32

        return _fp32.Fp32Encoder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BACKENDS",
    "CHUNK_BYTES",
    "FORMAT",
    "FORMAT_VERSION",
    "TOKENS_OP",
    "ElementProof",
    "Encoder",
    "EngineError",
    "Fp32Encoder",
    "IntModel",
    "Smoothing",
    "Trace",
    "canonical_bytes",
    "convert",
    "default_cache_dir",
    "default_checkpoint",
    "load_default_model",
    "op_dtype",
    "tensor_root",
    "trace_op_count",
    "verify_element",
    "verify_trace_element",
    "verify_trace_op",
]
