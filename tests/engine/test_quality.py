"""Quality against the float model (sentence-transformers fp32) on text nobody tuned on.

2,000 standard-library docstrings as passages and 200 more as queries: cosine similarity of every
integer embedding with its fp32 counterpart (mean >= 0.99, min >= 0.97), and top-10 retrieval
overlap with fp32 (>= 0.9), the integer side scored with exact int8 dot products.
"""

import numpy as np
import pytest

from aigora.engine import Encoder, default_checkpoint
from aigora.engine.evaluation import cosine, retrieval_set, top_k, top_k_overlap

PASSAGES, QUERIES, K = 2000, 200, 10


@pytest.fixture(scope="module")
def embedded(torch_encoder: Encoder):
    from aigora.engine._fp32 import Fp32Encoder

    passages, queries = retrieval_set(PASSAGES, QUERIES)
    fp32 = Fp32Encoder(default_checkpoint(), threads=2)
    texts = passages + queries
    return len(passages), torch_encoder.embed(texts, batch_size=32), fp32.embed(texts)


@pytest.mark.slow
def test_cosine_with_fp32(embedded) -> None:
    _, integer, fp32 = embedded
    assert integer.shape == fp32.shape
    assert len(integer) >= 500
    c = cosine(integer, fp32)
    print(f"cosine vs fp32 over {len(c)} texts: mean {c.mean():.5f}, min {c.min():.5f}")
    assert c.mean() >= 0.99
    assert c.min() >= 0.97


@pytest.mark.slow
def test_top10_retrieval_overlap_with_fp32(embedded) -> None:
    n, integer, fp32 = embedded
    assert n >= 2000
    got = top_k(integer[n:], integer[:n], K)
    want = top_k(fp32[n:], fp32[:n], K)
    overlap = top_k_overlap(got, want)
    print(f"top-{K} overlap vs fp32 ({len(got)} queries, {n} passages): {overlap:.4f}")
    assert overlap >= 0.9


def test_retrieval_set_is_disjoint() -> None:
    passages, queries = retrieval_set(PASSAGES, QUERIES)
    assert len(passages) == PASSAGES
    assert len(queries) == QUERIES
    assert not set(passages) & set(queries)
    assert len(set(passages)) == PASSAGES


def test_top_k_breaks_ties_by_index() -> None:
    q = np.array([[1, 0]], dtype=np.int8)
    p = np.array([[0, 1], [1, 0], [1, 1], [1, 0]], dtype=np.int8)
    assert top_k(q, p, 3).tolist() == [[1, 2, 3]]
