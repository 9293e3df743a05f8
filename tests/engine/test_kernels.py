"""Integer kernels: exact where exact is claimed, error-bounded where they approximate, and the
numpy reference and the torch kernels equal on every input tried (they share no code)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aigora.engine import _numpy as ref
from aigora.engine import _spec as spec
from aigora.engine import _torch as tk

I64 = st.integers(-(2**40), 2**40)


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.int64))


def round_half_away(x: Fraction) -> int:
    n = math.floor(abs(x) + Fraction(1, 2))
    return n if x >= 0 else -n


@settings(max_examples=300)
@given(v=I64, shift=st.integers(1, 20))
def test_round_shift_rounds_half_away_from_zero(v: int, shift: int) -> None:
    want = round_half_away(Fraction(v, 2**shift))
    assert int(ref.round_shift(np.int64(v), shift)) == want
    assert int(tk._round_shift(torch.tensor(v), shift)) == want


def test_round_shift_ties() -> None:
    v = np.array([-5, -3, -1, 1, 3, 5], dtype=np.int64)  # all exact halves after >> 1
    assert ref.round_shift(v, 1).tolist() == [-3, -2, -1, 1, 2, 3]
    assert tk._round_shift(t(v), 1).tolist() == [-3, -2, -1, 1, 2, 3]


@settings(max_examples=300)
@given(a=I64, b=st.integers(1, 2**20))
def test_round_div_rounds_half_away_from_zero(a: int, b: int) -> None:
    assert int(ref.round_div(np.int64(a), b)) == round_half_away(Fraction(a, b))


@settings(max_examples=300)
@given(v=st.integers(0, 2**62 - 1))
def test_isqrt_is_exact(v: int) -> None:
    want = math.isqrt(v)
    assert int(ref.isqrt(np.array([v]))[0]) == want
    assert int(tk._isqrt(torch.tensor([v]))[0]) == want


def test_isqrt_edges() -> None:
    roots = np.array([0, 1, 2, 3, 2**20, 2**31 - 1], dtype=np.int64)
    v = np.concatenate([roots * roots, roots * roots - 1, roots * roots + 1]).clip(0)
    want = [math.isqrt(int(x)) for x in v]
    assert ref.isqrt(v).tolist() == want
    assert tk._isqrt(t(v)).tolist() == want


def test_exp_exhaustive_equal_bounded_and_monotone() -> None:
    x = np.arange(spec.EXP_MIN_INPUT - 1000, 1, dtype=np.int64)
    e = ref.exp_neg(x)
    assert np.array_equal(e, tk._exp_neg(t(x)).numpy())
    assert np.all(np.diff(e) >= 0)  # non-decreasing in x
    exact = np.exp(x / 2.0**spec.EXP_IN_BITS) * 2.0**spec.EXP_OUT_BITS
    assert np.max(np.abs(e - exact)) <= 2.0  # within two output units (2e-6 of exp(0))
    assert e[-1] == 2**spec.EXP_OUT_BITS


def test_exp_division_trick_matches_floor_division() -> None:
    n = np.arange(0, -spec.EXP_MIN_INPUT + 1, dtype=np.int64)
    assert np.array_equal((n * tk._LN2_RECIP) >> 40, n // spec.LN2_Q)


def _gelu_float(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def test_gelu_exhaustive_equal_bounded_and_monotone() -> None:
    x = np.arange(-(8 << spec.GELU_BITS), 8 << spec.GELU_BITS, dtype=np.int64)
    g = ref.gelu(x)
    assert np.array_equal(g, tk._gelu(t(x)).numpy())
    real = x / 2.0**spec.GELU_BITS
    err = np.abs(g / 2.0**spec.GELU_BITS - _gelu_float(real))
    half_unit = 2.0 ** -(spec.GELU_BITS + 1)  # output rounding
    assert err.max() < half_unit + 1.4e-4  # the clamp at |x| = 4 adds at most gelu(-4)
    assert err[np.abs(real) < 3.5].max() < half_unit + 4e-5  # the polynomial: ~1e-5 * |x|
    turn = np.searchsorted(real, -0.7518)  # GELU falls, then rises
    assert np.all(np.diff(g[turn + 1 :]) >= 0)
    assert np.all(np.diff(g[: turn - 1]) <= 0)


@settings(max_examples=50, deadline=None)
@given(v=st.integers(-(2**31) + 1, 2**31 - 1))
def test_gelu_large_inputs_agree(v: int) -> None:
    assert int(ref.gelu(np.array([v]))[0]) == int(tk._gelu(torch.tensor([v]))[0])


rows = hnp.arrays(
    np.int64,
    st.tuples(st.integers(1, 4), st.sampled_from([8, 384])),
    elements=st.integers(-(2**16), 2**16),
)


@settings(max_examples=60, deadline=None)
@given(x=rows)
def test_layer_norm_equal_and_accurate(x: np.ndarray) -> None:
    n = ref.layer_norm(x)
    assert np.array_equal(n, tk._layer_norm(t(x)).numpy())
    assert np.abs(n).max() <= 2**spec.LN_FRAC_BITS
    d = x - x.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(d, axis=-1, keepdims=True)
    ok = norm[:, 0] > 1000  # enough resolution for the comparison to mean something
    want = d[ok] / norm[ok] * 2**spec.LN_FRAC_BITS
    assert np.all(np.abs(n[ok] - want) <= 2**spec.LN_FRAC_BITS * 2e-3)


@settings(max_examples=40, deadline=None)
@given(
    scores=hnp.arrays(np.int64, (2, 3, 5, 9), elements=st.integers(-(2**20), 2**20)),
    lengths=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    mult=st.integers(2**29, 2**30),
    shift=st.integers(20, 40),
)
def test_softmax_equal_normalized_and_masked(scores, lengths, mult, shift) -> None:
    mask = (np.arange(9)[None, :] < np.array(lengths)[:, None])[:, None, None, :]
    params = {
        "s.mult": np.full(3, mult),
        "s.offset": np.zeros(3, dtype=np.int64),
        "s.shift": np.full(3, shift),
    }
    p = ref.softmax(scores, mask, params, "s")
    site = tuple(t(params[k]) for k in ("s.mult", "s.offset", "s.shift"))
    assert np.array_equal(p, tk._softmax(t(scores), torch.from_numpy(mask), site).numpy())
    assert np.all(p[~np.broadcast_to(mask, p.shape)] == 0)
    assert np.all(np.abs(p.sum(axis=-1) - 2**spec.PROB_BITS) <= 9)
    garbage = np.where(np.broadcast_to(mask, scores.shape), scores, 12345)
    assert np.array_equal(ref.softmax(garbage, mask, params, "s"), p)  # padding is ignored


@settings(max_examples=100)
@given(
    v=hnp.arrays(np.int64, 6, elements=st.integers(-(2**24), 2**24)),
    mult=st.integers(-(2**30), 2**30),
    offset=st.integers(-(2**50), 2**50),
    shift=st.integers(1, 60),
)
def test_requantize_is_one_rounding_of_the_exact_value(v, mult, offset, shift) -> None:
    params = {
        "q.mult": np.array([mult]),
        "q.offset": np.array([offset]),
        "q.shift": np.array([shift]),
    }
    got = ref.requantize(v, params, "q", 127)
    want = [
        max(-127, min(127, round_half_away(Fraction(x * mult + offset, 2**shift))))
        for x in v.tolist()
    ]
    assert got.tolist() == want
    site = tuple(t(params[k]) for k in ("q.mult", "q.offset", "q.shift"))
    assert tk._requantize(t(v), site, 127).tolist() == want


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float_matmul_of_integers_is_exact_within_bound(dtype) -> None:
    """The torch fast path relies on this: every partial sum below 2**24 (float32) is exact."""
    rng = np.random.default_rng(0)
    x = rng.integers(-127, 128, (33, 384))
    w = rng.integers(-127, 128, (384, 100))
    want = x @ w
    assert np.abs(x).max() * np.abs(w).sum(axis=0).max() < 2**24
    got = tk._matmul(torch.from_numpy(x).to(dtype), torch.from_numpy(w).to(dtype)).numpy()
    assert np.array_equal(got, want)
    assert np.array_equal(ref.linear(x, w.T), want)
