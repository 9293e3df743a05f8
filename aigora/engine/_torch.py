"""The fast backend: the integer model in torch, on any device, fused with torch.compile.

It computes exactly what `_numpy.py` defines, with its own kernels. Integer values that enter
a matrix product are held in float32 tensors: a float matmul of integer-valued inputs is exact,
whatever the summation order, threading or device, as long as every partial sum stays below 2**24
(the float32 significand). The converter's weights make that hold for int8 inputs (the bound is
checked here for every weight; a layer that would exceed it runs in float64, exact below 2**53).
Everything else is int64 arithmetic, which is exact by construction. On CUDA, TF32 must be off
(the constructor turns it off), or products would be rounded to 10 bits.

`torch.compile` fuses each layer's elementwise integer work into a few loops (several times
faster than eager on CPU). Compilation only changes speed: the ops are integer, so compiled and
eager results are identical, and the backend falls back to eager where compiling fails.
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


def _round_shift(v: torch.Tensor, shift: torch.Tensor | int) -> torch.Tensor:
    """v / 2**shift, half away from zero: (v + 2**(shift-1) - [v < 0]) >> shift."""
    return (v + (1 << (shift - 1)) + (v >> 63)) >> shift


def _requantize(v: torch.Tensor, site: tuple[torch.Tensor, ...], bound: int) -> torch.Tensor:
    mult, offset, shift = site
    return torch.clamp(_round_shift(v * mult + offset, shift), -bound, bound)


@torch.compiler.disable
def _isqrt(v: torch.Tensor) -> torch.Tensor:
    """floor(sqrt(v)) for 0 <= v < 2**62, bit by bit from the top: 31 exact integer steps.

    Kept out of compiled graphs: inductor inlines the chain into an expression that grows
    exponentially with the steps. It runs once per row, so eager costs little.
    """
    r = torch.zeros_like(v)
    for b in range(30, -1, -1):
        t = r + (1 << b)
        r = torch.where(t * t <= v, t, r)
    return r


def _layer_norm(x: torch.Tensor) -> torch.Tensor:
    s = x.sum(dim=-1, keepdim=True)
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
    mult, offset, shift = (a.view(1, -1, 1, 1) for a in site)
    low = torch.iinfo(torch.int32).min
    row_max = torch.where(key_mask, scores, low).amax(dim=-1, keepdim=True)
    t = torch.where(key_mask, scores - row_max, 0)
    e = torch.where(key_mask, _exp_neg(_round_shift(t * mult + offset, shift)), 0)
    inv = (1 << spec.PROB_INV_BITS) // e.sum(dim=-1, keepdim=True)
    return _round_shift(e * inv, spec.PROB_INV_BITS - spec.PROB_BITS)


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


def _matmul(x: torch.Tensor, w_t: torch.Tensor) -> torch.Tensor:
    """Exact integer product of integer-valued x (..., K) and w_t (K, N), as int64."""
    return torch.matmul(x.to(w_t.dtype), w_t).to(_I64)


def _no_record(name: str, value: torch.Tensor, token_axes: tuple[int, ...]) -> None:
    return None


def _embed(p: Mapping[str, Any], ids: torch.Tensor, record: Recorder):
    x = p["embeddings.word"][ids] + p["embeddings.position"][: ids.shape[1]]
    record("embeddings.sum", x, (1,))
    n = _layer_norm(x)
    res = _requantize(n, p["embeddings.ln.res"], spec.INT16_MAX)
    mm = _requantize(n, p["embeddings.ln.mm"], spec.INT8_MAX)
    record("embeddings.ln.res", res, (1,))
    record("embeddings.ln.mm", mm, (1,))
    return res, mm


def _layer(
    p: Mapping[str, Any],
    res: torch.Tensor,
    mm: torch.Tensor,
    key_mask: torch.Tensor,
    heads: int,
    name: str,
    record: Recorder,
):
    """One encoder layer: (residual int16-range, int8 matmul input) -> the next pair.

    The last layer's parameters have no `ln2.mm` site; its matmul input is then None.
    """
    batch, seq, width = res.shape
    d = width // heads
    qkv = _requantize(_matmul(mm, p["qkv.weight"]), p["qkv"], spec.INT8_MAX)
    record(f"{name}.qkv", qkv, (1,))
    q, k, v = (
        qkv[..., j * width : (j + 1) * width]
        .reshape(batch, seq, heads, d)
        .transpose(1, 2)
        .to(p["float"])
        for j in range(3)
    )  # (B, H, L, D)
    scores = torch.matmul(q, k.transpose(-1, -2)).to(_I64)
    record(f"{name}.scores", scores, (2, 3))
    probs = _softmax(scores, key_mask, p["softmax"])
    record(f"{name}.probs", probs, (2, 3))
    ctx = torch.matmul(probs.to(p["float"]), v).to(_I64).transpose(1, 2).reshape(batch, seq, width)
    ctx = _requantize(ctx, p["ctx"], spec.INT8_MAX)
    record(f"{name}.ctx", ctx, (1,))
    attn = _requantize(_matmul(ctx, p["attn_out.weight"]), p["attn_out"], spec.INT16_MAX)
    record(f"{name}.attn_out", attn, (1,))
    x = res + attn
    record(f"{name}.attn_sum", x, (1,))
    n = _layer_norm(x)
    res = _requantize(n, p["ln1.res"], spec.INT16_MAX)
    mm = _requantize(n, p["ln1.mm"], spec.INT8_MAX)
    record(f"{name}.ln1.res", res, (1,))
    record(f"{name}.ln1.mm", mm, (1,))
    pre = _requantize(_matmul(mm, p["ffn_in.weight"]), p["ffn_in"], 2**31 - 1)
    record(f"{name}.ffn_in", pre, (1,))
    act = _gelu(pre)
    record(f"{name}.gelu", act, (1,))
    act = _requantize(act, p["gelu_out"], spec.INT8_MAX)
    record(f"{name}.gelu_out", act, (1,))
    ffn = _requantize(_matmul(act, p["ffn_out.weight"]), p["ffn_out"], spec.INT16_MAX)
    record(f"{name}.ffn_out", ffn, (1,))
    x = res + ffn
    record(f"{name}.ffn_sum", x, (1,))
    n = _layer_norm(x)
    res = _requantize(n, p["ln2.res"], spec.INT16_MAX)
    record(f"{name}.ln2.res", res, (1,))
    if "ln2.mm" not in p:
        return res, None
    mm = _requantize(n, p["ln2.mm"], spec.INT8_MAX)
    record(f"{name}.ln2.mm", mm, (1,))
    return res, mm


def _plain_layer(p: Mapping[str, Any], res, mm, key_mask, heads: int):
    """`_layer` without recording: the function torch.compile fuses (one graph for all layers)."""
    return _layer(p, res, mm, key_mask, heads, "", _no_record)


def _pool(res: torch.Tensor, lengths: torch.Tensor, record: Recorder) -> torch.Tensor:
    mask = torch.arange(res.shape[1], device=res.device)[None, :, None] < lengths[:, None, None]
    s = torch.where(mask, res, 0).sum(dim=1)
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

        def t(name: str) -> torch.Tensor:
            return torch.from_numpy(np.array(tensors[name], dtype=np.int64)).to(self.device)

        def site(prefix: str) -> tuple[torch.Tensor, ...]:
            return tuple(t(n) for n in spec.site_names(prefix))

        def weight(name: str) -> torch.Tensor:
            w = np.asarray(tensors[name])
            bound = spec.INT8_MAX * int(np.abs(w.astype(np.int64)).sum(axis=1).max())
            dtype = torch.float32 if bound < _EXACT_F32 else torch.float64
            return torch.from_numpy(w.T.astype(np.float64)).to(self.device, dtype).contiguous()

        self._embed = {
            "embeddings.word": t("embeddings.word"),
            "embeddings.position": t("embeddings.position"),
            "embeddings.ln.res": site("embeddings.ln.res"),
            "embeddings.ln.mm": site("embeddings.ln.mm"),
        }
        self._layers = []
        for i in range(self.layers):
            pre = f"layers.{i}"
            p: dict[str, Any] = {"float": torch.float32}
            for w in ("qkv", "attn_out", "ffn_in", "ffn_out"):
                p[f"{w}.weight"] = weight(f"{pre}.{w}.weight")
                p[w] = site(f"{pre}.{w}")
            for s in ("softmax", "ctx", "gelu_out", "ln1.res", "ln1.mm", "ln2.res"):
                p[s] = site(f"{pre}.{s}")
            if i + 1 < self.layers:
                p["ln2.mm"] = site(f"{pre}.ln2.mm")
            self._layers.append(p)
        # the compiled graph is shared by all layers, so the last one gets a dummy ln2.mm site
        # (its output is discarded) to have the same structure
        last = dict(self._layers[-1])
        last["ln2.mm"] = tuple(torch.ones_like(a) for a in last["ln2.res"])
        self._fused_params = [*self._layers[:-1], last]
        self._compiled: Callable | None = None
        self._compile = compile

    def _fused_layer(self) -> Callable:
        if self._compiled is None:
            self._compiled = torch.compile(
                _plain_layer, dynamic=True, options={"realize_opcount_threshold": 16}
            )
        return self._compiled

    def forward(
        self, ids: np.ndarray, lengths: np.ndarray, record: Recorder | None = None
    ) -> np.ndarray:
        """int8 embeddings (B, C) of token ids (B, L) padded past `lengths`."""
        with torch.inference_mode():
            ids_t = torch.from_numpy(np.asarray(ids, dtype=np.int64)).to(self.device)
            len_t = torch.from_numpy(np.asarray(lengths, dtype=np.int64)).to(self.device)
            rec = record or _no_record
            key_mask = (torch.arange(ids_t.shape[1], device=self.device)[None, :] < len_t[:, None])[
                :, None, None, :
            ]
            res, mm = _embed(self._embed, ids_t, rec)
            fused = record is None and self._compile
            for i in range(self.layers):
                if not fused:
                    p = self._layers[i]
                    res, mm = _layer(p, res, mm, key_mask, self.heads, f"layers.{i}", rec)
                    continue
                try:
                    p = self._fused_params[i]
                    # no duck shaping: batch size == length must not trigger a recompile
                    with fx_config.patch(use_duck_shape=False):
                        res, mm = self._fused_layer()(p, res, mm, key_mask, self.heads)
                except Exception as exc:  # compiling failed: same integers, eager speed
                    _log.warning("torch.compile failed (%s); running eagerly", exc)
                    self._compile = False
                    return self.forward(ids, lengths, record)
            return _pool(res, len_t, rec).cpu().numpy()
