"""The integer model's fixed constants: bit widths, polynomial coefficients, tensor names.

Everything a backend needs to agree on, besides the model file itself, lives here as plain
integers. Both backends import these numbers and nothing else from each other, so a kernel bug in
one cannot hide in the other.

Fixed-point conventions (every backend implements exactly these; see `_numpy.py` for the
reference):

- `round_shift(v, s)` = v / 2**s rounded half away from zero, for s >= 1. The only rounding rule.
- `requantize(v, site)` = clamp(round_shift(v * mult + offset, shift), lo, hi), with `mult` an
  int32 in [2**29, 2**30], `offset` an int64 and `shift` in [1, 62], per output channel.
- LayerNorm normalizes to n = (x - mean) / sqrt(sum((x - mean)**2)) in units of 2**-LN_FRAC_BITS
  (so |n| <= 2**LN_FRAC_BITS); sqrt(C), gamma, beta and the output scale live in the site.
- Softmax: scores minus the row maximum, requantized to units of 2**-EXP_IN_BITS, go through
  `exp_neg` (output units 2**-EXP_OUT_BITS) and are normalized to probabilities in units of
  2**-PROB_BITS.
- GELU takes and gives units of 2**-GELU_BITS.
"""

from typing import Final

FORMAT: Final = "aigora-int-bert"
FORMAT_VERSION: Final = 2
"""2: the header records the passage rule (`passage_tokens`, `passage_overlap`)."""

LN_FRAC_BITS: Final = 24
"""LayerNorm output n = (x - mean) / ||x - mean|| in units of 2**-24."""
LN_INV_BITS: Final = 48
"""LayerNorm computes 2**48 // isqrt(sum d**2) once per row, then d * inv >> 24."""

RESIDUAL_BITS: Final = 14
"""Residual-stream scales put calibrated maxima at about 2**14, half the int16 range."""
INT16_MAX: Final = 32767
INT8_MAX: Final = 127

EXP_IN_BITS: Final = 16
"""exp_neg input: x <= 0 in units of 2**-16."""
EXP_OUT_BITS: Final = 20
"""exp_neg output: exp(x) in units of 2**-20 (exp(0) = 2**20)."""
EXP_MIN_INPUT: Final = -20 * (1 << EXP_IN_BITS)
"""Inputs below -20 are clamped there; exp(-20) * 2**20 rounds to 0."""
LN2_Q: Final = 45426
"""round(ln 2 * 2**16)."""
EXP_POLY_BITS: Final = 30
EXP_COEFFS: Final = (1073741765, 1073735662, 536765846, 178297639, 42844901, 6358820)
"""exp(p) ~ sum c_k p**k on p in (-ln 2, 0], c_k in units of 2**-30 (Chebyshev fit, rel. error
about 1e-7), evaluated by Horner with p in units of 2**-16."""
PROB_BITS: Final = 15
"""Attention probabilities in units of 2**-15; a row sums to 2**15 up to rounding."""
PROB_INV_BITS: Final = 47
"""Softmax computes 2**47 // sum(e) once per row, then e * inv >> 32."""

GELU_BITS: Final = 12
"""GELU input and output in units of 2**-12."""
GELU_CLAMP: Final = 4 << GELU_BITS
"""Beyond |x| >= 4, GELU(x) is x (x >= 4) or 0 (x <= -4); error below 1.4e-4."""
PHI_ARG_BITS: Final = 24
PHI_POLY_BITS: Final = 30
PHI_COEFFS: Final = (
    1713439295,
    -4567698177,
    10917945143,
    -20316728144,
    29085540413,
    -30729741620,
    22155831947,
    -9560885742,
    1839143767,
)
"""Phi(x) - 1/2 ~ v * sum q_k u**k with v = x / 4, u = v**2, on |x| <= 4; q_k in units of 2**-30,
u in units of 2**-24 (Chebyshev fit, abs. error about 1e-5). Phi is the normal CDF, GELU = x Phi."""

EMBED_BITS: Final = 7
"""The output embedding is round(127 * v / ||v||): int8, L2 norm about 127."""

MAX_TOKENS: Final = 256
"""Inputs are truncated to 256 tokens ([CLS] and [SEP] included), as all-MiniLM-L6-v2 is."""

PASSAGE_TOKENS: Final = 128
"""A document is read as passages of at most 128 tokens ([CLS] and [SEP] included): the length
all-MiniLM-L6-v2 was trained on, so a passage is read whole and says one thing."""
PASSAGE_OVERLAP: Final = 24
"""Consecutive passages share whole sentences of up to 24 tokens, so a statement cut by a
window boundary is read whole in one of them."""

HEADER: Final = "header.json"
TOKENIZER: Final = "tokenizer.json"
"""Tensors of dtype uint8 holding the canonical-JSON header and the tokenizer's JSON."""


def site_names(prefix: str) -> tuple[str, str, str]:
    """Tensor names of a requantization site: multiplier, offset, shift (one per channel)."""
    return f"{prefix}.mult", f"{prefix}.offset", f"{prefix}.shift"
