"""The reference backend: the integer model in numpy, one op per function, integers only.

This file is the executable definition of what the integer model computes; the torch backend must
produce the same bytes. Every value is an int64 array; matrix products run as int32 `einsum`
(exact: the converter guarantees every accumulator stays far below 2**31). No float appears
between the token ids and the int8 embedding.
"""

import math
from collections.abc import Callable, Mapping

import numpy as np

from aigora.engine import _spec as spec

Recorder = Callable[[str, np.ndarray, tuple[int, ...]], None]
"""record(op_name, output, token_axes): called with each op's output when tracing."""

_I64 = np.int64


def round_shift(v: np.ndarray, shift: np.ndarray | int) -> np.ndarray:
    """v / 2**shift rounded half away from zero (shift >= 1)."""
    shift = np.asarray(shift, dtype=_I64)
    half = np.left_shift(_I64(1), shift - 1)
    return (v + half - (v < 0)) >> shift


def round_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """a / b rounded half away from zero (b > 0)."""
    b = np.asarray(b, dtype=_I64)
    q = (2 * np.abs(a) + b) // (2 * b)
    return np.where(a < 0, -q, q)


def isqrt(v: np.ndarray) -> np.ndarray:
    """floor(sqrt(v)) for v >= 0, exactly (Python's math.isqrt on each element)."""
    flat = [math.isqrt(int(x)) for x in v.reshape(-1)]
    return np.array(flat, dtype=_I64).reshape(v.shape)


def requantize(
    v: np.ndarray, params: Mapping[str, np.ndarray], site: str, bound: int
) -> np.ndarray:
    """clamp(round_shift(v * mult + offset, shift), -bound, bound), per channel (last axis)."""
    mult, offset, shift = (params[name].astype(_I64) for name in spec.site_names(site))
    return np.clip(round_shift(v * mult + offset, shift), -bound, bound)


def linear(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x (..., K) times weight (N, K) transposed: the exact integer accumulator (..., N)."""
    flat = x.reshape(-1, x.shape[-1]).astype(np.int32)
    acc = np.einsum("mk,nk->mn", flat, weight.astype(np.int32))
    return acc.astype(_I64).reshape(*x.shape[:-1], weight.shape[0])


def layer_norm(x: np.ndarray) -> np.ndarray:
    """(x - mean) / ||x - mean|| per row, in units of 2**-LN_FRAC_BITS (|n| <= 2**24).

    The mean is rounded to an integer; ||d|| is the integer square root, floored at 1 so a
    constant row gives zeros instead of a division by zero. |d| <= isqrt(sum d**2) keeps
    d * inv below 2**48.
    """
    mean = round_div(x.sum(axis=-1, keepdims=True), x.shape[-1])
    d = x - mean
    r = np.maximum(isqrt(np.sum(d * d, axis=-1, keepdims=True)), 1)
    inv = (_I64(1) << spec.LN_INV_BITS) // r
    return round_shift(d * inv, spec.LN_INV_BITS - spec.LN_FRAC_BITS)


def exp_neg(x: np.ndarray) -> np.ndarray:
    """exp(x) for x <= 0 (units 2**-16) in units of 2**-20: 2**-z * poly(p), x = p - z ln 2."""
    x = np.maximum(x, spec.EXP_MIN_INPUT)
    z = (-x) // spec.LN2_Q
    p = x + z * spec.LN2_Q
    y = np.full_like(x, spec.EXP_COEFFS[-1])
    for c in reversed(spec.EXP_COEFFS[:-1]):
        y = round_shift(y * p, spec.EXP_IN_BITS) + c
    return round_shift(y, spec.EXP_POLY_BITS - spec.EXP_OUT_BITS + z)


def softmax(scores: np.ndarray, key_mask: np.ndarray, params: Mapping[str, np.ndarray], site: str):
    """Probabilities (units 2**-15) over the unmasked keys; masked keys get exactly 0.

    scores (B, H, L, L) are raw Q.K products; the row maximum over real keys is subtracted first,
    so the exp input is <= 0 and the result does not depend on padding.
    """
    mult, offset, shift = (params[name].astype(_I64) for name in spec.site_names(site))
    mult, offset, shift = (a[None, :, None, None] for a in (mult, offset, shift))
    low = np.iinfo(np.int32).min
    row_max = np.where(key_mask, scores, low).max(axis=-1, keepdims=True)
    t = np.where(key_mask, scores - row_max, 0)
    x = round_shift(t * mult + offset, shift)
    e = np.where(key_mask, exp_neg(x), 0)
    inv = (_I64(1) << spec.PROB_INV_BITS) // e.sum(axis=-1, keepdims=True)
    return round_shift(e * inv, spec.PROB_INV_BITS - spec.PROB_BITS)


def gelu(x: np.ndarray) -> np.ndarray:
    """x * Phi(x) with x and the result in units of 2**-12; Phi by an integer polynomial."""
    xc = np.clip(x, -spec.GELU_CLAMP, spec.GELU_CLAMP)
    u = round_shift(xc * xc, 2 * (spec.GELU_BITS + 2) - spec.PHI_ARG_BITS)
    y = np.full_like(x, spec.PHI_COEFFS[-1])
    for c in reversed(spec.PHI_COEFFS[:-1]):
        y = round_shift(y * u, spec.PHI_ARG_BITS) + c
    phi = round_shift(y * xc, spec.GELU_BITS + 2) + (1 << (spec.PHI_POLY_BITS - 1))
    g = round_shift(xc * phi, spec.PHI_POLY_BITS)
    return np.where(x >= spec.GELU_CLAMP, x, np.where(x <= -spec.GELU_CLAMP, 0, g))


def mean_pool(h: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The rounded mean over each sentence's real tokens: h (B, L, C) -> (B, C)."""
    mask = np.arange(h.shape[1])[None, :, None] < lengths[:, None, None]
    return round_div(np.where(mask, h, 0).sum(axis=1), lengths[:, None].astype(_I64))


def l2_normalize(v: np.ndarray) -> np.ndarray:
    """round(127 * v / isqrt(sum v**2)) per row: the int8 embedding (|e| <= 127)."""
    r = np.maximum(isqrt(np.sum(v * v, axis=-1, keepdims=True)), 1)
    return round_div(spec.INT8_MAX * v, r)


def _noop(name: str, value: np.ndarray, token_axes: tuple[int, ...]) -> None:
    return None


def forward(
    params: Mapping[str, np.ndarray],
    header: Mapping[str, int | str],
    ids: np.ndarray,
    lengths: np.ndarray,
    record: Recorder | None = None,
) -> np.ndarray:
    """Token ids (B, L), padded with anything past each length, to int8 embeddings (B, C)."""
    rec = record or _noop
    ids = ids.astype(_I64)
    lengths = lengths.astype(_I64)
    batch, seq = ids.shape
    heads, layers = int(header["heads"]), int(header["layers"])
    width = int(header["hidden"])
    head_dim = width // heads
    key_mask = (np.arange(seq)[None, :] < lengths[:, None])[:, None, None, :]  # (B, 1, 1, L)

    x = (
        params["embeddings.word"].astype(_I64)[ids]
        + params["embeddings.position"].astype(_I64)[None, :seq]
    )
    rec("embeddings.sum", x, (1,))
    n = layer_norm(x)
    res = requantize(n, params, "embeddings.ln.res", spec.INT16_MAX)
    mm = requantize(n, params, "embeddings.ln.mm", spec.INT8_MAX)
    rec("embeddings.ln.res", res, (1,))
    rec("embeddings.ln.mm", mm, (1,))

    for i in range(layers):
        p = f"layers.{i}"
        qkv = requantize(linear(mm, params[f"{p}.qkv.weight"]), params, f"{p}.qkv", spec.INT8_MAX)
        rec(f"{p}.qkv", qkv, (1,))
        q, k, v = (
            qkv[..., j * width : (j + 1) * width].reshape(batch, seq, heads, head_dim)
            for j in range(3)
        )
        q, k, v = (t.transpose(0, 2, 1, 3).astype(np.int32) for t in (q, k, v))  # (B, H, L, D)
        scores = np.einsum("bhld,bhmd->bhlm", q, k).astype(_I64)
        rec(f"{p}.scores", scores, (2, 3))
        probs = softmax(scores, key_mask, params, f"{p}.softmax")
        rec(f"{p}.probs", probs, (2, 3))
        ctx_acc = np.einsum("bhlm,bhmd->bhld", probs.astype(np.int32), v).astype(_I64)
        ctx_acc = ctx_acc.transpose(0, 2, 1, 3).reshape(batch, seq, width)
        ctx = requantize(ctx_acc, params, f"{p}.ctx", spec.INT8_MAX)
        rec(f"{p}.ctx", ctx, (1,))
        attn = requantize(
            linear(ctx, params[f"{p}.attn_out.weight"]), params, f"{p}.attn_out", spec.INT16_MAX
        )
        rec(f"{p}.attn_out", attn, (1,))
        x = res + attn
        rec(f"{p}.attn_sum", x, (1,))
        n = layer_norm(x)
        res = requantize(n, params, f"{p}.ln1.res", spec.INT16_MAX)
        mm = requantize(n, params, f"{p}.ln1.mm", spec.INT8_MAX)
        rec(f"{p}.ln1.res", res, (1,))
        rec(f"{p}.ln1.mm", mm, (1,))

        pre = linear(mm, params[f"{p}.ffn_in.weight"])
        pre = requantize(pre, params, f"{p}.ffn_in", np.iinfo(np.int32).max)
        rec(f"{p}.ffn_in", pre, (1,))
        act = gelu(pre)
        rec(f"{p}.gelu", act, (1,))
        act = requantize(act, params, f"{p}.gelu_out", spec.INT8_MAX)
        rec(f"{p}.gelu_out", act, (1,))
        ffn = requantize(
            linear(act, params[f"{p}.ffn_out.weight"]), params, f"{p}.ffn_out", spec.INT16_MAX
        )
        rec(f"{p}.ffn_out", ffn, (1,))
        x = res + ffn
        rec(f"{p}.ffn_sum", x, (1,))
        n = layer_norm(x)
        res = requantize(n, params, f"{p}.ln2.res", spec.INT16_MAX)
        rec(f"{p}.ln2.res", res, (1,))
        if i + 1 < layers:
            mm = requantize(n, params, f"{p}.ln2.mm", spec.INT8_MAX)
            rec(f"{p}.ln2.mm", mm, (1,))

    pooled = mean_pool(res, lengths)
    rec("pool", pooled, ())
    embedding = l2_normalize(pooled).astype(np.int8)
    rec("embedding", embedding, ())
    return embedding
