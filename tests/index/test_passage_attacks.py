"""Attacks on "copies earn nothing", measured with the real engine and the snapshot's own
grouping rule (`group_copies`, in publication order: the original's passages, then the
copier's), found by the review of commit 23fbe36.

Measured (default model, threshold 15,500; a passage's dot product with itself is about
16,200): edits inside a passage stay copies, including one or two words added to every
sentence (15,571 to 16,116), a few synonyms (15,557) or a sentence appended (16,106); deleting
every 5th word escapes (15,108 to 15,389). What escapes wholesale is moving the cuts of a long
document: a few sentences prepended, or the sentences reordered, put other sentences together
in each window, and most of the copier's passages fall below the threshold (a 15-paragraph
text: with five sentences prepended, 12 of the copy's 17 passages are wholly the original's
text and stay items; reversed sentences, all 14 stay items; a filler sentence after every
third, 20 of 21 do). Those passages are items: they are listed in answers and take usage shares.
"""

import re

import numpy as np
import pytest

from aigora.core.cid import cid_of
from aigora.engine.evaluation import held_out_sentences
from aigora.index import DEFAULT_DUPLICATE_THRESHOLD, group_copies, passages_of

ARTICLE = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings. "
    "Its third row folds flat, and the boot then holds a week of camping gear. "
    "Owners report that the plug-in hybrid runs thirty miles on electricity alone."
)


@pytest.fixture(scope="module")
def book():
    sentences = held_out_sentences(60)
    return "\n\n".join(" ".join(sentences[i : i + 4]) for i in range(0, 60, 4))


def _grouped(encoder, rule, *texts):
    """The texts' passages grouped in publication order (the order given): which of each
    text's passages are items."""
    passages = [
        p
        for text in texts
        for p in passages_of(cid_of(text.encode()), text, encoder.token_count, rule)
    ]
    by_cid = {cid_of(t.encode()): t for t in texts}
    vectors = encoder.embed([by_cid[p.cid][p.start : p.end] for p in passages])
    items, copies = group_copies(
        list(zip(passages, vectors, strict=True)), DEFAULT_DUPLICATE_THRESHOLD
    )
    return {
        cid_of(t.encode()): (
            [p for p in items if p.cid == cid_of(t.encode())],
            [p for p in copies if p.cid == cid_of(t.encode())],
        )
        for t in texts
    }


def _per_sentence(text: str, words: str) -> str:
    return re.sub(r"([.!?])(\s|$)", lambda m: f" {words}{m.group(1)}{m.group(2)}", text)


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.upper().replace(" ", "  "),
        lambda t: _per_sentence(t, "really"),
        lambda t: _per_sentence(t, "really truly"),
        lambda t: "Indeed " + t + " This is my own review.",
        lambda t: t.replace("seats", "holds").replace("earned", "got").replace("report", "say"),
    ],
    ids=["case-and-space", "a-word-per-sentence", "two-words-per-sentence", "framed", "synonyms"],
)
def test_small_edits_inside_a_passage_are_still_copies(encoder, rule, edit):
    copy = edit(ARTICLE)
    groups = _grouped(encoder, rule, ARTICLE, copy)
    items, copies = groups[cid_of(copy.encode())]
    assert items == []
    assert len(copies) == 1
    assert len(groups[cid_of(ARTICLE.encode())][0]) == 1  # the original stays the item


def test_a_document_repeating_one_passage_is_one_item(encoder, rule):
    """An author cannot multiply usage or training value by repeating a passage in one long
    document: the star rule leaves one item, the rest copies of it."""
    sentence = " ".join(["the family car seats seven and folds its third row flat"] * 9)
    text = "\n\n".join(f"{sentence}." for _ in range(6))
    (items, copies) = _grouped(encoder, rule, text)[cid_of(text.encode())]
    assert len(items) == 1
    assert len(copies) == 5
    assert items[0].index == 0


@pytest.mark.xfail(
    strict=True,
    reason="near-copy dodge: a long document with a few sentences prepended has its passage "
    "cuts moved, and most of the copier's passages fall below the duplicate threshold, so "
    "they stay items, are listed and take usage shares (12 passages made wholly of the "
    "original's text stay items)",
)
def test_a_copy_with_its_cuts_moved_is_still_a_copy(encoder, rule, book):
    preface = " ".join(held_out_sentences(160)[150:155])
    copy = preface + " " + book
    items, _ = _grouped(encoder, rule, book, copy)[cid_of(copy.encode())]
    copied = [p for p in items if copy[p.start : p.end] in book]  # wholly the original's text
    assert copied == []


@pytest.mark.xfail(
    strict=True,
    reason="near-copy dodge: the same sentences in another order form other passages, below "
    "the duplicate threshold, so the copier's passages stay items (all 14 do)",
)
def test_a_copy_with_its_sentences_reordered_is_still_a_copy(encoder, rule, book):
    sentences = re.split(r"(?<=[.!?])\s+", book)
    copy = " ".join(reversed(sentences))
    items, _ = _grouped(encoder, rule, book, copy)[cid_of(copy.encode())]
    assert len(items) <= 1


def test_the_rule_measures_a_passage_against_itself_near_the_threshold(encoder):
    """The numbers the docstring quotes are what the engine gives (so they cannot rot)."""
    v = encoder.embed([ARTICLE, _per_sentence(ARTICLE, "really")]).astype(np.int64)
    assert int(v[0] @ v[0]) > 16_000
    assert DEFAULT_DUPLICATE_THRESHOLD <= int(v[0] @ v[1]) < int(v[0] @ v[0])
