"""Token ids that differ from the query's, end to end on the embedded chain. An operator embeds
the question plus a sponsor's name and ranks honestly from that embedding: every verifier says
INVALID (check `tokens`, first differing position named), but the contract cannot tokenize, so
no claim can win on-chain. The challenger's tooling therefore files none and the challenger
never loses a bond; filing the embedding claim anyway (what the tooling did before) would stop
the game at op 0 and cost the challenger its bond. With matching tokens the embedding claim is
filed as before (`test_embedding_game.py`)."""

from dataclasses import replace

import pytest

from aigora.app import Answers, Disputes, challenger_move, dispute_state, file_claim
from aigora.verify import GameError, Honest, NoClaim
from aigora.verify._challenge import Claim

from .test_disputes_e2e import QUESTION, Arena


@pytest.fixture
def arena(open_world_at, tmp_path, sponsored):
    return Arena(open_world_at(tmp_path / "node", sponsored.CORPUS), sponsored)


def sponsor_tokens_receipt(arena):
    arena.tilted.tilt = arena.example.sponsor_tokens
    return arena.anchored(arena.tilted.ask(QUESTION, 3))


def challenger_node(arena) -> Disputes:
    """The disputes service of a node whose account is the arena's funded challenger."""
    context = replace(arena.world.context, signer=arena.challenger)
    return Disputes(Answers(context))


def test_sponsor_tokens_are_caught_and_no_claim_is_filed(arena):
    document = sponsor_tokens_receipt(arena)
    verdict = arena.world.answers.verify(document)
    assert (verdict.valid, verdict.check) == (False, "tokens")
    assert verdict.difference["claimed"]["token"] == "sponsor"
    position = verdict.difference["position"]

    node = challenger_node(arena)
    for dry_run in (True, False):
        with pytest.raises(NoClaim) as refused:
            node.challenge(document, dry_run=dry_run)
        reason = str(refused.value)
        assert "\n" not in reason
        assert f"token position {position}" in reason
        assert "the contract cannot check tokenization" in reason
    assert node.all() == []  # no dispute was ever opened
    assert arena.balances() == arena.start  # the challenger's bond never left its account
    assert not arena.slashed()


def test_an_embedding_claim_filed_anyway_would_lose_the_bond_at_op_0(arena):
    """Why the refusal matters: the operator reveals its op leaves, the first that differs is
    the tokens op, which `pick_op` refuses, and the challenger loses at the pick deadline."""
    document = sponsor_tokens_receipt(arena)
    _, honest = arena.world.answers.encoder().embed_with_trace(QUESTION)
    claim = Claim("embedding", "filed without looking at the tokens", trace=honest)
    bond = arena.chain.call(arena.disputes.functions.challenger_bond())
    before = arena.balances()["challenger"]
    state = file_claim(arena.chain, arena.disputes, arena.token, arena.challenger, document, claim)
    (revealed,) = arena.tilted.play_games()  # the operator plays from the trace it committed to
    assert revealed.move == "ops"
    with pytest.raises(GameError, match="tokenized the query differently"):
        challenger_move(
            arena.chain,
            arena.disputes,
            arena.challenger,
            state.dispute_id,
            Honest(honest),
            arena.world.answers.model,
        )
    arena.chain.advance_time(arena.chain.call(arena.disputes.functions.response_window()) + 1)
    arena.tilted.play_games()  # the operator's node closes the game the challenger cannot move in
    assert dispute_state(arena.chain, arena.disputes, state.dispute_id).status == (
        "challenger lost"
    )
    assert arena.balances()["challenger"] == before - bond
    assert not arena.slashed()
    assert arena.conserved()


def test_matching_tokens_still_plan_the_embedding_claim(arena):
    arena.tilted.tilt = arena.example.edited_model
    document = arena.anchored(arena.tilted.ask(QUESTION, 3))
    report = challenger_node(arena).challenge(document, dry_run=True)
    assert (report.verdict.check, report.claim) == ("ranking", "embedding")
    assert report.dispute is None
    assert arena.balances() == arena.start
