"""Quality against the float model (sentence-transformers fp32) on text nobody tuned on.

2,000 standard-library docstrings as passages and 200 more as queries: cosine similarity of every
integer embedding with its fp32 counterpart (mean >= 0.99, min >= 0.97), and top-10 retrieval
overlap with fp32 (>= 0.9), the integer side scored with exact int8 dot products.
"""

import os

import numpy as np
import pytest
from filelock import FileLock

from aigora.engine import default_checkpoint
from aigora.engine.evaluation import cosine, retrieval_set, top_k, top_k_overlap

from .conftest import THREADS

PASSAGES, QUERIES, K = 2000, 200, 10


def _embed_both(request: pytest.FixtureRequest) -> tuple[int, np.ndarray, np.ndarray]:
    from aigora.engine._fp32 import Fp32Encoder

    passages, queries = retrieval_set(PASSAGES, QUERIES)
    fp32 = Fp32Encoder(default_checkpoint(), threads=THREADS)
    texts = passages + queries
    integer = request.getfixturevalue("torch_encoder").embed(texts, batch_size=32)
    return len(passages), integer, fp32.embed(texts)


@pytest.fixture(scope="module")
def embedded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Both models' embeddings of the 2,200 texts, computed once per test run.

    xdist may send this module's tests to different workers, and each would embed everything
    again (about a minute of two models). The first worker to get here embeds; the others wait
    and read its arrays from the run's own temporary directory, which no later run reuses.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return _embed_both(request)
    path = tmp_path_factory.getbasetemp().parent / "quality-embeddings.npz"
    with FileLock(f"{path}.lock"):
        if not path.is_file():
            n, integer, fp32 = _embed_both(request)
            np.savez(path, n=n, integer=integer, fp32=fp32)
        with np.load(path) as saved:
            return int(saved["n"]), saved["integer"], saved["fp32"]


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
