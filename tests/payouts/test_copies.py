"""Copies earn nothing, anywhere; long documents are read to the end.

The attack: another account republishes an author's text with other whitespace and case. The
copy never appears as a separate result, earns nothing from usage or training value, and the
original earns as before. And a 50-page document is searchable to its last page, each answer
pointing at the passage's place in it, under a receipt anyone re-executes."""

import json
import os

import pytest

from aigora.content.anchoring import anchor_all
from aigora.core.cid import cid_of
from aigora.core.keystore import Signer
from aigora.engine.evaluation import held_out_sentences
from aigora.payouts import earnings

from .test_epochs import QUESTIONS, Market

ARTICLE = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings. "
    "Its third row folds flat, and the boot then holds a week of camping gear.\n\n"
    "Owners report that the plug-in hybrid runs thirty miles on electricity alone."
)


def copied(text: str) -> str:
    """The copier's edit: doubled spaces, other line breaks, upper case, a trailing newline."""
    return text.replace(" ", "  ").replace("\n\n", " \n \n").upper() + "\n"


def test_a_republished_copy_never_appears_and_earns_nothing(tmp_path):
    market = Market(tmp_path / "node")
    try:
        original, copier = market.authors[0], Signer.dev(os.urandom(32))
        market.publish(ARTICLE, original)
        market.answers.refresh()
        market.publish(copied(ARTICLE), copier)
        state = market.answers.refresh()
        assert state.changed  # the copy is recorded, as a copy
        snapshot, _ = market.answers.current()
        copy_cid, original_cid = cid_of(copied(ARTICLE).encode()), cid_of(ARTICLE.encode())
        assert copy_cid in snapshot.documents
        assert copy_cid not in snapshot.cids
        assert all(snapshot.passages[c.of].cid == original_cid for c in snapshot.copies)

        questions = (*QUESTIONS, "How many people fit in a Volvo XC90?", "VOLVO XC90 CAMPING")
        documents = market.answer_and_anchor(questions)
        listed = [r.cid for d in documents for r in d.results]
        assert copy_cid not in listed
        assert original_cid in listed
        for document in documents:
            assert market.answers.verify(document).valid

        labels = {cid: i % 2 for i, cid in enumerate(sorted(snapshot.documents))}
        (tmp_path / "node" / "labels.json").write_text(json.dumps(labels))
        rows = [{"text": "a family car with seats", "label": labels[original_cid]}]
        rows += [{"text": "fruit", "label": 1 - labels[original_cid]}]
        (tmp_path / "node" / "valid.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
        config = market.context.config.payouts
        market.context.config = market.context.config.model_copy(
            update={
                "payouts": config.model_copy(
                    update={
                        "training_pool": "1000000",
                        "validation": "valid.jsonl",
                        "item_labels": "labels.json",
                        "k": 1,
                    }
                )
            }
        )
        summary = market.payouts.close_summary()
        assert summary.usage_total > 0
        assert summary.training_total > 0
        assert earnings(market.context.db, copier.address) == []
        theirs = earnings(market.context.db, original.address)
        assert {line[1] for line in theirs} >= {"usage"}
        assert sum(line[3] for line in theirs if line[2] == original_cid) > 0
    finally:
        market.context.close()


@pytest.mark.slow
def test_a_fifty_page_document_is_searchable_to_its_last_page(tmp_path):
    market = Market(tmp_path / "node")
    try:
        sentences = held_out_sentences(2000)
        paragraphs = [" ".join(sentences[i : i + 5]) for i in range(0, 2000, 5)]
        book = "\n\n".join(paragraphs)  # about 25,000 words: 50 pages of 500
        assert len(book.split()) > 24_000
        market.publish(book, market.authors[1])
        state = market.answers.refresh()
        snapshot, _ = market.answers.current()
        book_cid = cid_of(book.encode())
        passages = [p for p in snapshot.passages if p.cid == book_cid]
        assert len(passages) > 250
        assert state.item_count == len(snapshot)
        target = sentences[-12]  # on the last page
        at = book.index(target)
        document = market.answer_and_anchor((target,))[0]
        top = document.results[0]
        assert top.cid == book_cid
        assert top.start < at + len(target)  # the passage holding it, in place
        assert at < top.end
        answer = market.answers.answer(target, 3, by_operator=True)
        assert answer.results[0].excerpt == book[top.start : top.end]
        assert answer.results[0].link.startswith(f"/ui/content/{book_cid}?passage=")
        anchor_all(
            market.context.db,
            market.chain,
            market.context.deployment.registry,
            market.context.operator,
        )
        assert market.answers.verify(document).valid
    finally:
        market.context.close()
