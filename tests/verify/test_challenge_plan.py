"""Each tilt of the sponsored-ranking example maps to the one-step claim that proves it, built
from public data; valid receipts and off-chain-only faults yield no claim."""

from dataclasses import replace

import numpy as np
import pytest

from aigora.core.cid import cid_of
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
    assert entry.key == passage.key
    root = bytes.fromhex(document.receipt["resultHash"][2:])
    assert verify_proof(root, RESULT_LEAF, (entry.rank, entry.key, entry.score), entry.proof)
    snapshot_root = bytes.fromhex(document.receipt["snapshotRoot"][2:])
    leaf = (
        passage.position,
        passage.key,
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
    assert claim.passage.key not in {r.key for r in document.results}


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
    """The honest trace of the same tokens differs (here: the challenger runs an edited model):
    the receipt proves its token ids are the honest trace's, so the game can be won."""
    tilted.tilt = None
    document = tilted.ask(QUESTION, 3)
    snapshot, _ = world.answers.current()
    _, other_trace = tilted.edited_encoder().embed_with_trace(QUESTION)
    ranking = Verdict(False, "ranking", "x", "0x" + "00" * 32, {"rank": 0})
    claim = plan_claim(replace(document), ranking, snapshot, other_trace)
    assert claim.kind == "embedding"
    assert claim.trace is other_trace
    assert "trace differs" in claim.reason


def test_other_token_ids_are_never_an_embedding_claim(world, tilted, sponsored):
    """The operator embedded the question plus the sponsor's name: its trace root differs, but
    the game would stop at op 0, which the contract cannot judge, so no claim is planned, with
    the reason (the first differing token position) in one line."""
    document, verdict = _tilted_answer(world, tilted, sponsored.sponsor_tokens)
    assert verdict.check == "tokens"
    snapshot, _ = world.answers.current()
    _, trace = world.answers.encoder().embed_with_trace(QUESTION)
    with pytest.raises(NoClaim) as refused:
        plan_claim(document, verdict, snapshot, trace)
    reason = str(refused.value)
    assert "\n" not in reason
    assert "contract cannot check tokenization" in reason
    assert f"token position {verdict.difference['position']}" in reason
    assert "'sponsor'" in reason


def test_other_token_ids_with_an_out_of_order_list_are_an_order_claim(world, tilted, sponsored):
    """The order claim needs nothing but the receipt's own scores: it still holds when the
    operator's tokens are not the query's, so such a cheater still pays for a bad order."""

    def both(answers, snapshot, index, query, k):
        ranked = sponsored.sponsor_tokens(answers, snapshot, index, query, k)
        first, second, *rest = ranked.results
        return replace(ranked, results=(second, first, *rest))

    document, verdict = _tilted_answer(world, tilted, both)
    assert verdict.check == "tokens"
    snapshot, _ = world.answers.current()
    _, trace = world.answers.encoder().embed_with_trace(QUESTION)
    claim = plan_claim(document, verdict, snapshot, trace)
    assert claim.kind == "order"
    assert (claim.entry.rank, claim.lower.rank) == (0, 1)


def test_damaged_token_ids_do_not_shield_a_wrong_ranking(world, tilted, sponsored):
    """A cheater cannot escape a score claim by breaking or dropping the token ids it carries:
    its trace root is the honest one, so the tokens op is the honest one, and the claim holds."""
    tilted.tilt = sponsored.hidden_bonus
    bent = tilted.ask(QUESTION, 3)
    snapshot, _ = world.answers.current()
    _, trace = world.answers.encoder().embed_with_trace(QUESTION)
    wrong_ids = replace(bent.tokens, ids=(*bent.tokens.ids[:-1], 4242))
    for document in (replace(bent, tokens=None), replace(bent, tokens=wrong_ids)):
        verdict = world.answers.verify(document)
        assert verdict.check == "tokens"
        assert plan_claim(document, verdict, snapshot, trace).kind == "score"


def test_unproven_token_ids_with_another_trace_are_no_claim(world, tilted, sponsored):
    """Without a valid proof of the operator's tokens op, a game might stop at op 0: refused."""
    tilted.tilt = sponsored.edited_model
    edited = tilted.ask(QUESTION, 3)
    snapshot, _ = world.answers.current()
    _, trace = world.answers.encoder().embed_with_trace(QUESTION)
    document = replace(edited, tokens=None)
    verdict = world.answers.verify(document)
    assert verdict.check == "tokens"
    with pytest.raises(NoClaim, match="does not carry the token ids"):
        plan_claim(document, verdict, snapshot, trace)
    assert plan_claim(edited, world.answers.verify(edited), snapshot, trace).kind == "embedding"


def _tilted_answer(world, tilted, tilt):
    tilted.tilt = tilt
    document = tilted.ask(QUESTION, 3)
    return document, world.answers.verify(document)
