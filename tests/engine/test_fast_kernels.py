"""The torch backend's shortcuts equal the direct computation: every table over its whole input
domain (checked against the numpy reference, which shares no code with it), the int8 GEMM on the
model's own weights, and the golden bytes with each shortcut turned off."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aigora.engine import Encoder, IntModel
from aigora.engine import _numpy as ref
from aigora.engine import _spec as spec
from aigora.engine import _torch as tk

from .conftest import THREADS, sha256

HEAD_DIM = 32  # all-MiniLM-L6-v2: 384 / 12
REACH = 2 * spec.INT8_MAX**2 * HEAD_DIM  # the largest row_max - score


def t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(a, dtype=np.int64))


def _site(params: dict[str, np.ndarray], prefix: str) -> tuple[torch.Tensor, ...]:
    return tuple(t(params[name]) for name in spec.site_names(prefix))


def _lookup(table: tuple[torch.Tensor, ...], head: int, gap: np.ndarray) -> np.ndarray:
    values, base, limit = (a.numpy() for a in table)
    b, n = int(base.reshape(-1)[head]), int(limit.reshape(-1)[head])
    return values[b + np.minimum(gap, n)]


def test_every_softmax_table_of_the_model_equals_the_reference_exp_at_every_gap(model: IntModel):
    """All gaps 0..REACH, once for each distinct (mult, offset, shift) of the model's heads."""
    gap = np.arange(REACH + 1, dtype=np.int64)
    seen = set()
    for i in range(int(model.header["layers"])):
        prefix = f"layers.{i}.softmax"
        table = tk._exp_table(_site(model.tensors, prefix), HEAD_DIM)
        assert table is not None  # the converter's sites take the table path
        mult, offset, shift = (model.tensors[n].astype(np.int64) for n in spec.site_names(prefix))
        for h in range(mult.size):
            key = (int(mult[h]), int(offset[h]), int(shift[h]))
            if key in seen:
                continue
            seen.add(key)
            want = ref.exp_neg(ref.round_shift(-gap * mult[h] + offset[h], shift[h]))
            assert np.array_equal(_lookup(table, h, gap), want), (prefix, h)
    assert len(seen) > 10


@settings(max_examples=30, deadline=None)
@given(
    mult=st.lists(st.integers(1, 2**30), min_size=3, max_size=3),
    shift=st.lists(st.integers(16, 40), min_size=3, max_size=3),
    offset=st.lists(st.integers(-(2**40), 0), min_size=3, max_size=3),
)
def test_softmax_table_equals_the_reference_at_its_edges(mult, shift, offset) -> None:
    """Any site with mult >= 1 and offset <= 0: the table's last nonzero entry, its first zero,
    and the far end, against the numpy reference."""
    site = (t(np.array(mult)), t(np.array(offset)), t(np.array(shift)))
    table = tk._exp_table(site, HEAD_DIM)
    at_zero = ref.exp_neg(ref.round_shift(np.array(offset), np.array(shift)))
    assert (table is None) == (at_zero.min() < 1)  # else the table fits: 3 heads <= 3 * 2**20
    if table is None:  # exp at the row maximum already rounds to 0: the direct kernel runs
        return
    for h in range(3):
        n = int(table[2].reshape(-1)[h])
        gap = np.unique(np.clip(np.array([0, 1, n - 2, n - 1, n, n + 1, REACH]), 0, REACH))
        gap = np.concatenate([gap, np.random.default_rng(h).integers(0, REACH + 1, 200)])
        want = ref.exp_neg(ref.round_shift(-gap * mult[h] + offset[h], shift[h]))
        assert np.array_equal(_lookup(table, h, gap), want)
        assert n == REACH + 1 or want[gap == n].max() == 0


def test_a_site_the_table_does_not_cover_runs_the_direct_kernel() -> None:
    shift = t(np.full(2, 22))
    good = (t(np.full(2, 2**29)), t(np.zeros(2)), shift)
    assert tk._exp_table(good, 32) is not None
    assert tk._exp_table((good[0], t(np.array([0, 5])), shift), 32) is None  # offset > 0
    assert tk._exp_table((t(np.array([0, 1])), good[1], shift), 32) is None  # mult < 1
    assert tk._exp_table(good, 32, keys=2048) is None  # 2048 * 2**20 overflows the int32 sum
    flat = (good[0], good[1], t(np.full(2, 40)))  # exp falls slowly: no zero within reach
    assert tk._exp_table(flat, 2**12) is None  # 2 * (2 * 127**2 * 2**12 + 2) > 2**22 entries


@settings(max_examples=40, deadline=None)
@given(
    scores=hnp.arrays(np.int64, (2, 3, 5, 9), elements=st.integers(-(127**2) * 32, 127**2 * 32)),
    lengths=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    mult=st.integers(2**29, 2**30),
    shift=st.integers(20, 36),
)
def test_softmax_lookup_equals_the_reference(scores, lengths, mult, shift) -> None:
    mask = (np.arange(9)[None, :] < np.array(lengths)[:, None])[:, None, None, :]
    params = {
        "s.mult": np.full(3, mult),
        "s.offset": np.zeros(3, dtype=np.int64),
        "s.shift": np.array([shift, shift - 2, shift + 2]),
    }
    want = ref.softmax(scores, mask, params, "s")
    table = tk._exp_table(_site(params, "s"), HEAD_DIM)
    keys = tk._keys(t(np.array(lengths)), 9)
    got = tk._softmax_lookup(torch.from_numpy(scores).float(), keys[1], table)
    assert got.dtype == torch.float32
    assert np.array_equal(got.numpy().astype(np.int64), want)


def test_gelu_table_equals_the_reference_over_its_domain_and_beyond() -> None:
    table = tk._gelu_table(torch.device("cpu"))
    inside = np.arange(-spec.GELU_CLAMP, spec.GELU_CLAMP + 1, dtype=np.int64)
    assert np.array_equal(table.numpy(), ref.gelu(inside))
    x = np.concatenate(
        [
            np.arange(-(8 << spec.GELU_BITS), 8 << spec.GELU_BITS, dtype=np.int64),
            np.array([-(2**31) + 1, -(2**20), 2**20, 2**31 - 1]),
        ]
    )
    assert np.array_equal(tk._gelu_lookup(t(x), table).numpy(), ref.gelu(x))


def test_isqrt_at_every_square_boundary_near_the_top() -> None:
    r = np.arange(2**31 - 5000, 2**31, dtype=np.int64)
    v = np.concatenate([r * r - 1, r * r, r * r + 1, r * r + 2 * r])  # the last is 2**62 - 1
    assert np.array_equal(tk._isqrt(t(v)).numpy(), np.concatenate([r - 1, r, r, r]))


def test_matmul_is_exact_on_the_models_weights(model: IntModel) -> None:
    """Whichever path the backend chose (int8 GEMM or float BLAS), at the extremes and at random."""
    backend = tk.TorchBackend(model.tensors, model.header, compile=False)
    rng = np.random.default_rng(1)
    for name in ("qkv", "attn_out", "ffn_in", "ffn_out"):
        w_t = backend._layers[0][f"{name}.weight"]
        w = model.tensors[f"layers.0.{name}.weight"].astype(np.int64)  # (N, K)
        k = w.shape[1]
        x = np.concatenate(
            [
                np.full((1, k), 127),
                np.full((1, k), -127),
                np.sign(w[:3]) * 127,  # the largest sums for three output channels
                rng.integers(-127, 128, (40, k)),
            ]
        )
        x3 = torch.from_numpy(x.reshape(5, 9, k)).to(torch.int8)
        got = tk._matmul(x3, w_t).reshape(-1, w.shape[0]).to(torch.int64).numpy()
        assert np.array_equal(got, x @ w.T), name


@pytest.mark.parametrize("shortcut", ["int8 GEMM", "tables"])
def test_golden_bytes_without_each_shortcut(model, sentences, golden, monkeypatch, shortcut):
    """The paths other machines (CUDA, CPUs without VNNI) or other models take, eager."""
    if shortcut == "int8 GEMM":
        monkeypatch.setattr(tk, "_int8_matmul_is_exact", lambda device: False)
    else:
        monkeypatch.setattr(tk, "_exp_table", lambda site, head_dim, keys: None)
    encoder = Encoder(model, backend="torch", threads=THREADS, compile=False)
    layer = encoder._torch._layers[0]
    assert (layer["qkv.weight"].dtype == torch.int8) == (shortcut != "int8 GEMM")
    assert (layer["exp.table"] is None) == (shortcut == "tables")
    some = [*range(12), 22]  # 22 is a 256-token sentence
    embeddings = encoder.embed([sentences[i] for i in some], batch_size=16)
    assert [sha256(row) for row in embeddings] == [golden["per_sentence_sha256"][i] for i in some]
