"""The passage rule: every passage fits the model whole, the passages cover the document, the
rule is blind to whitespace and case, and each media type gives the text a reader sees."""

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.cid import cid_of
from aigora.engine.evaluation import held_out_sentences
from aigora.index import (
    PassageError,
    PassageRef,
    PassageRule,
    document_text,
    group_copies,
    passages_of,
    split_passages,
)


def long_document(pages: int, seed: int = 0) -> str:
    """About `pages` pages (500 words each) of paragraphs of standard-library docstrings."""
    sentences = held_out_sentences(40 * pages)
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n\n".join(paragraphs)


def test_the_model_records_the_rule(encoder):
    assert (encoder.passage_tokens, encoder.passage_overlap) == (128, 24)
    assert encoder.model.header["passage_tokens"] == 128


def test_every_passage_is_read_whole_and_together_they_cover_the_document(encoder, rule):
    text = long_document(10)
    spans = split_passages(text, encoder.token_count, rule)
    assert len(spans) > 20
    counts = [encoder.token_count(text[s.start : s.end]) for s in spans]
    assert max(counts) <= rule.budget  # nothing past [CLS] + 126 + [SEP] is ever cut off
    assert np.mean(counts[:-1]) > 0.8 * rule.budget  # greedy windows are nearly full
    covered = np.zeros(len(text), dtype=bool)
    for span in spans:
        covered[span.start : span.end] = True
    words = [m.start() for m in re.finditer(r"\S", text)]
    assert covered[words].all()  # every character but whitespace is in some passage
    starts = [s.start for s in spans]
    assert starts == sorted(set(starts))


def test_consecutive_passages_share_whole_sentences_up_to_the_overlap(encoder, rule):
    text = long_document(4)
    spans = split_passages(text, encoder.token_count, rule)
    shared = 0
    for a, b in itertools.pairwise(spans):
        assert a.start < b.start <= a.end or b.start >= a.end
        if b.start < a.end:
            overlap = encoder.token_count(text[b.start : a.end])
            assert overlap <= rule.overlap
            shared += 1
    assert shared > len(spans) // 2  # docstring sentences are short: most windows overlap


def test_a_sentence_longer_than_a_passage_is_cut_at_words(encoder, rule):
    text = " ".join(f"word{i}" for i in range(2000))  # one "sentence" of several thousand tokens
    spans = split_passages(text, encoder.token_count, rule)
    assert len(spans) > 10
    assert all(encoder.token_count(text[s.start : s.end]) <= rule.budget for s in spans)
    assert all(text[s.start] != " " and text[s.end - 1] != " " for s in spans)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    spaces=st.sampled_from([" ", "  ", "\t", " \n", "\u00a0"]),
    upper=st.booleans(),
)
def test_whitespace_and_case_never_move_a_cut(encoder, rule, seed, spaces, upper):
    """The copier's edit: other spacing, other case. Passage i of the copy has the same token ids
    as passage i of the original, so its embedding is the original's, byte for byte."""
    sentences = held_out_sentences(60)
    rng = np.random.default_rng(seed)
    picked = [sentences[int(i)] for i in rng.choice(len(sentences), 24, replace=False)]
    original = "\n\n".join(" ".join(picked[i : i + 3]) for i in range(0, 24, 3))
    copy = re.sub(r" ", spaces, original) + "\n"
    copy = copy.upper() if upper else copy
    a = split_passages(original, encoder.token_count, rule)
    b = split_passages(copy, encoder.token_count, rule)
    assert len(a) == len(b)
    ids_a = encoder.tokenize([original[s.start : s.end] for s in a])
    ids_b = encoder.tokenize([copy[s.start : s.end] for s in b])
    assert all(np.array_equal(x, y) for x, y in zip(ids_a, ids_b, strict=True))


def test_cjk_text_is_cut_after_full_stops(encoder, rule):
    text = "这是一个句子。" * 200  # no whitespace at all
    spans = split_passages(text, encoder.token_count, rule)
    assert len(spans) > 5
    assert all(encoder.token_count(text[s.start : s.end]) <= rule.budget for s in spans)


def test_media_types_give_the_text_a_reader_sees():
    html = (
        b"<html><head><title>T</title><style>p{}</style></head><body><h1>Heading</h1>"
        b"<p>One &amp; two<br>three</p><script>alert(1)</script><ul><li>a</li><li>b</li>"
        b"</ul></body></html>"
    )
    assert (
        document_text(html, "text/html; charset=utf-8") == "Heading\n\nOne & two\n\nthree\n\na\n\nb"
    )
    markdown = b"# Title\n\nSome *text*.\n"
    assert document_text(markdown, "text/markdown") == "# Title\n\nSome *text*.\n"
    assert document_text(b"\xef\xbb\xbfplain", "text/plain") == "plain"
    assert document_text(b'{"a": 1}', "application/json") == '{"a": 1}'
    assert document_text(b"\x89PNG", "image/png") is None
    assert document_text(b"\xff\xfe", "text/plain") is None
    assert document_text(b"   \n", "text/plain") is None


def test_passages_name_their_document_and_place(encoder, rule):
    cid = cid_of(b"doc")
    text = long_document(2)
    passages = passages_of(cid, text, encoder.token_count, rule)
    assert [p.index for p in passages] == list(range(len(passages)))
    assert all(p.cid == cid and p.id == f"{cid}#{p.index}" for p in passages)
    assert len({p.key for p in passages}) == len(passages)
    with pytest.raises(PassageError):
        PassageRef(cid, 0, 5, 4)
    with pytest.raises(PassageError):
        PassageRule(128, 126)


def test_copies_are_grouped_with_the_earliest_and_left_out():
    rng = np.random.default_rng(1)
    v = rng.integers(-127, 128, size=(4, 384), dtype=np.int8)
    near = v[0].copy()
    near[:3] = 0  # a near-copy: the dot product with the original stays above the threshold
    assert int(near.astype(np.int64) @ v[0].astype(np.int64)) >= 0.9 * int(
        v[0].astype(np.int64) @ v[0].astype(np.int64)
    )
    threshold = int(0.9 * int(v[0].astype(np.int64) @ v[0].astype(np.int64)))
    a, b, c, d, e = (PassageRef.whole(cid_of(bytes([i]))) for i in range(5))
    items, copies = group_copies([(a, v[0]), (b, v[1]), (c, v[0]), (d, near), (e, v[2])], threshold)
    assert set(items) == {a, b, e}
    assert {k: o for k, (o, _) in copies.items()} == {c: a, d: a}


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 40), cut=st.integers(0, 40))
def test_grouping_in_two_steps_is_grouping_at_once(seed, n, cut):
    """A node groups only what is new against what it grouped before: the groups are those of
    grouping everything at once (nothing later changes an earlier passage's group)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(-127, 128, size=(6, 384), dtype=np.int8)
    vectors = base[rng.integers(0, 6, size=n)].copy()
    noise = rng.integers(-3, 4, size=vectors.shape)
    vectors = np.clip(vectors.astype(np.int64) + noise * rng.integers(0, 2, size=(n, 1)), -127, 127)
    vectors = vectors.astype(np.int8)
    passages = [(PassageRef.whole(cid_of(b"%d" % i)), vectors[i]) for i in range(n)]
    threshold = int(0.95 * int((base[0].astype(np.int64) ** 2).sum()))
    at_once = group_copies(passages, threshold)
    cut = min(cut, n)
    _, first_copies = group_copies(passages[:cut], threshold)
    stepwise = group_copies(passages, threshold, settled=cut, known_copies=first_copies)
    assert set(stepwise[0]) == set(at_once[0])
    assert {c: o for c, (o, _) in stepwise[1].items()} == {c: o for c, (o, _) in at_once[1].items()}
