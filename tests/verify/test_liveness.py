"""Liveness: an honest operator's node answers every dispute in time, whatever else fails.

One rebuttal that reverts does not stop the others (and is retried next pass); a failing
anchoring step does not skip the node's rebuttals and game moves; a node that was down while
disputes were opened against its receipts finds them from its scan cursor when it comes back
within the response window, and answers each before its deadline, so the challenger of a false
claim loses its bond."""

import json
import logging

import pytest

from aigora.app import (
    DISPUTES_OPENED,
    App,
    dispute_state,
    file_claim,
    open_node,
    open_watched,
    rebut_omissions,
)
from aigora.chain import Chain, read_operator
from aigora.core.errors import ChainUnreachable
from aigora.node.runner import background_pass
from aigora.store import ReceiptRecord, read_cursor, session_scope
from aigora.verify._challenge import Claim
from aigora.verify._claims import passage, query_embedding, result_entry

from .conftest import PASSPHRASE, open_world
from .test_disputes_e2e import QUESTION, Arena

OTHER_QUESTIONS = (
    "Which minivan is the most reliable?",
    "What car seats seven people safely?",
)


@pytest.fixture
def arena(open_world_at, tmp_path, sponsored):
    return Arena(open_world_at(tmp_path / "node", sponsored.CORPUS), sponsored)


def false_omission(world, document) -> Claim:
    """A claim that the receipt's top result is missing from it: false, and rebuttable."""
    snapshot = world.answers.current()[0]
    _, trace = world.answers.encoder().embed_with_trace(document.query)
    return Claim(
        "omission",
        "claims the top result is missing",
        entry=result_entry(document, len(document.results) - 1),
        passage=passage(snapshot, snapshot.positions[document.results[0].key]),
        query=query_embedding(trace),
    )


def wrong_trace(arena, document) -> Claim:
    """An embedding claim from a challenger whose engine runs an edited model."""
    _, wrong = arena.tilted.edited_encoder().embed_with_trace(document.query)
    return Claim("embedding", "a mistaken challenger", trace=wrong)


def _set_top_score(db, digest: str, delta: int) -> None:
    with session_scope(db) as session:
        record = session.get_one(ReceiptRecord, digest)
        data = json.loads(record.document)
        data["results"][0]["score"] += delta
        record.document = json.dumps(data)


def test_a_reverting_rebuttal_does_not_stop_the_others(arena, caplog):
    world, chain, disputes = arena.world, arena.chain, arena.disputes
    db = world.context.db
    questions = (QUESTION, *OTHER_QUESTIONS)
    documents = [arena.anchored(world.answers.ask(q, 3)) for q in questions]
    broken, fine, taken = (
        file_claim(
            chain, disputes, arena.token, arena.challenger, d, false_omission(world, d)
        ).dispute_id
        for d in documents
    )
    # The first claim's rebuttal will revert: its stored receipt no longer matches resultHash.
    broken_digest = "0x" + documents[0].digest().hex()
    _set_top_score(db, broken_digest, 1)
    # Someone else rebuts the third first (anyone may): the node must not trip over it.
    bystander = chain.dev_signers()[6]
    entry = result_entry(documents[2], 0).as_arg()
    chain.transact(bystander, disputes.functions.rebut_omission(taken, entry))
    operator_before = arena.balances()["operator"]

    with caplog.at_level(logging.WARNING):
        answered = rebut_omissions(chain, db, disputes, arena.operator)

    assert [state.dispute_id for state in answered] == [fine]
    assert answered[0].status == "challenger lost"
    assert dispute_state(chain, disputes, broken).status == "open"
    assert f"rebuttal of dispute {broken} failed, will retry next pass" in caplog.text
    assert "result proof does not match" in caplog.text
    assert [w.dispute_id for w in open_watched(db, chain, disputes)] == [broken]

    _set_top_score(db, broken_digest, -1)  # the item is repaired: the next pass answers it
    (retried,) = rebut_omissions(chain, db, disputes, arena.operator)
    assert (retried.dispute_id, retried.status) == (broken, "challenger lost")
    assert open_watched(db, chain, disputes) == []
    bond = chain.call(disputes.functions.challenger_bond())
    bps = chain.call(disputes.functions.treasury_bps())
    assert arena.balances()["operator"] - operator_before == 2 * (bond - bond * bps // 10_000)
    assert not arena.slashed()
    assert arena.conserved()


def test_an_anchoring_failure_does_not_stop_rebuttals_and_moves(arena, monkeypatch, caplog):
    world, chain, disputes = arena.world, arena.chain, arena.disputes
    app = App(world.context, world.answers)
    rebuttable, played = (arena.anchored(world.answers.ask(q, 3)) for q in OTHER_QUESTIONS)
    omission = file_claim(
        chain,
        disputes,
        arena.token,
        arena.challenger,
        rebuttable,
        false_omission(world, rebuttable),
    )
    game = file_claim(
        chain, disputes, arena.token, arena.challenger, played, wrong_trace(arena, played)
    )
    assert game.phase == "ops"
    world.answers.ask(QUESTION, 3)  # a receipt waiting to be anchored

    def unreachable() -> None:
        raise ChainUnreachable("lost the JSON-RPC node at http://127.0.0.1:1: ConnectionError")

    monkeypatch.setattr(app.content, "anchor", unreachable)
    with caplog.at_level(logging.WARNING):
        failed = background_pass(app)

    assert failed == ["anchoring"]
    assert "anchoring failed, will retry next pass: lost the JSON-RPC node" in caplog.text
    assert dispute_state(chain, disputes, omission.dispute_id).status == "challenger lost"
    assert dispute_state(chain, disputes, game.dispute_id).phase == "pick"  # ops revealed
    assert arena.conserved()


def test_a_node_that_was_down_answers_every_dispute_in_time(tmp_path, sponsored):
    directory = tmp_path / "node"
    world = open_world(directory, sponsored.CORPUS)
    arena = Arena(world, sponsored)
    context = world.context
    app = App(context, world.answers)
    rebuttable, played = (world.answers.ask(q, 3) for q in OTHER_QUESTIONS)
    assert background_pass(app) == []  # anchors both receipts; no dispute yet
    rebuttable, played = (
        world.answers.receipt("0x" + d.digest().hex()) for d in (rebuttable, played)
    )
    claims = [false_omission(world, rebuttable), wrong_trace(arena, played)]
    addresses = context.deployment.addresses()
    with session_scope(context.db) as session:
        cursor_before = read_cursor(
            session, DISPUTES_OPENED, context.chain.chain_id, addresses["Disputes"]
        )
    assert cursor_before == context.chain.block_number()
    bond = context.chain.call(context.deployment.disputes.functions.challenger_bond())
    window = context.chain.call(context.deployment.disputes.functions.response_window())
    start = arena.balances()
    context.close()  # the operator's node goes down

    config = directory / "config.toml"  # its scans will read 3 blocks per request
    config.write_text(config.read_text().replace("max_log_range = 1000", "max_log_range = 3"))
    with Chain.embedded(directory / "chain") as chain:  # the challenger, on the same chain
        disputes = chain.contract("Disputes", addresses["Disputes"])
        token = chain.contract("Token", addresses["Token"])
        opened = [
            file_claim(chain, disputes, token, arena.challenger, document, claim)
            for document, claim in zip((rebuttable, played), claims, strict=True)
        ]
        for _ in range(10):  # blocks pass while the node is down: several scan windows
            chain.advance_time(60)
        chain.advance_time(window - 3600)  # back within the window, an hour before the deadlines
        assert all(chain.now() < state.deadline for state in opened)
        assert chain.block_number() - cursor_before > 3 * 3

    reopened = open_node(directory, PASSPHRASE)
    try:
        assert reopened.chain.max_range == 3
        assert background_pass(App(reopened)) == []
        chain, disputes = reopened.chain, reopened.deployment.disputes
        omission, game = (dispute_state(chain, disputes, s.dispute_id) for s in opened)
        assert omission.status == "challenger lost"  # rebutted
        assert (game.status, game.phase) == ("open", "pick")  # the operator revealed its ops
        assert chain.now() <= min(state.deadline for state in opened)  # both in time
        with session_scope(reopened.db) as session:
            cursor = read_cursor(session, DISPUTES_OPENED, chain.chain_id, disputes.address)
        # Found by the scan resuming after its cursor; the game, still open, is watched.
        (watched,) = open_watched(reopened.db, chain, disputes)
        assert (watched.dispute_id, watched.against_us) == (game.dispute_id, True)
        assert cursor_before < watched.opened_block <= cursor
        token, operator = reopened.deployment.token, reopened.operator.address
        challenger_balance = chain.call(token.functions.balanceOf(arena.challenger.address))
        operator_balance = chain.call(token.functions.balanceOf(operator))
        bps = chain.call(disputes.functions.treasury_bps())
        # The false claim's bond went to the operator (less the burned share); the game's bond
        # is held by the contract until the game ends.
        assert challenger_balance == start["challenger"] - 2 * bond
        assert operator_balance - start["operator"] == bond - bond * bps // 10_000
        assert not read_operator(chain, reopened.deployment.registry, operator).slashed
    finally:
        reopened.close()
