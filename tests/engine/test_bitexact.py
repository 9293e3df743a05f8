"""Bit-exactness: the same bytes from every backend, thread count, batch size, padding, order.

The golden file (data/golden.json, written once by make_golden.py with the numpy reference)
fixes the expected SHA-256 of the embeddings of data/sentences.json, so a machine that computes
anything different fails here.
"""

import numpy as np
import pytest
import torch

from aigora.engine import Encoder, IntModel

from .conftest import THREADS, sha256


def test_model_root_matches_golden(model: IntModel, golden: dict) -> None:
    assert model.root_hex == golden["model_root"], (
        "the converted default model differs from the one the golden hashes were made with"
    )


def test_numpy_reference_matches_golden(numpy_encoder: Encoder, sentences, golden) -> None:
    embeddings = numpy_encoder.embed(sentences, batch_size=7)
    assert embeddings.dtype == np.int8
    assert embeddings.shape == (len(sentences), 384)
    assert [sha256(row) for row in embeddings] == golden["per_sentence_sha256"]
    assert sha256(embeddings) == golden["embeddings_sha256"]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_torch_matches_golden(
    torch_encoder: Encoder, sentences, golden, threads: int, batch_size: int
) -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        embeddings = torch_encoder.embed(sentences, batch_size=batch_size)
    finally:
        torch.set_num_threads(before)
    assert sha256(embeddings) == golden["embeddings_sha256"]


def test_torch_eager_matches_golden(model: IntModel, sentences, golden) -> None:
    eager = Encoder(model, backend="torch", threads=THREADS, compile=False)
    assert sha256(eager.embed(sentences, batch_size=16)) == golden["embeddings_sha256"]


def test_order_does_not_matter(torch_encoder: Encoder, sentences, golden) -> None:
    rng = np.random.default_rng(7)
    perm = rng.permutation(len(sentences))
    shuffled = torch_encoder.embed([sentences[i] for i in perm], batch_size=5)
    restored = np.empty_like(shuffled)
    restored[perm] = shuffled
    assert sha256(restored) == golden["embeddings_sha256"]


def test_padding_does_not_matter(torch_encoder: Encoder, numpy_encoder: Encoder, sentences) -> None:
    """A short sentence alone (no padding) and beside a 256-token one (heavy padding)."""
    short, long = sentences[4], sentences[22]
    alone = torch_encoder.embed([short], batch_size=1)[0]
    padded = torch_encoder.embed([long, short], batch_size=2)[1]
    assert np.array_equal(alone, padded)
    ids = numpy_encoder.tokenize([short])[0]
    extra = np.zeros((1, len(ids) + 50), dtype=np.int64)
    extra[0, : len(ids)] = ids
    extra[0, len(ids) :] = 1000  # garbage past the length must not matter either
    assert np.array_equal(numpy_encoder._forward(extra, np.array([len(ids)])), alone[None])


def test_backends_agree_on_fresh_sentences(torch_encoder: Encoder, numpy_encoder: Encoder) -> None:
    from aigora.engine.evaluation import held_out_sentences

    fresh = held_out_sentences(40)
    assert np.array_equal(
        torch_encoder.embed(fresh, batch_size=16), numpy_encoder.embed(fresh, batch_size=16)
    )


def test_trace_root_matches_golden(
    torch_encoder: Encoder, numpy_encoder: Encoder, sentences, golden
) -> None:
    sentence = sentences[golden["traced_sentence"]]
    roots = {
        "0x" + enc.embed_with_trace(sentence)[1].root.hex()
        for enc in (torch_encoder, numpy_encoder)
    }
    assert roots == {golden["trace_root"]}


def test_embedding_has_norm_about_127(torch_encoder: Encoder, sentences) -> None:
    embeddings = torch_encoder.embed(sentences).astype(np.int64)
    norms = np.sqrt((embeddings**2).sum(axis=1))
    assert np.all(np.abs(norms - 127) < 4)
