"""Each tilt of the sponsored-ranking example maps to the one-step claim that proves it, built
from public data; valid receipts and off-chain-only faults yield no claim."""

from dataclasses import replace

import numpy as np
import pytest

from aigora.core.cid import cid_of, digest_of
from aigora.core.merkle import verify_proof
from aigora.index import SNAPSHOT_LEAF, embedding_hash
from aigora.verify import RESULT_LEAF, Verdict
from aigora.verify._challenge import NoClaim, plan_claim

QUESTION = "Which car should I buy for my family?"
SPONSOR = "SponsorCar Model S: buy it now, the best car ever made, limited offer!"


@pytest.fixture(scope="module")
def tilted(world, sponsored):
    answers = sponsored.TiltedAnswers(world.context)
    answers.sponsor_cid = cid_of(SPONSOR.encode())
    return answers


def _claim_for(world, tilted, tilt):
    tilted.tilt = tilt
    document = tilted.ask(QUESTION, 3)
    verdict = world.answers.verify(document)
    snapshot, _ = world.answers.current()
    _, trace = world.answers.encoder().embed_with_trace(QUESTION)
    return document, plan_claim(document, verdict, snapshot, trace)


def test_a_hidden_bonus_is_a_score_claim_with_valid_proofs(world, tilted, sponsored):
    document, claim = _claim_for(world, tilted, sponsored.hidden_bonus)
    assert claim.kind == "score"
    entry, passage = claim.entry, claim.passage
    assert entry.cid == passage.cid
    root = bytes.fromhex(document.receipt["resultHash"][2:])
    assert verify_proof(root, RESULT_LEAF, (entry.rank, entry.cid, entry.score), entry.proof)
    snapshot_root = bytes.fromhex(document.receipt["snapshotRoot"][2:])
    leaf = (
        passage.position,
        passage.cid,
        embedding_hash(np.frombuffer(passage.embedding, np.int8)),
    )
    assert verify_proof(snapshot_root, SNAPSHOT_LEAF, leaf, passage.proof)
    true = int(
        np.frombuffer(passage.embedding, np.int8).astype(np.int64)
        @ np.frombuffer(claim.query.embedding, np.int8).astype(np.int64)
    )
    assert true != entry.score


@pytest.mark.parametrize("tilt", ["promote", "swap_order"])
def test_reordering_is_an_order_claim(world, tilted, tilt, sponsored):
    _, claim = _claim_for(world, tilted, getattr(sponsored, tilt))
    assert claim.kind == "order"
    assert claim.lower.rank == claim.entry.rank + 1
    assert claim.entry.score < claim.lower.score


def test_a_dropped_competitor_is_an_omission_claim(world, tilted, sponsored):
    document, claim = _claim_for(world, tilted, sponsored.drop_competitor)
    assert claim.kind == "omission"
    assert claim.entry.rank == len(document.results) - 1
    assert claim.passage.cid not in {digest_of(r.cid) for r in document.results}


def test_valid_and_unbinding_receipts_yield_no_claim(world, tilted):
    tilted.tilt = None
    document = tilted.ask(QUESTION, 3)
    valid = world.answers.verify(document)
    with pytest.raises(NoClaim, match="VALID"):
        plan_claim(document, valid, None, None)
    forged = Verdict(False, "signature", "signed by someone else", "0x" + "00" * 32)
    with pytest.raises(NoClaim, match="binds nobody"):
        plan_claim(document, forged, None, None)


def test_another_trace_calls_for_an_embedding_claim(world, tilted):
    tilted.tilt = None
    document = tilted.ask(QUESTION, 3)
    snapshot, _ = world.answers.current()
    _, other_trace = world.answers.encoder().embed_with_trace("a different question")
    ranking = Verdict(False, "ranking", "x", "0x" + "00" * 32, {"rank": 0})
    claim = plan_claim(replace(document), ranking, snapshot, other_trace)
    assert claim.kind == "embedding"
    assert claim.trace is other_trace
    assert "trace differs" in claim.reason
