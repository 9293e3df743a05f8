"""The embedding game end to end on the embedded chain: an operator that embedded the query with
a quietly edited model loses its bond even when it plays every move from its own trace; an honest
operator, answering by itself, wins against a challenger holding the wrong trace; a silent side
loses at its deadline; no token is created or lost."""

import pytest

from aigora.app import challenger_move, dispute_state, file_claim, game_state, resolve
from aigora.chain import read_operator
from aigora.core.errors import ChainError
from aigora.core.ordered_merkle import depth_for
from aigora.verify._challenge import Claim
from aigora.verify._game import Honest, game_moves

from .test_disputes_e2e import QUESTION, Arena


@pytest.fixture
def arena(open_world_at, tmp_path, sponsored):
    return Arena(open_world_at(tmp_path / "node", sponsored.CORPUS), sponsored)


def play(arena, dispute_id, operator_answers, honest, model, limit=80):
    """Alternate the operator node's automatic answers and the challenger's moves until the
    dispute is decided; returns the moves made, in order."""
    moves = []
    for _ in range(limit):
        if dispute_state(arena.chain, arena.disputes, dispute_id).status != "open":
            return moves
        moves += operator_answers.play_games()
        move = challenger_move(
            arena.chain, arena.disputes, arena.challenger, dispute_id, honest, model
        )
        if move is not None:
            moves.append(move)
    raise AssertionError(f"the game did not end in {limit} rounds: {moves}")


def test_an_edited_model_loses_the_embedding_game(arena):
    tilted = arena.tilted
    tilted.tilt = arena.example.edited_model
    document = arena.anchored(tilted.ask(QUESTION, 3))
    claim = arena.claim_against(document)
    assert claim.kind == "embedding"
    bond = read_operator(arena.chain, arena.registry, arena.operator.address).bond
    before = arena.balances()["challenger"]
    state = file_claim(arena.chain, arena.disputes, arena.token, arena.challenger, document, claim)
    assert (state.status, state.phase) == ("open", "ops")
    model = arena.world.answers.model
    moves = play(arena, state.dispute_id, tilted, Honest(claim.trace), model)
    final = dispute_state(arena.chain, arena.disputes, state.dispute_id)
    assert final.status == "challenger won"
    game = game_state(arena.chain, arena.disputes, state.dispute_id)
    assert claim.trace.names[game.op] == "layers.3.ffn_out"  # the edited weight's op
    assert [m.move for m in moves][:3] == ["ops", "pick", "leaf"]
    assert moves[-1].move == "step"
    assert len(moves) + 1 == game_moves(claim.trace.op(game.op).leaf.chunk_count)
    arena.assert_operator_paid_for(document, bond, before, state.dispute_id)


def test_an_honest_operator_wins_against_a_wrong_trace(arena):
    """The challenger's engine is the broken one (it runs the edited model): the game reaches
    the last step, and the contract's recomputation sides with the honest operator."""
    world = arena.world
    document = arena.anchored(world.answers.ask(QUESTION, 3))
    _, wrong = arena.tilted.edited_encoder().embed_with_trace(QUESTION)
    claim = Claim("embedding", "a mistaken challenger", trace=wrong)
    operator_before = arena.balances()["operator"]
    state = file_claim(arena.chain, arena.disputes, arena.token, arena.challenger, document, claim)
    moves = play(arena, state.dispute_id, world.answers, Honest(wrong), world.answers.model)
    assert moves[-1].move == "step"
    assert dispute_state(arena.chain, arena.disputes, state.dispute_id).status == (
        "challenger lost"
    )
    assert not arena.slashed()
    assert arena.balances()["operator"] > operator_before
    assert arena.conserved()
    with pytest.raises(ChainError, match="dispute already resolved"):
        resolve(arena.chain, arena.disputes, arena.challenger, state.dispute_id)


def test_silence_loses_and_moves_keep_their_turn(arena):
    world, chain, disputes = arena.world, arena.chain, arena.disputes
    window = chain.call(disputes.functions.response_window())
    document = arena.anchored(world.answers.ask(QUESTION, 3))
    _, wrong = arena.tilted.edited_encoder().embed_with_trace(QUESTION)
    claim = Claim("embedding", "a mistaken challenger", trace=wrong)

    # The operator never answers: after the window the challenger wins.
    silent = file_claim(chain, disputes, arena.token, arena.challenger, document, claim)
    with pytest.raises(ChainError, match="not this move's turn"):
        chain.transact(arena.challenger, disputes.functions.choose(silent.dispute_id, True))
    with pytest.raises(ChainError, match="still open"):
        resolve(chain, disputes, arena.challenger, silent.dispute_id)
    chain.advance_time(window + 1)
    with pytest.raises(ChainError, match="response window is over"):
        chain.transact(
            arena.operator, disputes.functions.reveal_ops(silent.dispute_id, [b"\0" * 32])
        )
    assert resolve(chain, disputes, arena.operator, silent.dispute_id).status == "challenger won"
    assert arena.conserved()


def test_a_silent_challenger_loses(open_world_at, tmp_path, sponsored):
    arena = Arena(open_world_at(tmp_path / "node", sponsored.CORPUS), sponsored)
    world, chain, disputes = arena.world, arena.chain, arena.disputes
    document = arena.anchored(world.answers.ask(QUESTION, 3))
    _, wrong = arena.tilted.edited_encoder().embed_with_trace(QUESTION)
    claim = Claim("embedding", "a mistaken challenger", trace=wrong)
    state = file_claim(chain, disputes, arena.token, arena.challenger, document, claim)
    (answer,) = world.answers.play_games()
    assert answer.move == "ops"
    assert world.answers.play_games() == []  # the challenger's turn: nothing to answer
    with pytest.raises(ChainError, match="only the challenger"):
        chain.transact(
            arena.operator,
            disputes.functions.pick_op(state.dispute_id, 1, b"\0" * 32, [], 1, b"\0" * 32, []),
        )
    chain.advance_time(chain.call(disputes.functions.response_window()) + 1)
    world.answers.play_games()  # the operator's node closes the game it won
    assert dispute_state(chain, disputes, state.dispute_id).status == "challenger lost"
    assert not arena.slashed()
    assert arena.conserved()


def test_descending_into_padding_is_judged_at_once(arena):
    """A challenger that walks into the zero padding of a chunk tree loses there: the honest
    tree has the zero subtree, which the contract knows."""
    world, chain, disputes = arena.world, arena.chain, arena.disputes
    document = arena.anchored(world.answers.ask(QUESTION, 3))
    _, trace = world.answers.encoder().embed_with_trace(QUESTION)
    op = next(
        i
        for i in range(1, len(trace))
        if trace.op(i).leaf.chunk_count not in (1, 1 << depth_for(trace.op(i).leaf.chunk_count))
    )
    claim = Claim("embedding", "walks into padding", trace=trace)
    state = file_claim(chain, disputes, arena.token, arena.challenger, document, claim)
    world.answers.play_games()
    tree = trace.op_tree
    tokens = trace.op(0).leaf
    chain.transact(
        arena.challenger,
        disputes.functions.pick_op(
            state.dispute_id,
            op,
            trace.op(op).leaf.hash(),
            tree.proof(op),
            tokens.shape[0],
            tokens.root,
            tree.proof(0),
        ),
    )
    for _ in range(depth_for(trace.op(op).leaf.chunk_count)):
        while game_state(chain, disputes, state.dispute_id).operator_moves:
            assert world.answers.play_games(), "the honest operator always has a move"
        if dispute_state(chain, disputes, state.dispute_id).status != "open":
            break
        chain.transact(arena.challenger, disputes.functions.choose(state.dispute_id, True))
    assert dispute_state(chain, disputes, state.dispute_id).status == "challenger lost"
    assert arena.conserved()
