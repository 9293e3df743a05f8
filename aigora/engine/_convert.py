"""Float BERT checkpoint -> `IntModel`: calibrate activation ranges, then fix every scale.

Floats are used here and only here. The converter runs the float model (float64, torch) over the
shipped calibration text, records per-channel activation ranges, and turns every scale into
integers: int8 weights per output channel, int16 embeddings, int32 multipliers with shifts,
int64 offsets.

Conversion is deterministic: the calibration text is fixed, and every calibrated range is
rounded up to a coarse grid (4-bit mantissa, `_grid_ceil`) before use, so last-bit differences
in the float forward pass cannot reach the model. Everything after that is exact or a single
correctly rounded IEEE operation.

Activation quantization follows SmoothQuant: an int8 matmul input gets a per-channel scale
s_c = max|X_c|**alpha / max|W_c|**(1 - alpha) (times one per-tensor factor) that is folded into the
weight columns, moving outliers from activations into weights. GELU outputs are quantized
asymmetrically (a per-channel zero point folded into the next layer's offset).
"""

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import load_file

from aigora.engine import _spec as spec
from aigora.engine._calibration import calibration_texts
from aigora.engine._errors import EngineError
from aigora.engine._model import IntModel
from aigora.engine._tokenize import TextTokenizer

_GRID_BITS = 4


@dataclass(frozen=True)
class Smoothing:
    """SmoothQuant migration strength per int8 matmul input (1.0: purely per-channel)."""

    qkv: float = 0.85
    attn_out: float = 0.85
    ffn_in: float = 0.85
    ffn_out: float = 0.85


# ---------------------------------------------------------------------------------------------
# Loading a checkpoint


@dataclass(frozen=True)
class _Checkpoint:
    config: dict
    weights: dict[str, np.ndarray]
    tokenizer_json: bytes
    source: str


def _load_checkpoint(checkpoint_dir: Path) -> _Checkpoint:
    checkpoint_dir = Path(checkpoint_dir)
    config_path = checkpoint_dir / "config.json"
    weights_path = checkpoint_dir / "model.safetensors"
    tokenizer_path = checkpoint_dir / "tokenizer.json"
    for p in (config_path, weights_path, tokenizer_path):
        if not p.is_file():
            raise EngineError(
                f"{checkpoint_dir} is not a BERT checkpoint: {p.name} is missing "
                "(need config.json, model.safetensors and tokenizer.json)"
            )
    config = json.loads(config_path.read_text("utf-8"))
    wanted = {
        "model_type": "bert",
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
    }
    for key, value in wanted.items():
        if config.get(key, value) != value:
            raise EngineError(
                f"unsupported checkpoint: {key} is {config.get(key)!r}, need {value!r}"
            )
    pooling = checkpoint_dir / "1_Pooling" / "config.json"
    if pooling.is_file() and not json.loads(pooling.read_text("utf-8")).get(
        "pooling_mode_mean_tokens", False
    ):
        raise EngineError("unsupported checkpoint: only mean pooling is implemented")
    raw = load_file(str(weights_path))
    weights = {k.removeprefix("bert."): v.astype(np.float64) for k, v in raw.items()}
    digest = hashlib.sha256(weights_path.read_bytes()).hexdigest()
    return _Checkpoint(config, weights, tokenizer_path.read_bytes(), f"sha256:{digest}")


# ---------------------------------------------------------------------------------------------
# Calibration: the float model, recording activation ranges


def _layer_norm(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor, eps: float) -> torch.Tensor:
    return torch.nn.functional.layer_norm(x, x.shape[-1:], w, b, eps)


class _Ranges:
    """Running maxima of |activation| (or min and max) per channel, over real tokens only."""

    def __init__(self) -> None:
        self.max: dict[str, np.ndarray] = {}
        self.min: dict[str, np.ndarray] = {}

    def absmax(self, name: str, x: torch.Tensor, mask: torch.Tensor) -> None:
        v = x[mask].abs().amax(dim=0).numpy()
        self.max[name] = np.maximum(self.max[name], v) if name in self.max else v

    def minmax(self, name: str, x: torch.Tensor, mask: torch.Tensor) -> None:
        hi, lo = x[mask].amax(dim=0).numpy(), x[mask].amin(dim=0).numpy()
        self.max[name] = np.maximum(self.max[name], hi) if name in self.max else hi
        self.min[name] = np.minimum(self.min[name], lo) if name in self.min else lo


def _calibrate(ckpt: _Checkpoint, batches: Sequence[list[np.ndarray]]) -> _Ranges:
    cfg, w = ckpt.config, {k: torch.from_numpy(v) for k, v in ckpt.weights.items()}
    heads, eps = cfg["num_attention_heads"], cfg.get("layer_norm_eps", 1e-12)
    ranges = _Ranges()
    with torch.no_grad():
        for batch in batches:
            seq = max(len(ids) for ids in batch)
            ids = torch.zeros((len(batch), seq), dtype=torch.int64)
            for i, row in enumerate(batch):
                ids[i, : len(row)] = torch.from_numpy(row)
            lengths = torch.tensor([len(row) for row in batch])
            mask = torch.arange(seq)[None, :] < lengths[:, None]  # (B, L)
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][:seq][None]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            h = _layer_norm(
                x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps
            )
            ranges.absmax("embeddings.ln", h, mask)
            for i in range(cfg["num_hidden_layers"]):
                p = f"encoder.layer.{i}."
                b, n, c = h.shape
                d = c // heads

                def dense(t: torch.Tensor, name: str, p: str = p) -> torch.Tensor:
                    return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

                q, k, v = (dense(h, f"attention.self.{m}") for m in ("query", "key", "value"))
                ranges.absmax(f"{i}.q", q.reshape(b, n, heads, d).abs().amax(-1), mask)
                ranges.absmax(f"{i}.k", k.reshape(b, n, heads, d).abs().amax(-1), mask)
                ranges.absmax(f"{i}.v", v, mask)
                qh, kh, vh = (t.reshape(b, n, heads, d).transpose(1, 2) for t in (q, k, v))
                scores = qh @ kh.transpose(-1, -2) / math.sqrt(d)
                scores = scores.masked_fill(~mask[:, None, None, :], -math.inf)
                ctx = (scores.softmax(-1) @ vh).transpose(1, 2).reshape(b, n, c)
                ranges.absmax(f"{i}.ctx", ctx, mask)
                attn = dense(ctx, "attention.output.dense")
                ranges.absmax(f"{i}.attn_out", attn, mask)
                ranges.absmax(f"{i}.attn_sum", h + attn, mask)
                h = _layer_norm(
                    h + attn,
                    w[p + "attention.output.LayerNorm.weight"],
                    w[p + "attention.output.LayerNorm.bias"],
                    eps,
                )
                ranges.absmax(f"{i}.ln1", h, mask)
                pre = dense(h, "intermediate.dense")
                ranges.absmax(f"{i}.ffn_in", pre, mask)
                act = torch.nn.functional.gelu(pre)
                ranges.minmax(f"{i}.gelu", act, mask)
                out = dense(act, "output.dense")
                ranges.absmax(f"{i}.ffn_out", out, mask)
                ranges.absmax(f"{i}.ffn_sum", h + out, mask)
                h = _layer_norm(
                    h + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps
                )
                ranges.absmax(f"{i}.ln2", h, mask)
    return ranges


# ---------------------------------------------------------------------------------------------
# Fixing scales: floats in, integers out


def _grid_ceil(x: np.ndarray | float) -> np.ndarray:
    """The smallest m * 2**e >= x with m a 4-bit integer mantissa (x > 0): a coarse grid that
    makes calibrated scales insensitive to last-bit float differences."""
    x = np.maximum(np.asarray(x, dtype=np.float64), 1e-30)
    m, e = np.frexp(x)
    return np.ldexp(np.ceil(np.ldexp(m, _GRID_BITS)), e - _GRID_BITS)


def _fixed(ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int multiplier and shift with mult / 2**shift ~ ratio, |mult| <= 2**30, 1 <= shift <= 62.

    Tiny ratios (below 2**-32) get shift 62 and a multiplier with fewer significant bits.
    """
    ratio = np.asarray(ratio, dtype=np.float64)
    _, e = np.frexp(ratio)
    shift = np.minimum(30 - e.astype(np.int64), 62)
    if shift.min() < 1:
        raise EngineError(f"a requantization ratio is out of range: {np.abs(ratio).max()}")
    mult = np.rint(np.ldexp(ratio, shift)).astype(np.int64)
    return mult, shift


def _site(name: str, ratio: np.ndarray, offset_real: np.ndarray) -> dict[str, np.ndarray]:
    """Tensors for requantize(v) = round(v * ratio + offset_real) in fixed point."""
    mult, shift = _fixed(ratio)
    offset = np.rint(np.ldexp(np.asarray(offset_real, dtype=np.float64), shift))
    if np.abs(offset).max(initial=0) >= 2.0**60:
        raise EngineError(f"offset of site {name} is out of range")
    m_name, o_name, s_name = spec.site_names(name)
    return {
        m_name: mult.astype(np.int32),
        o_name: offset.astype(np.int64),
        s_name: shift.astype(np.int32),
    }


def _smooth(act_max: np.ndarray, w_colmax: np.ndarray, alpha: float) -> np.ndarray:
    """Per-channel int8 activation scales a_c with act_max / a_c <= 127 (SmoothQuant)."""
    act = np.maximum(act_max, 1e-8)
    s = act**alpha / np.maximum(w_colmax, 1e-8) ** (1.0 - alpha)
    t = np.max(act / s) / spec.INT8_MAX
    return _grid_ceil(s * t)


def _quantize_weight(weight: np.ndarray, in_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weight (per output row) for int8 inputs of scale in_scale; returns (Wq, row scale)."""
    folded = weight * in_scale[None, :]
    row = np.max(np.abs(folded), axis=1) / spec.INT8_MAX
    row = np.where(row > 0, row, 1.0)
    q = np.clip(np.rint(folded / row[:, None]), -spec.INT8_MAX, spec.INT8_MAX).astype(np.int8)
    return q, row


def _linear(
    name: str,
    weight: np.ndarray,
    bias: np.ndarray,
    in_scale: np.ndarray,
    out_scale: np.ndarray,
    in_zero: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Weight and site of y = W x + b, with x = in_scale * (q - in_zero) and y = out_scale * o."""
    q, row = _quantize_weight(weight, in_scale)
    tensors = {f"{name}.weight": q}
    site = _site(name, row / out_scale, bias / out_scale)
    if in_zero is not None:
        # acc = sum W q; the true product needs sum W (q - z): subtract W z, exactly, in integers
        correction = q.astype(np.int64) @ in_zero.astype(np.int64)
        site[f"{name}.offset"] -= correction * site[f"{name}.mult"].astype(np.int64)
    tensors.update(site)
    return tensors


def _layer_norm_sites(
    name: str, gamma: np.ndarray, beta: np.ndarray, res_scale: float, mm_scale: np.ndarray | None
) -> dict[str, np.ndarray]:
    """LayerNorm output sites: n (units 2**-24 of d/||d||) times sqrt(C) gamma, plus beta."""
    c = gamma.shape[0]
    unit = math.sqrt(c) / 2.0**spec.LN_FRAC_BITS
    tensors = _site(f"{name}.res", gamma * unit / res_scale, beta / res_scale)
    if mm_scale is not None:
        tensors.update(_site(f"{name}.mm", gamma * unit / mm_scale, beta / mm_scale))
    return tensors


def _residual_scale(*maxima: np.ndarray) -> float:
    return float(_grid_ceil(max(float(np.max(m)) for m in maxima) / 2.0**spec.RESIDUAL_BITS))


def _build(ckpt: _Checkpoint, r: _Ranges, smoothing: Smoothing) -> dict[str, np.ndarray]:
    cfg, w = ckpt.config, ckpt.weights
    layers, heads = cfg["num_hidden_layers"], cfg["num_attention_heads"]
    width = cfg["hidden_size"]
    head_dim = width // heads
    t: dict[str, np.ndarray] = {}

    word = w["embeddings.word_embeddings.weight"]
    pos = (
        w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    )
    embed_scale = _grid_ceil((np.abs(word).max() + np.abs(pos).max()) / 2.0**spec.RESIDUAL_BITS)
    t["embeddings.word"] = np.rint(word / embed_scale).astype(np.int16)
    t["embeddings.position"] = np.rint(pos[: spec.MAX_TOKENS] / embed_scale).astype(np.int16)

    def lw(i: int, name: str) -> np.ndarray:
        return w[f"encoder.layer.{i}.{name}"]

    def qkv_weight(i: int) -> np.ndarray:
        return np.concatenate(
            [lw(i, f"attention.self.{m}.weight") for m in ("query", "key", "value")]
        )

    def colmax(weight: np.ndarray) -> np.ndarray:
        return np.abs(weight).max(axis=0)

    # residual scale after each LayerNorm: covers its output, the next sublayer output and sum
    res_scale = _residual_scale(r.max["embeddings.ln"], r.max["0.attn_out"], r.max["0.attn_sum"])
    mm_scale = _smooth(r.max["embeddings.ln"], colmax(qkv_weight(0)), smoothing.qkv)
    t.update(
        _layer_norm_sites(
            "embeddings.ln",
            w["embeddings.LayerNorm.weight"],
            w["embeddings.LayerNorm.bias"],
            res_scale,
            mm_scale,
        )
    )
    for i in range(layers):
        p = f"layers.{i}"
        # attention: q and k per head, v per channel
        q_scale = _grid_ceil(r.max[f"{i}.q"] / spec.INT8_MAX)  # (H,)
        k_scale = _grid_ceil(r.max[f"{i}.k"] / spec.INT8_MAX)
        v_scale = _grid_ceil(r.max[f"{i}.v"] / spec.INT8_MAX)  # (C,)
        qkv_out = np.concatenate(
            [np.repeat(q_scale, head_dim), np.repeat(k_scale, head_dim), v_scale]
        )
        qkv_bias = np.concatenate(
            [lw(i, f"attention.self.{m}.bias") for m in ("query", "key", "value")]
        )
        t.update(_linear(f"{p}.qkv", qkv_weight(i), qkv_bias, mm_scale, qkv_out))
        exp_ratio = q_scale * k_scale / math.sqrt(head_dim) * 2.0**spec.EXP_IN_BITS
        t.update(_site(f"{p}.softmax", exp_ratio, np.zeros(heads)))
        out_w = lw(i, "attention.output.dense.weight")
        ctx_scale = _smooth(r.max[f"{i}.ctx"], colmax(out_w), smoothing.attn_out)
        t.update(_site(f"{p}.ctx", v_scale / ctx_scale / 2.0**spec.PROB_BITS, np.zeros(width)))
        t.update(
            _linear(
                f"{p}.attn_out",
                out_w,
                lw(i, "attention.output.dense.bias"),
                ctx_scale,
                np.full(width, res_scale),
            )
        )
        # feed-forward
        in_w, out_w = lw(i, "intermediate.dense.weight"), lw(i, "output.dense.weight")
        res_scale = _residual_scale(r.max[f"{i}.ln1"], r.max[f"{i}.ffn_out"], r.max[f"{i}.ffn_sum"])
        mm_scale = _smooth(r.max[f"{i}.ln1"], colmax(in_w), smoothing.ffn_in)
        t.update(
            _layer_norm_sites(
                f"{p}.ln1",
                lw(i, "attention.output.LayerNorm.weight"),
                lw(i, "attention.output.LayerNorm.bias"),
                res_scale,
                mm_scale,
            )
        )
        gelu_unit = 2.0**-spec.GELU_BITS
        t.update(
            _linear(
                f"{p}.ffn_in",
                in_w,
                lw(i, "intermediate.dense.bias"),
                mm_scale,
                np.full(in_w.shape[0], gelu_unit),
            )
        )
        lo, hi = r.min[f"{i}.gelu"], r.max[f"{i}.gelu"]
        act_scale = _smooth((hi - lo) / 2, colmax(out_w), smoothing.ffn_out)
        act_zero = -np.rint((hi + lo) / 2 / act_scale)
        t.update(_site(f"{p}.gelu_out", gelu_unit / act_scale, act_zero))
        t.update(
            _linear(
                f"{p}.ffn_out",
                out_w,
                lw(i, "output.dense.bias"),
                act_scale,
                np.full(width, res_scale),
                in_zero=act_zero,
            )
        )
        last = i + 1 == layers
        if last:
            res_scale = _residual_scale(r.max[f"{i}.ln2"])
            mm_scale = None
        else:
            res_scale = _residual_scale(
                r.max[f"{i}.ln2"], r.max[f"{i + 1}.attn_out"], r.max[f"{i + 1}.attn_sum"]
            )
            mm_scale = _smooth(r.max[f"{i}.ln2"], colmax(qkv_weight(i + 1)), smoothing.qkv)
        t.update(
            _layer_norm_sites(
                f"{p}.ln2",
                lw(i, "output.LayerNorm.weight"),
                lw(i, "output.LayerNorm.bias"),
                res_scale,
                mm_scale,
            )
        )
    return t


def _batches(ids: list[np.ndarray], size: int = 16) -> list[list[np.ndarray]]:
    ordered = sorted(ids, key=len)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def convert(
    checkpoint_dir: str | Path,
    *,
    texts: Sequence[str] | None = None,
    smoothing: Smoothing | None = None,
) -> IntModel:
    """Convert a Hugging Face BERT sentence encoder (mean pooling) into an `IntModel`.

    `checkpoint_dir` holds config.json, model.safetensors and tokenizer.json. `texts` replaces
    the shipped calibration text (tests use a few sentences for speed). The same inputs give the
    same model root.
    """
    ckpt = _load_checkpoint(Path(checkpoint_dir))
    cfg = ckpt.config
    if cfg.get("max_position_embeddings", 512) < spec.MAX_TOKENS:
        raise EngineError("unsupported checkpoint: fewer than 256 position embeddings")
    tokenizer = TextTokenizer(ckpt.tokenizer_json, spec.MAX_TOKENS)
    ids = tokenizer.encode(list(texts) if texts is not None else calibration_texts())
    ranges = _calibrate(ckpt, _batches(ids))
    tensors = _build(ckpt, ranges, smoothing or Smoothing())
    tensors[spec.TOKENIZER] = np.frombuffer(ckpt.tokenizer_json, dtype=np.uint8).copy()
    header = {
        "format": spec.FORMAT,
        "version": spec.FORMAT_VERSION,
        "hidden": cfg["hidden_size"],
        "heads": cfg["num_attention_heads"],
        "layers": cfg["num_hidden_layers"],
        "intermediate": cfg["intermediate_size"],
        "vocab": cfg["vocab_size"],
        "max_tokens": spec.MAX_TOKENS,
        "passage_tokens": spec.PASSAGE_TOKENS,
        "passage_overlap": spec.PASSAGE_OVERLAP,
        "source": ckpt.source,
    }
    return IntModel(tensors, header)
