"""Tokenization is part of the model: our WordPiece reading of the model's tokenizer.json gives
pinned ids on a hard set (accents, CJK, emoji, control characters, very long words, special tokens
written in the text), and the same ids as the `tokenizers` package on real and random text."""

import random

import numpy as np
import pytest
from tokenizers import Tokenizer

from aigora.engine import IntModel
from aigora.engine._wordpiece import WordPieceTokenizer, clean_text, pre_tokenize
from aigora.engine.evaluation import stdlib_docstrings

PINNED = {
    "Café crème brûlée": [101, 7668, 13675, 21382, 7987, 9307, 2063, 102],
    "中文 日本語": [101, 1746, 1861, 1864, 1876, 1950, 102],
    "emoji 🚗 ✨": [101, 7861, 29147, 2072, 100, 100, 102],
    "tab\there\x0bvt\x1c\x85nel": [101, 21628, 2182, 2615, 2102, 11877, 102],
    "control\x00\x01\x7f\ufffdchars": [101, 2491, 7507, 2869, 102],
    "a" * 150: [101, 100, 102],
    "[CLS] [MASK] hello [SEP]": [101, 101, 103, 7592, 102, 102],
    "İstanbul ΣΑΣ": [101, 9960, 1173, 14608, 29733, 102],
    "\u0378unassigned": [101, 100, 102],
    "$100+200=<300>": [101, 1002, 2531, 1009, 3263, 1027, 1026, 3998, 1028, 102],
}


@pytest.fixture(scope="module")
def ours(model: IntModel) -> WordPieceTokenizer:
    return WordPieceTokenizer(model.tokenizer_json, int(model.header["max_tokens"]))


def test_the_hard_set_has_pinned_ids(ours: WordPieceTokenizer):
    for text, ids in PINNED.items():
        assert ours.encode([text])[0].tolist() == ids, text


def test_the_same_ids_as_the_tokenizers_package(model: IntModel, ours: WordPieceTokenizer):
    reference = Tokenizer.from_str(model.tokenizer_json.decode("utf-8"))
    reference.no_padding()
    reference.enable_truncation(max_length=int(model.header["max_tokens"]))
    rng = random.Random(19)
    alphabet = [
        chr(c)
        for c in [
            *range(0x20, 0x250),
            *range(0x370, 0x400),
            *range(0x2000, 0x2070),
            *range(0x3000, 0x3100),
            *range(0x4E00, 0x4E40),
            *range(0x1F600, 0x1F650),
            0x0,
            0x1,
            0x7F,
            0xAD,
            0x200B,
            0x200D,
            0xFEFF,
            0xFFFD,
            0x85,
            0x1C,
        ]
    ]
    random_texts = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(1500)
    ]
    texts = [*PINNED, *stdlib_docstrings()[:1500], *random_texts]
    expected = [e.ids for e in reference.encode_batch(texts, add_special_tokens=True)]
    got = [row.tolist() for row in ours.encode(texts)]
    differing = [t for t, a, b in zip(texts, expected, got, strict=True) if a != b]
    assert differing == []


def test_long_text_keeps_cls_and_sep(ours: WordPieceTokenizer):
    ids = ours.encode(["word " * 1000])[0]
    assert len(ids) == ours.max_tokens
    assert (ids[0], ids[-1]) == (ours.cls, ours.sep)
    assert ids.dtype == np.int64


def test_the_rules_one_by_one():
    assert clean_text("a\x0bb\x1cc\u2003d\x85e") == "abc d" + "e"
    assert pre_tokenize("don't stop!") == ["don", "'", "t", "stop", "!"]
    assert pre_tokenize("  ") == []
