"""The fast backend: the integer model in torch, on any device, fused with torch.compile.

It computes exactly what `_numpy.py` defines, with its own kernels (the two share only
`_spec.py`). Four things make it fast, and none of them changes a byte:

1. Matrix products. Inputs are int8 values and weights int8, so on the CPU the four linear
   layers run as int8 GEMMs (`torch._int_mm`: int8 x int8 -> int32 on oneDNN, VNNI on x86;
   about 6x float32 BLAS here), exact because |sum| <= 128 * 128 * K < 2**31. A self-check at
   load compares it with a float64 product at the extremes (a GEMM that sums int8 pairs in
   saturating int16, as x86 without VNNI can, would fail it). Elsewhere, or when the check
   fails, they run as float32 BLAS on integer values: exact as long as every partial sum stays
   below 2**24 (checked for every weight at load; a layer that would exceed it runs in float64).
   The attention products are float32: |q.k| <= 127**2 * head_dim and
   |probs . v| <= 127 * (2**15 + L) stay below 2**24. On CUDA, TF32 must be off (the
   constructor turns it off), or products would be rounded to 10 bits.

2. Tables instead of polynomials, each built at load by running this file's direct integer
   kernel over its inputs (tests/engine/test_fast_kernels.py compares every table with the numpy
   reference over its whole domain):

   - Softmax. With j = row_max - score >= 0 (an integer), the reference computes
     e = exp_neg(round_shift(-j * mult + offset, shift)) per head: a function F(j) of j alone.
     When mult >= 1 and offset <= 0 (what the converter writes), F is non-increasing (requantize
     and exp_neg are monotone), so once F(n) = 0 it stays 0. Each head's part of the table
     holds F(0..n-1) and a 0 at index n, where n is the first zero (or the largest reachable j
     plus one; j <= 2 * 127**2 * head_dim). A key at j >= n reads that 0, and so does a masked
     key: its score gets a -inf bias, so j = inf. all-MiniLM-L6-v2's heads need 6,900 to
     103,000 entries each, 336,000 to 686,000 per layer (1.3 to 2.7 MB of int32). The row then
     sums in int32 (<= L * 2**20) and normalizes as the reference does.
   - GELU clamps its input to [-4, 4] (+-16384 in units of 2**-12): a 32,769-entry table of
     g(x) on that range, and x itself above it.

   Sites outside those conditions (offset > 0, tables above 2**22 entries) run the direct
   kernels, `_softmax` and `_gelu`, which the kernel tests compare with the reference.

3. Narrow types between kernels: int8 matmul inputs, int32 residuals and accumulators, float32
   (integer-valued) attention, so the fused loops read and write less memory. Inside a loop the
   arithmetic stays int64 where a product needs it (requantize multiplies by up to 2**30;
   LayerNorm by 2**48 / ||d||). The integer square root is a float64 sqrt and one exact
   correction step (see `_isqrt`), so a whole layer is one compiled graph.

4. Sub-batches. Rows are independent (keys past a sentence's length are masked), so on the CPU
   a batch runs in sub-batches of about `_SUB_BATCH_TOKENS` tokens, each padded to its own
   longest row: a layer's buffers then stay in cache.

`torch.compile` fuses the embedding, each layer and the pooling into a few loops each (several
times faster than eager on CPU). Compilation only changes speed: the ops are integer (or exact
float), so compiled and eager results are identical, and the backend falls back to eager where
compiling fails.
"""

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch.fx.experimental import _config as fx_config

from aigora.engine import _spec as spec

_log = logging.getLogger(__name__)

Recorder = Callable[[str, torch.Tensor, tuple[int, ...]], None]
_EXACT_F32 = 1 << 24
_I64 = torch.int64
_I32 = torch.int32
_F32 = torch.float32
_INT8_RANGE = (-128, 127)
_MAX_EXP_TABLE = 1 << 22
"""Entries (all heads of a layer) above which the softmax runs its direct kernel instead."""
_SUB_BATCH_TOKENS = 1024
"""On the CPU, a batch runs in sub-batches of about this many (padded) tokens, so that a layer's
buffers stay in cache (measured: 1.4x the throughput of whole batches of 32 at 144 tokens)."""
_TABLE_CHUNK = 16384
"""Tables are built in pieces below ATen's parallel grain (32,768): one thread, no pool wake-ups
(which cost milliseconds per op on a busy machine)."""


def _round_shift(v: torch.Tensor, shift: torch.Tensor | int) -> torch.Tensor:
    """v / 2**shift, half away from zero: (v + 2**(shift-1) - [v < 0]) >> shift."""
    return (v + (1 << (shift - 1)) + (v >> 63)) >> shift


def _requantize(v: torch.Tensor, site: tuple[torch.Tensor, ...], bound: int) -> torch.Tensor:
    mult, offset, shift = site
    return torch.clamp(_round_shift(v * mult + offset, shift), -bound, bound)


def _isqrt(v: torch.Tensor) -> torch.Tensor:
    """floor(sqrt(v)) for 0 <= v < 2**62: a float64 square root, then one exact correction.

    float64(v) has relative error below 2**-52 (however the conversion rounds) and sqrt is
    correctly rounded, so s = sqrt(float64(v)) is within sqrt(v) * 2**-51 <= 2**-20 of sqrt(v):
    floor(s) is isqrt(v) - 1, isqrt(v) or isqrt(v) + 1. One step down (r*r > v) and one up
    ((r+1)**2 <= v) give it exactly; r <= 2**31, so (r+1)**2 < 2**63.
    """
    r = torch.sqrt(v.to(torch.float64)).to(_I64)
    r = r - (r * r > v).to(_I64)
    return r + ((r + 1) * (r + 1) <= v).to(_I64)


def _layer_norm(x: torch.Tensor) -> torch.Tensor:
    s = x.sum(dim=-1, keepdim=True, dtype=_I64)
    c = x.shape[-1]
    mean = torch.where(s < 0, -((2 * -s + c) // (2 * c)), (2 * s + c) // (2 * c))
    d = x - mean
    r = torch.clamp(_isqrt((d * d).sum(dim=-1, keepdim=True)), min=1)
    inv = (1 << spec.LN_INV_BITS) // r
    return _round_shift(d * inv, spec.LN_INV_BITS - spec.LN_FRAC_BITS)


# floor(n / LN2_Q) == (n * _LN2_RECIP) >> 40 for 0 <= n <= -EXP_MIN_INPUT (checked by a test):
# vector units have no 64-bit division, multiplication is cheap
_LN2_RECIP = -(-(1 << 40) // spec.LN2_Q)


def _exp_neg(x: torch.Tensor) -> torch.Tensor:
    x = torch.clamp(x, min=spec.EXP_MIN_INPUT)
    z = ((-x) * _LN2_RECIP) >> 40
    p = x + z * spec.LN2_Q
    y = torch.full_like(x, spec.EXP_COEFFS[-1])
    for c in reversed(spec.EXP_COEFFS[:-1]):
        y = _round_shift(y * p, spec.EXP_IN_BITS) + c
    return _round_shift(y, z + (spec.EXP_POLY_BITS - spec.EXP_OUT_BITS))


def _softmax(scores: torch.Tensor, key_mask: torch.Tensor, site: tuple[torch.Tensor, ...]):
    """The direct kernel: scores (B, H, L, L) int64, probabilities int64 (units 2**-15)."""
    mult, offset, shift = (a.view(1, -1, 1, 1) for a in site)
    low = torch.iinfo(torch.int32).min
    row_max = torch.where(key_mask, scores, low).amax(dim=-1, keepdim=True)
    t = torch.where(key_mask, scores - row_max, 0)
    e = torch.where(key_mask, _exp_neg(_round_shift(t * mult + offset, shift)), 0)
    inv = (1 << spec.PROB_INV_BITS) // e.sum(dim=-1, keepdim=True)
    return _round_shift(e * inv, spec.PROB_INV_BITS - spec.PROB_BITS)


def _tabulate(f: Callable[[torch.Tensor], torch.Tensor], start: int, stop: int, device):
    """f(arange(start, stop)) as an int32 numpy array, piece by piece (see `_TABLE_CHUNK`)."""
    pieces = [
        f(torch.arange(a, min(a + _TABLE_CHUNK, stop), dtype=_I64, device=device))
        for a in range(start, stop, _TABLE_CHUNK)
    ]
    return np.concatenate([p.cpu().numpy() for p in pieces]).astype(np.int32)


def _exp_of_gap(site: tuple[torch.Tensor, ...], j: torch.Tensor) -> torch.Tensor:
    """F(j) per head, the softmax's exp at distance j >= 0 below the row maximum: (H, n).

    Exactly what `_softmax` computes for t = -j (rows of `j` are heads).
    """
    mult, offset, shift = (a.view(-1, 1) for a in site)
    return _exp_neg(_round_shift(-j * mult + offset, shift))


def _exp_table(site: tuple[torch.Tensor, ...], head_dim: int, keys: int = spec.MAX_TOKENS):
    """The softmax lookup table of one layer (see the module docstring), or None.

    Returns (table int32 (T,), base (1, H, 1, 1), limit (1, H, 1, 1)): head h's F(j) for
    j < limit[h] is table[base[h] + j], and table[base[h] + limit[h]] == 0. None when the
    conditions that make F non-increasing and positive at 0 do not hold, when a row of `keys`
    exps (each <= 2**20) could overflow the int32 sum, when a gap could reach 2**24 (float32
    would round it), or when the table would be too large; the softmax then runs `_softmax`.
    """
    mult, offset, _ = site
    reach = 2 * spec.INT8_MAX**2 * head_dim  # largest row_max - score
    zero = torch.zeros(1, dtype=_I64, device=mult.device).expand(mult.numel())[:, None]
    if keys << spec.EXP_OUT_BITS >= 2**31 or reach >= _EXACT_F32:  # int32 sums, float32 gaps
        return None
    if bool((mult < 1).any() or (offset > 0).any() or (_exp_of_gap(site, zero) < 1).any()):
        return None
    # first j in [1, reach + 1] with F(j) == 0 (reach + 1 when none is reachable), by bisection:
    # F(lo) > 0 and (hi == reach + 1 or F(hi) == 0) throughout
    lo = torch.zeros_like(mult, dtype=_I64)
    hi = torch.full_like(lo, reach + 1)
    while bool((hi - lo > 1).any()):
        mid = (lo + hi) // 2
        is_zero = _exp_of_gap(site, mid[:, None])[:, 0] == 0
        hi, lo = torch.where(is_zero, mid, hi), torch.where(is_zero, lo, mid)
    limits = hi.tolist()
    if sum(limits) + len(limits) > _MAX_EXP_TABLE:
        return None
    parts = []
    for h, n in enumerate(limits):
        one = tuple(a[h : h + 1] for a in site)
        parts += [_tabulate(lambda j, one=one: _exp_of_gap(one, j[None, :])[0], 0, n, mult.device)]
        parts += [np.zeros(1, dtype=np.int32)]
    table = torch.from_numpy(np.concatenate(parts)).to(mult.device)
    starts = np.cumsum([0] + [n + 1 for n in limits[:-1]])
    base = torch.tensor(starts, dtype=_F32, device=mult.device).view(1, -1, 1, 1)
    limit = torch.tensor(limits, dtype=_F32, device=mult.device).view(1, -1, 1, 1)
    return table, base, limit


def _softmax_lookup(
    scores: torch.Tensor, key_bias: torch.Tensor, table: tuple[torch.Tensor, ...]
) -> torch.Tensor:
    """`_softmax` by table: scores (B, H, L, L) float32 (integer-valued) -> probs float32.

    `key_bias` is 0 at real keys and -inf at masked ones (adding it is cheaper than a select).
    The gap row_max - score is exact in float32 (below 2 * 127**2 * head_dim < 2**24), and so is
    base + min(gap, limit) (the table has fewer than 2**22 entries). sum(e) <= L * 2**20 fits
    int32 (`_exp_table` checks L); e * (2**47 // sum) <= 2**47 needs int64.
    """
    values, base, limit = table
    s = scores + key_bias
    gap = s.amax(dim=-1, keepdim=True) - s  # +inf at masked keys: they read the 0 at `limit`
    e = values[(torch.minimum(gap, limit) + base).to(_I64)]
    inv = (1 << spec.PROB_INV_BITS) // e.sum(dim=-1, keepdim=True, dtype=_I32).to(_I64)
    return _round_shift(e * inv, spec.PROB_INV_BITS - spec.PROB_BITS).to(_F32)


def _gelu(x: torch.Tensor) -> torch.Tensor:
    xc = torch.clamp(x, -spec.GELU_CLAMP, spec.GELU_CLAMP)
    u = _round_shift(xc * xc, 2 * (spec.GELU_BITS + 2) - spec.PHI_ARG_BITS)
    y = torch.full_like(x, spec.PHI_COEFFS[-1])
    for c in reversed(spec.PHI_COEFFS[:-1]):
        y = _round_shift(y * u, spec.PHI_ARG_BITS) + c
    phi = _round_shift(y * xc, spec.GELU_BITS + 2) + (1 << (spec.PHI_POLY_BITS - 1))
    g = _round_shift(xc * phi, spec.PHI_POLY_BITS)
    zero = torch.zeros_like(x)
    return torch.where(x >= spec.GELU_CLAMP, x, torch.where(x <= -spec.GELU_CLAMP, zero, g))


def _gelu_table(device: torch.device) -> torch.Tensor:
    """`_gelu` of every x in [-GELU_CLAMP, GELU_CLAMP], int32 (|g| <= GELU_CLAMP)."""
    table = _tabulate(_gelu, -spec.GELU_CLAMP, spec.GELU_CLAMP + 1, device)
    return torch.from_numpy(table).to(device)


def _gelu_lookup(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """`_gelu` by table: the table covers the clamp range, and x itself is the answer above it
    (below it, table[0] = gelu(-GELU_CLAMP) = 0 is)."""
    index = torch.clamp(x, -spec.GELU_CLAMP, spec.GELU_CLAMP) + spec.GELU_CLAMP
    return torch.where(x > spec.GELU_CLAMP, x, table[index])


def _matmul(x: torch.Tensor, w_t: torch.Tensor) -> torch.Tensor:
    """Exact integer product of integer-valued x (..., K) and w_t (K, N).

    int8 w_t: an int8 GEMM with int32 accumulators (exact: |sum| <= 128 * 128 * K < 2**31).
    float w_t: float BLAS on integer values (exact within the bound checked at load), as int64.
    """
    if w_t.dtype == torch.int8:
        flat = torch._int_mm(x.reshape(-1, x.shape[-1]), w_t)
        return flat.reshape(*x.shape[:-1], w_t.shape[1])
    return torch.matmul(x.to(w_t.dtype), w_t).to(_I64)


def _int8_matmul_is_exact(device: torch.device) -> bool:
    """Whether `torch._int_mm` runs here, on oneDNN, and is exact at the extremes.

    A GEMM that multiplies int8 pairs into saturating int16 sums (x86 without VNNI, in some
    libraries) fails this check: 255 * 127 + 255 * 127 > 2**15. The float path is used then.
    The reference is a float64 product (exact: every sum is below 2**53).
    """
    if device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    g = torch.Generator().manual_seed(0)
    corners = torch.tensor([[127, 127, -128, -128], [127, -128, 127, -128]], dtype=torch.int8)
    for m, k, n in ((1, 384, 1152), (64, 1536, 384), (257, 384, 1536)):
        x = torch.randint(-128, 128, (m, k), generator=g, dtype=torch.int8)
        w = torch.randint(-128, 128, (n, k), generator=g, dtype=torch.int8)
        x[: min(m, 2)] = corners[: min(m, 2)].repeat(1, k // 4)
        w[:4] = corners.t().repeat(1, k // 2)
        want = x.to(torch.float64) @ w.t().to(torch.float64)
        try:
            got = torch._int_mm(x, w.t())
        except RuntimeError:
            return False
        if not torch.equal(got.to(torch.float64), want):
            return False
    return True


def _no_record(name: str, value: torch.Tensor, token_axes: tuple[int, ...]) -> None:
    return None


def _embed(p: Mapping[str, Any], ids: torch.Tensor, record: Recorder):
    x = p["embeddings.word"][ids] + p["embeddings.position"][: ids.shape[1]]
    record("embeddings.sum", x, (1,))
    n = _layer_norm(x)
    res = _requantize(n, p["embeddings.ln.res"], spec.INT16_MAX).to(_I32)
    mm = _requantize(n, p["embeddings.ln.mm"], spec.INT8_MAX).to(torch.int8)
    record("embeddings.ln.res", res, (1,))
    record("embeddings.ln.mm", mm, (1,))
    return res, mm


def _attention_probs(p: Mapping[str, Any], scores: torch.Tensor, keys: tuple[torch.Tensor, ...]):
    key_mask, key_bias = keys
    if p["exp.table"] is not None:
        return _softmax_lookup(scores, key_bias, p["exp.table"])
    return _softmax(scores.to(_I64), key_mask, p["softmax"]).to(_F32)


def _keys(lengths: torch.Tensor, seq: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The key mask (B, 1, 1, L), True at real tokens, and the same as a 0 / -inf float bias."""
    mask = (torch.arange(seq, device=lengths.device)[None, :] < lengths[:, None])[:, None, None, :]
    return mask, torch.where(mask, 0.0, float("-inf"))


def _layer(
    p: Mapping[str, Any],
    res: torch.Tensor,
    mm: torch.Tensor,
    keys: tuple[torch.Tensor, torch.Tensor],
    heads: int,
    name: str,
    record: Recorder,
):
    """One encoder layer: (residual int16-range int32, int8 matmul input) -> the next pair.

    The last layer's parameters have no `ln2.mm` site; its matmul input is then None.
    """
    batch, seq, width = res.shape
    d = width // heads
    i8 = torch.int8
    qkv = _requantize(_matmul(mm, p["qkv.weight"]), p["qkv"], spec.INT8_MAX).to(i8)
    record(f"{name}.qkv", qkv, (1,))
    q, k, v = (
        qkv[..., j * width : (j + 1) * width].reshape(batch, seq, heads, d).transpose(1, 2).to(_F32)
        for j in range(3)
    )  # (B, H, L, D)
    scores = torch.matmul(q, k.transpose(-1, -2))
    record(f"{name}.scores", scores.to(_I32), (2, 3))
    probs = _attention_probs(p, scores, keys)
    record(f"{name}.probs", probs.to(_I32), (2, 3))
    ctx = torch.matmul(probs, v).to(_I32).transpose(1, 2).reshape(batch, seq, width)
    ctx = _requantize(ctx, p["ctx"], spec.INT8_MAX).to(i8)
    record(f"{name}.ctx", ctx, (1,))
    attn = _requantize(_matmul(ctx, p["attn_out.weight"]), p["attn_out"], spec.INT16_MAX)
    record(f"{name}.attn_out", attn, (1,))
    x = res + attn
    record(f"{name}.attn_sum", x, (1,))
    n = _layer_norm(x)
    res = _requantize(n, p["ln1.res"], spec.INT16_MAX).to(_I32)
    mm = _requantize(n, p["ln1.mm"], spec.INT8_MAX).to(i8)
    record(f"{name}.ln1.res", res, (1,))
    record(f"{name}.ln1.mm", mm, (1,))
    pre = _requantize(_matmul(mm, p["ffn_in.weight"]), p["ffn_in"], 2**31 - 1)
    record(f"{name}.ffn_in", pre, (1,))
    act = _gelu_lookup(pre, p["gelu.table"])
    record(f"{name}.gelu", act, (1,))
    act = _requantize(act, p["gelu_out"], spec.INT8_MAX).to(i8)
    record(f"{name}.gelu_out", act, (1,))
    ffn = _requantize(_matmul(act, p["ffn_out.weight"]), p["ffn_out"], spec.INT16_MAX)
    record(f"{name}.ffn_out", ffn, (1,))
    x = res + ffn
    record(f"{name}.ffn_sum", x, (1,))
    n = _layer_norm(x)
    res = _requantize(n, p["ln2.res"], spec.INT16_MAX).to(_I32)
    record(f"{name}.ln2.res", res, (1,))
    if "ln2.mm" not in p:
        return res, None
    mm = _requantize(n, p["ln2.mm"], spec.INT8_MAX).to(i8)
    record(f"{name}.ln2.mm", mm, (1,))
    return res, mm


def _plain_embed(p: Mapping[str, Any], ids: torch.Tensor, lengths: torch.Tensor):
    """`_embed` without recording, and the keys: the first compiled graph."""
    return *_embed(p, ids, _no_record), _keys(lengths, ids.shape[1])


def _plain_layer(p: Mapping[str, Any], res, mm, keys, heads: int):
    """`_layer` without recording: the function torch.compile fuses (one graph for all layers)."""
    return _layer(p, res, mm, keys, heads, "", _no_record)


def _plain_pool(res: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    return _pool(res, lengths, _no_record)


def _pool(res: torch.Tensor, lengths: torch.Tensor, record: Recorder) -> torch.Tensor:
    mask = torch.arange(res.shape[1], device=res.device)[None, :, None] < lengths[:, None, None]
    s = torch.where(mask, res, 0).sum(dim=1, dtype=_I64)
    n = lengths[:, None]
    pooled = torch.where(s < 0, -((2 * -s + n) // (2 * n)), (2 * s + n) // (2 * n))
    record("pool", pooled, ())
    r = torch.clamp(_isqrt((pooled * pooled).sum(dim=-1, keepdim=True)), min=1)
    a = spec.INT8_MAX * pooled
    e = torch.where(a < 0, -((2 * -a + r) // (2 * r)), (2 * a + r) // (2 * r)).to(torch.int8)
    record("embedding", e, ())
    return e


class TorchBackend:
    """The integer model's parameters on one device, and its forward pass."""

    def __init__(
        self,
        tensors: Mapping[str, np.ndarray],
        header: Mapping[str, Any],
        device: str = "cpu",
        compile: bool = True,
    ) -> None:
        self.device = torch.device(device)
        if self.device.type == "cuda":  # TF32 would round the integer products
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            torch.set_float32_matmul_precision("highest")
        self.heads, self.layers = int(header["heads"]), int(header["layers"])
        head_dim = int(header["hidden"]) // self.heads
        max_keys = int(np.shape(tensors["embeddings.position"])[0])
        int8_gemm = _int8_matmul_is_exact(self.device)

        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(np.array(tensors[name], dtype=np.int64)).to(self.device)

        def site(prefix: str) -> tuple[torch.Tensor, ...]:
            return tuple(t(n) for n in spec.site_names(prefix))

        def weight(name: str) -> torch.Tensor:
            """(K, N): int8 for the int8 GEMM, else float32 or float64 (exact, see `_matmul`)."""
            w = np.asarray(tensors[name])
            in_int8 = _INT8_RANGE[0] <= int(w.min()) and int(w.max()) <= _INT8_RANGE[1]
            if int8_gemm and in_int8 and 128 * 128 * w.shape[1] < 2**31:
                return torch.from_numpy(w.astype(np.int8)).to(self.device).t()
            bound = spec.INT8_MAX * int(np.abs(w.astype(np.int64)).sum(axis=1).max())
            dtype = torch.float32 if bound < _EXACT_F32 else torch.float64
            return torch.from_numpy(w.T.astype(np.float64)).to(self.device, dtype).contiguous()

        self._embed = {
            "embeddings.word": t("embeddings.word"),
            "embeddings.position": t("embeddings.position"),
            "embeddings.ln.res": site("embeddings.ln.res"),
            "embeddings.ln.mm": site("embeddings.ln.mm"),
        }
        gelu = _gelu_table(self.device)
        self._layers = []
        for i in range(self.layers):
            pre = f"layers.{i}"
            p: dict[str, Any] = {"gelu.table": gelu}
            for w in ("qkv", "attn_out", "ffn_in", "ffn_out"):
                p[f"{w}.weight"] = weight(f"{pre}.{w}.weight")
                p[w] = site(f"{pre}.{w}")
            for s in ("softmax", "ctx", "gelu_out", "ln1.res", "ln1.mm", "ln2.res"):
                p[s] = site(f"{pre}.{s}")
            p["exp.table"] = _exp_table(p["softmax"], head_dim, max_keys)
            if i + 1 < self.layers:
                p["ln2.mm"] = site(f"{pre}.ln2.mm")
            self._layers.append(p)
        # the compiled graph is shared by all layers, so the last one gets a dummy ln2.mm site
        # (its output is discarded) to have the same structure
        last = dict(self._layers[-1])
        last["ln2.mm"] = tuple(torch.ones_like(a) for a in last["ln2.res"])
        self._fused_params = [*self._layers[:-1], last]
        self._compiled: tuple[Callable, Callable, Callable] | None = None
        self._compile = compile

    def _fused(self) -> tuple[Callable, Callable, Callable]:
        if self._compiled is None:
            self._compiled = tuple(
                torch.compile(f, dynamic=True) for f in (_plain_embed, _plain_layer, _plain_pool)
            )
        return self._compiled

    def forward(
        self, ids: np.ndarray, lengths: np.ndarray, record: Recorder | None = None
    ) -> np.ndarray:
        """int8 embeddings (B, C) of token ids (B, L) padded past `lengths`."""
        ids, lengths = np.asarray(ids, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
        rows = max(1, _SUB_BATCH_TOKENS // max(1, ids.shape[1]))
        if record is not None or ids.shape[0] <= rows or self.device.type != "cpu":
            return self._forward(ids, lengths, record)
        parts = []
        for index in np.array_split(np.arange(ids.shape[0]), -(-ids.shape[0] // rows)):
            sub = lengths[index]  # sub-batches of equal size, each padded to its longest row
            parts.append(self._forward(np.ascontiguousarray(ids[index, : sub.max()]), sub, None))
        return np.concatenate(parts)

    def _forward(self, ids: np.ndarray, lengths: np.ndarray, record: Recorder | None):
        with torch.inference_mode():
            ids_t = torch.from_numpy(ids).to(self.device)
            len_t = torch.from_numpy(lengths).to(self.device)
            if record is None and self._compile:
                try:
                    return self._fused_forward(ids_t, len_t)
                except Exception as exc:  # compiling failed: same integers, eager speed
                    _log.warning("torch.compile failed (%s); running eagerly", exc)
                    self._compile = False
            rec = record or _no_record
            keys = _keys(len_t, ids_t.shape[1])
            res, mm = _embed(self._embed, ids_t, rec)
            for i in range(self.layers):
                res, mm = _layer(self._layers[i], res, mm, keys, self.heads, f"layers.{i}", rec)
            return _pool(res, len_t, rec).cpu().numpy()

    def _fused_forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
        embed, layer, pool = self._fused()
        # no duck shaping: batch size == length must not trigger a recompile
        with fx_config.patch(use_duck_shape=False):
            res, mm, keys = embed(self._embed, ids, lengths)
            for p in self._fused_params:
                res, mm = layer(p, res, mm, keys, self.heads)
            return pool(res, lengths).cpu().numpy()
