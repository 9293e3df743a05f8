# ruff: noqa: F811 (pytest fixtures imported from test_disputes, used as arguments)
"""The crypto-economics, attacked: each test plays one attack on the real contracts end to end
and asserts the attacker's loss (issue 16).

- A cheating operator that files against its own bad receipt from a second address (alone, or
  front-running the honest challenger) still loses at least half its bond, and the honest
  challenger who files in the same window gets the same share as the first filer.
- A bond cannot leave while a dispute against it is open or a receipt it anchored is still
  challengeable, however long the operator stretches a game.
- A receipts root squatted by someone else, as any kind, makes no receipt undisputable.
- A receipt is anchored once, by its operator: re-anchoring never reopens its window.
"""

import pytest

from aigora.chain import TxSigner, read_batch, read_operator, read_slash
from aigora.core.errors import ContractRevert
from aigora.core.hashing import keccak
from aigora.core.keystore import Signer
from aigora.verify import Result
from aigora.verify._claims import result_entry

from .conftest import FUNDS
from .test_disputes import (  # noqa: F401
    BURN,
    CHALLENGE_WINDOW,
    CHALLENGER_BOND,
    OPERATOR_BOND,
    RESPONSE_WINDOW,
    REWARD_BPS,
    World,
    chain,
    world,
)

POOL = OPERATOR_BOND * REWARD_BPS // 10_000


def second_address(world: World, label: bytes) -> Signer:
    """Another address of the same person: funded with tokens and gas, nothing else."""
    signer = Signer.dev(keccak(b"second address " + label))
    owner = world.setup.owner
    world.chain.send_ether(owner, signer.address, 10**18)
    world.chain.transact(owner, world.setup.token.functions.mint(signer.address, FUNDS))
    return signer


def bad_receipt(world: World):
    """A receipt whose rank-1 score is one more than the dot product: a score claim wins."""
    results = world.honest()
    results[1] = Result(results[1].cid, results[1].score + 1)
    return world.answer(results)


def collect(world: World, dispute_id: int, by: TxSigner) -> int:
    registry = world.setup.registry
    result = world.chain.transact(by, registry.functions.collect_reward(dispute_id))
    (log,) = world.chain.events_in(result, registry.events.RewardCollected)
    return int(log.args.amount)


def person(world: World, operator: str, *others: str) -> int:
    """What one person holds: the tokens of all its addresses and its operator's bond."""
    state = read_operator(world.chain, world.setup.registry, operator)
    return state.bond + state.unbonding + sum(world.balance(a) for a in (operator, *others))


def test_self_slash_from_a_second_address_still_loses_half_the_bond(world: World):
    operator = world.operator
    sybil = second_address(world, b"alone")
    before = person(world, operator.address, sybil.address)
    document = bad_receipt(world)
    filed = world.challenge("score", *world.score_args(document, 1), sender=sybil)
    dispute_id = world.opened(filed).dispute_id
    assert world.resolved(filed).challenger_won is True
    with pytest.raises(ContractRevert, match="the share window is still open"):
        collect(world, dispute_id, sybil)  # no instant exit: the window must pass
    world.chain.advance_time(RESPONSE_WINDOW + 1)
    assert collect(world, dispute_id, sybil) == POOL
    loss = before - person(world, operator.address, sybil.address)
    assert loss == OPERATOR_BOND - POOL
    assert loss * 2 >= OPERATOR_BOND
    assert world.balance(BURN) == OPERATOR_BOND - POOL


def test_a_front_run_honest_challenger_gets_the_first_filers_share(world: World):
    """The operator sees the honest claim coming and files the same claim first from a second
    address. The honest claim is not refused as 'already judged': it wins too and shares."""
    operator, honest = world.operator, world.challenger
    sybil = second_address(world, b"front-runner")
    before = person(world, operator.address, sybil.address)
    document = bad_receipt(world)
    first = world.opened(world.challenge("score", *world.score_args(document, 1), sender=sybil))
    second = world.challenge("score", *world.score_args(document, 1), sender=honest)
    assert world.resolved(second).challenger_won is True
    assert world.chain.events_in(second, world.setup.registry.events.OperatorSlashed) == []
    slash = read_slash(world.chain, world.setup.registry, operator.address)
    assert (slash.taken, slash.pool, slash.winners, slash.pending, slash.shares) == (
        OPERATOR_BOND,
        POOL,
        2,
        0,
        0,
    )
    world.chain.advance_time(RESPONSE_WINDOW + 1)
    honest_share = collect(world, world.opened(second).dispute_id, world.setup.carol)
    sybil_share = collect(world, first.dispute_id, sybil)
    assert honest_share == sybil_share == POOL // 2
    assert world.balance(honest.address) == FUNDS + POOL // 2
    assert before - person(world, operator.address, sybil.address) == OPERATOR_BOND - POOL // 2


def test_an_open_timed_claim_shares_even_when_it_is_decided_after_the_window(world: World):
    """The honest challenger's omission claim needs the response window; the operator's second
    address files an instant score claim on the same receipt meanwhile. Once the window is over
    the shares are fixed (one won, one open): the sybil collects at once, the open claim wins
    later and takes the same share."""
    honest = world.honest()
    results = honest[1:]  # drops the top passage ...
    results[0] = Result(results[0].cid, results[0].score + 1)  # ... and misstates a score
    document = world.answer(results)
    missing = world.position(honest[0].cid)
    omission = world.opened(world.challenge("omission", *world.omission_args(document, missing)))
    sybil = second_address(world, b"instant")
    instant = world.opened(world.challenge("score", *world.score_args(document, 0), sender=sybil))
    world.chain.advance_time(RESPONSE_WINDOW + 1)
    assert collect(world, instant.dispute_id, sybil) == POOL // 2
    timeout = world.disputes.functions.resolve_timeout(omission.dispute_id)
    world.chain.transact(world.setup.carol, timeout)
    assert collect(world, omission.dispute_id, world.setup.carol) == POOL // 2
    assert world.balance(world.challenger.address) == FUNDS + POOL // 2
    assert world.balance(world.setup.registry.address) == 0


def test_a_dispute_kept_open_cannot_hold_the_honest_reward(world: World):
    """After the slash, the operator's second address files a claim at the end of the share
    window to hold the pool (an embedding game could be stretched for weeks). The honest winner
    collects as soon as the window is over; the stalled claim's share waits for its own outcome
    and is burned when it loses: the operator gains nothing by stalling."""
    listed = world.answer()  # for a false omission claim: its passage is in fact listed
    document = bad_receipt(world)
    won = world.opened(world.challenge("score", *world.score_args(document, 1)))
    world.chain.advance_time(RESPONSE_WINDOW - 10)
    sybil = second_address(world, b"staller")
    args = world.omission_args(listed, world.position(listed.results[0].cid))
    stalled = world.opened(world.challenge("omission", *args, sender=sybil))
    world.chain.advance_time(20)
    assert collect(world, won.dispute_id, world.setup.carol) == POOL // 2
    slash = read_slash(world.chain, world.setup.registry, world.operator.address)
    assert (slash.shares, slash.pending, slash.rest_burned) == (2, 1, False)
    burned = world.balance(BURN)
    rebut = world.disputes.functions.rebut_omission(
        stalled.dispute_id, result_entry(listed, 0).as_arg()
    )
    world.chain.transact(world.setup.carol, rebut)  # anyone may rebut a false claim
    assert world.balance(BURN) - burned == POOL - POOL // 2
    assert world.balance(world.setup.registry.address) == 0


def test_a_win_after_the_share_window_returns_the_bond_and_shares_nothing(world: World):
    document = bad_receipt(world)
    first = world.opened(world.challenge("score", *world.score_args(document, 1)))
    world.chain.advance_time(RESPONSE_WINDOW + 1)
    carol = world.setup.carol
    late = world.challenge("score", *world.score_args(document, 1), sender=carol)
    assert world.resolved(late).challenger_won is True
    assert world.balance(carol.address) == FUNDS
    with pytest.raises(ContractRevert, match="no reward to collect"):
        collect(world, world.opened(late).dispute_id, carol)
    assert collect(world, first.dispute_id, carol) == POOL  # relayed; paid to the challenger
    assert world.balance(world.challenger.address) == FUNDS + POOL


def test_the_bond_cannot_leave_while_a_dispute_is_open(world: World):
    """The operator cheats, a claim is opened, and the operator asks to unbond at once and waits
    out the delay (as one stretching an embedding game move by move would): the bond stays until
    the dispute is decided, and the win takes the unbonding tokens."""
    chain, registry, operator = world.chain, world.setup.registry, world.operator
    honest = world.honest()
    document = world.answer(honest[1:])
    opened = world.opened(
        world.challenge("omission", *world.omission_args(document, world.position(honest[0].cid)))
    )
    chain.transact(operator, registry.functions.request_unbond(OPERATOR_BOND))
    chain.advance_time(world.setup.unbonding_delay + 1)
    with pytest.raises(ContractRevert, match="a dispute against this operator is open"):
        chain.transact(operator, registry.functions.withdraw_bond())
    chain.advance_time(RESPONSE_WINDOW)
    chain.transact(world.setup.carol, world.disputes.functions.resolve_timeout(opened.dispute_id))
    state = read_operator(chain, registry, operator.address)
    assert (state.bond, state.unbonding, state.slashed) == (0, 0, True)
    with pytest.raises(ContractRevert, match="nothing to withdraw"):
        chain.transact(operator, registry.functions.withdraw_bond())
    assert world.balance(operator.address) == FUNDS - OPERATOR_BOND
    chain.advance_time(RESPONSE_WINDOW + 1)
    assert collect(world, opened.dispute_id, world.challenger) == POOL


def test_the_bond_cannot_leave_while_an_anchored_receipt_is_challengeable(world: World):
    chain, registry, operator = world.chain, world.setup.registry, world.operator
    document = bad_receipt(world)
    chain.transact(operator, registry.functions.request_unbond(OPERATOR_BOND))
    chain.advance_time(world.setup.unbonding_delay + 1)
    withdraw = registry.functions.withdraw_bond()
    with pytest.raises(ContractRevert, match="receipts this operator anchored are still"):
        chain.transact(operator, withdraw)
    # Caught on day 6: the unbonding tokens are still there to slash.
    chain.advance_time(CHALLENGE_WINDOW - world.setup.unbonding_delay - 3600)
    world.challenge("score", *world.score_args(document, 1))
    assert read_operator(chain, registry, operator.address).unbonding == 0
    assert world.balance(BURN) == OPERATOR_BOND - POOL


def test_a_leaving_operator_anchors_what_it_issued_and_the_bond_waits_for_it(world: World):
    """Receipts issued before asking to unbond can still be anchored (else they could never be
    challenged); each such anchor holds the bond for another challenge window."""
    chain, registry, operator = world.chain, world.setup.registry, world.operator
    chain.transact(operator, registry.functions.request_unbond(OPERATOR_BOND))
    chain.advance_time(CHALLENGE_WINDOW - 3600)
    late = bad_receipt(world)  # anchored by the leaving operator now
    chain.advance_time(3601)
    with pytest.raises(ContractRevert, match="receipts this operator anchored are still"):
        chain.transact(operator, registry.functions.withdraw_bond())
    world.challenge("score", *world.score_args(late, 1))
    assert read_operator(chain, registry, operator.address).unbonding == 0


def test_an_honest_operator_leaves_once_its_receipts_are_past_challenge(world: World):
    chain, registry, operator = world.chain, world.setup.registry, world.operator
    world.answer()
    chain.transact(operator, registry.functions.request_unbond(OPERATOR_BOND))
    chain.advance_time(CHALLENGE_WINDOW + 1)
    chain.transact(operator, registry.functions.withdraw_bond())
    assert world.balance(operator.address) == FUNDS
    with pytest.raises(ContractRevert, match="not a bonded operator"):
        world.answer()  # nothing left to back a receipt: it anchors no more


def test_a_squatted_receipts_root_leaves_the_receipt_disputable(world: World):
    """An attacker anchors the operator's receipts root first, as content: the operator's own
    anchor still goes through, and only the operator's batch admits the receipt."""
    chain, registry = world.chain, world.setup.registry
    results = world.honest()
    results[1] = Result(results[1].cid, results[1].score + 1)
    squatter = world.setup.carol
    document = world.answer(results)  # anchored by the operator: batch 1
    root = read_root(world, document.anchor.batch_id)
    chain.transact(squatter, registry.functions.anchor(0, root, 4))
    squatted = document.with_anchor(type(document.anchor)(2, document.anchor.proof))
    with pytest.raises(ContractRevert, match="not a receipts batch of the receipt's operator"):
        world.challenge("score", *world.score_args(squatted, 1))
    won = world.challenge("score", *world.score_args(document, 1))
    assert world.resolved(won).challenger_won is True


def read_root(world: World, batch_id: int) -> bytes:
    return read_batch(world.chain, world.setup.registry, batch_id).root


def test_re_anchoring_never_reopens_the_challenge_window(world: World):
    chain, registry, operator = world.chain, world.setup.registry, world.operator
    document = bad_receipt(world)
    root = read_root(world, document.anchor.batch_id)
    chain.advance_time(CHALLENGE_WINDOW + 1)
    with pytest.raises(ContractRevert, match="the challenge window is over"):
        world.challenge("score", *world.score_args(document, 1))
    nonce = document.nonce
    with pytest.raises(ContractRevert, match="nonces already anchored"):
        chain.transact(operator, registry.functions.anchor_receipts(root, 1, nonce, nonce))
    with pytest.raises(ContractRevert, match="not a bonded operator"):
        chain.transact(world.setup.carol, registry.functions.anchor_receipts(root, 1, nonce, nonce))
    chain.transact(world.setup.carol, registry.functions.anchor(1, root, 4))  # as attestations
    batch_id = chain.call(registry.functions.batch_count())
    again = document.with_anchor(type(document.anchor)(batch_id, document.anchor.proof))
    with pytest.raises(ContractRevert, match="not a receipts batch of the receipt's operator"):
        world.challenge("score", *world.score_args(again, 1))
    assert read_operator(chain, registry, operator.address).bond == OPERATOR_BOND
    assert world.balance(world.challenger.address) == FUNDS
