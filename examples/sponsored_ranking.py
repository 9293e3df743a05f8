"""The sponsored ranking, caught: an operator quietly tilts answers toward a sponsor, and any
verifier re-executing the receipt says INVALID, naming where the ranking went wrong.

    python examples/sponsored_ranking.py            # runs on a fresh embedded chain, ~20 s

A closed AI service can sell "which car should I buy?" to the highest bidder and nobody can prove
it. Here the operator signs every answer, the model and the corpus snapshot are committed
on-chain, and the integer engine gives every machine the same scores, so each tilt below is
caught: a hidden score bonus, a promotion without changing scores, a dropped competitor, a
swapped order, a quietly edited model, the sponsor's name quietly added to the question's tokens,
and answering from a stale snapshot that predates the competitor. The honest operator verifies
every time.
"""

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aigora.app import Answers, NodeContext, open_node
from aigora.content import service
from aigora.content.signed import content_message, sign
from aigora.core.cid import cid_of
from aigora.core.keystore import Keystore, Signer
from aigora.engine import Encoder, IntModel, Trace
from aigora.index import ExactIndex, Snapshot
from aigora.store.db import session_scope
from aigora.verify import Ranking, ReceiptDocument, Result, Verdict, token_ids

QUESTION = "Which car should I buy for my family?"
SPONSOR = "SponsorCar Model S: buy it now, the best car ever made, limited offer!"
CORPUS = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings.",
    "The Toyota Sienna minivan is the most reliable family car of the decade.",
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    SPONSOR,
    "Bananas are rich in potassium and easy to carry.",
    "A family of five needs a car with three rows of seats and a large trunk.",
    "Electric cars cost less to run but need a charger at home.",
)
SPONSOR_NAME = "SponsorCar"
LATE_COMPETITOR = "The Kia Telluride is the best family car you can buy: roomy, safe and cheap."
K = 3
PASSPHRASE = "sponsored ranking example"

Tilt = Callable[["TiltedAnswers", Snapshot, ExactIndex, str, int], Ranking]


class TiltedAnswers(Answers):
    """An operator whose node applies a tilt to every ranking before signing it."""

    tilt: Tilt | None = None
    sponsor_cid: str = ""
    _edited: Encoder | None = None

    def rank(self, snapshot: Snapshot, index: ExactIndex, query: str, k: int) -> Ranking:
        honest = super().rank(snapshot, index, query, k)
        return honest if self.tilt is None else self.tilt(self, snapshot, index, query, k)

    def edited_encoder(self) -> Encoder:
        """The registered model with one weight row quietly changed (layer 3's FFN output
        channel 7): the kind of edit a fine-tune toward a sponsor makes, invisible in the
        receipt, which still names the registered model."""
        if self._edited is None:
            tensors = dict(self.model.tensors)
            tensors.pop("header.json")
            weight = tensors["layers.3.ffn_out.weight"].copy()
            weight[7] = np.clip(weight[7].astype(np.int16) + 40, -127, 127).astype(np.int8)
            tensors["layers.3.ffn_out.weight"] = weight
            self._edited = Encoder(IntModel(tensors, self.model.header), backend="numpy")
        return self._edited

    def trace_for(self, document: ReceiptDocument) -> tuple[IntModel, Trace]:
        """The trace this operator committed to: the edited model's, or the one of the question
        with the sponsor's name, when it used that."""
        if self.tilt is edited_model:
            return self.model, self.edited_encoder().embed_with_trace(document.query)[1]
        if self.tilt is sponsor_tokens:
            return self.model, self.encoder().embed_with_trace(with_sponsor(document.query))[1]
        return super().trace_for(document)


def hidden_bonus(answers: TiltedAnswers, snapshot, index, query, k) -> Ranking:
    """Add a secret bonus to the sponsor's score and rank by the boosted scores."""
    honest = Answers.rank(answers, snapshot, index, query, k)
    embedding = answers.encoder().embed([query])[0]
    scores = index.scores(embedding).astype(np.int64)
    for position, passage in enumerate(snapshot.passages):
        if passage.cid == answers.sponsor_cid:
            scores[position] += 5000
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    results = tuple(Result.of(snapshot.passages[i], int(scores[i])) for i in order)
    return Ranking(honest.trace_root, results, honest.tokens)


def promote(answers: TiltedAnswers, snapshot, index, query, k) -> Ranking:
    """Put the sponsor first with its true score, pushing the rest down."""
    honest = Answers.rank(answers, snapshot, index, query, len(snapshot))
    sponsor = next(r for r in honest.results if r.cid == answers.sponsor_cid)
    rest = [r for r in honest.results if r.cid != answers.sponsor_cid]
    return Ranking(honest.trace_root, tuple([sponsor, *rest][:k]), honest.tokens)


def drop_competitor(answers: TiltedAnswers, snapshot, index, query, k) -> Ranking:
    """Leave out the best passage that is not the sponsor's."""
    honest = Answers.rank(answers, snapshot, index, query, k + 1)
    top = next(r for r in honest.results if r.cid != answers.sponsor_cid)
    return Ranking(
        honest.trace_root, tuple(r for r in honest.results if r != top)[:k], honest.tokens
    )


def edited_model(answers: TiltedAnswers, snapshot, index, query, k) -> Ranking:
    """Embed the query with the secretly edited model and rank honestly by that embedding; the
    receipt's trace root commits to the edited run, and only re-running the model shows it."""
    embedding, trace = answers.edited_encoder().embed_with_trace(query)
    scores = index.scores(embedding).astype(np.int64)
    order = np.lexsort((np.arange(len(scores)), -scores))[:k]
    results = tuple(Result.of(snapshot.passages[i], int(scores[i])) for i in order)
    return Ranking(trace.root, results, token_ids(trace))


def with_sponsor(query: str) -> str:
    return f"{query} {SPONSOR_NAME}"


def sponsor_tokens(answers: TiltedAnswers, snapshot, index, query, k) -> Ranking:
    """Embed the question with the sponsor's name appended and rank honestly by that embedding;
    the receipt names the question as asked. Scores, order and the trace are all consistent with
    the tokens the operator chose, so only tokenizing the question shows it: the receipt carries
    its token ids, proven against its trace root, and they are not the question's."""
    return Answers.rank(answers, snapshot, index, with_sponsor(query), k)


def swap_order(answers: TiltedAnswers, snapshot, index, query, k) -> Ranking:
    """Swap the first two results, scores and all."""
    honest = Answers.rank(answers, snapshot, index, query, k)
    first, second, *rest = honest.results
    return Ranking(honest.trace_root, (second, first, *rest), honest.tokens)


@dataclass(frozen=True)
class Outcome:
    operator: str
    verdict: Verdict
    document: ReceiptDocument


def publish(context: NodeContext, author: Signer, text: str) -> str:
    body, now = text.encode(), int(time.time())
    message = content_message(author.address, body, "text/plain", "CC-BY-4.0", now)
    signed = sign("content", author, context.domain, message)
    with session_scope(context.db) as session:
        service.publish(session, context.blobs, context.domain, signed, body, now)
    return cid_of(body)


def run(directory: Path) -> list[Outcome]:
    """Run every operator once on a fresh node in `directory`; each answer is then verified by
    an independent verifier (a second `Answers` with its own nonce memory) on the same chain."""
    directory.mkdir(parents=True, exist_ok=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    context = open_node(directory, PASSPHRASE)
    try:
        author = Signer.dev(os.urandom(32))
        for text in CORPUS:
            publish(context, author, text)
        operator = TiltedAnswers(context)
        operator.sponsor_cid = cid_of(SPONSOR.encode())
        operator.refresh()
        verifier = Answers(context)
        outcomes = []
        for name, tilt in (
            ("honest", None),
            ("hidden score bonus", hidden_bonus),
            ("sponsor promoted", promote),
            ("competitor dropped", drop_competitor),
            ("order swapped", swap_order),
            ("model edited", edited_model),
            ("sponsor tokens", sponsor_tokens),
        ):
            operator.tilt = tilt
            document = operator.ask(QUESTION, K)
            outcomes.append(Outcome(name, verifier.verify(document), document))
        outcomes.append(_stale_snapshot(context, operator, verifier, author))
        return outcomes
    finally:
        context.close()


def _stale_snapshot(
    context: NodeContext, operator: TiltedAnswers, verifier: Answers, author: Signer
) -> Outcome:
    """A competitor publishes; the operator registers the new snapshot (it must, to stay
    current), but keeps answering from the old one that lacks the competitor."""
    old = operator.current()
    operator.tilt = None
    publish(context, author, LATE_COMPETITOR)
    operator.refresh()
    context.chain.advance_time(3600)  # an hour passes on the chain
    operator._current = old  # the quiet part: answer from the snapshot before the competitor
    document = operator.ask(QUESTION, K)
    operator._current = None
    return Outcome("stale snapshot", verifier.verify(document), document)


def main() -> int:
    from rich.console import Console
    from rich.table import Table

    with tempfile.TemporaryDirectory() as tmp:
        outcomes = run(Path(tmp) / "node")
    labels = {
        cid_of(t.encode()): f"«{' '.join(t.split()[:3])}…»" for t in (*CORPUS, LATE_COMPETITOR)
    }

    def short(text: str) -> str:
        for cid, label in labels.items():
            text = text.replace(cid, label)
        return text

    table = Table(title=f"{QUESTION!r}: who gets caught")
    for column in ("operator", "top result", "verdict", "why"):
        table.add_column(column, overflow="fold")
    for outcome in outcomes:
        top = outcome.document.results[0]
        colour = "green" if outcome.verdict.valid else "red"
        table.add_row(
            outcome.operator,
            f"{short(top.cid)} ({top.score})",
            f"[{colour}]{outcome.verdict.word}[/{colour}]",
            ""
            if outcome.verdict.valid
            else short(f"{outcome.verdict.check}: {outcome.verdict.reason}"),
        )
    Console().print(table)
    honest_ok = outcomes[0].verdict.valid
    cheats_caught = all(not o.verdict.valid for o in outcomes[1:])
    return 0 if honest_ok and cheats_caught else 1


if __name__ == "__main__":
    sys.exit(main())
