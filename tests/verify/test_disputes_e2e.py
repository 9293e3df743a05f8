"""Disputes end to end on the embedded chain: every cheating operator of the sponsored-ranking
example loses its bond to a challenger who files the claim `plan_claim` picks from public data;
an honest operator wins against a false challenge, answered by its node automatically; tokens
are conserved across every dispute."""

import pytest

from aigora.app import Disputes, collect_reward, file_claim, rebut_omissions, resolve
from aigora.chain import read_operator
from aigora.content.anchoring import anchor_all
from aigora.core.cid import cid_of
from aigora.verify import stored_receipt
from aigora.verify._challenge import Claim, plan_claim
from aigora.verify._claims import passage, query_embedding, result_entry

QUESTION = "Which car should I buy for my family?"  # the example's question
BURN = "0x000000000000000000000000000000000000dEaD"


class Arena:
    """One operator's node with a funded challenger and the token balances that must balance."""

    def __init__(self, world, example) -> None:
        self.world = world
        self.example = example
        context = world.context
        self.chain = context.chain
        self.token = context.deployment.token
        self.registry = context.deployment.registry
        self.disputes = context.deployment.disputes
        assert self.disputes is not None, "open_node deploys the disputes contract"
        self.operator = context.operator
        self.challenger = self.chain.dev_signers()[5]
        bond = self.chain.call(self.disputes.functions.challenger_bond())
        self.chain.transact(
            self.operator, self.token.functions.transfer(self.challenger.address, 3 * bond)
        )
        self.treasury = self.chain.call(self.disputes.functions.treasury())
        self.tilted = example.TiltedAnswers(context)
        self.tilted.sponsor_cid = cid_of(example.SPONSOR.encode())
        self.start = self.balances()

    def balances(self) -> dict[str, int]:
        holders = {
            "challenger": self.challenger.address,
            "operator": self.operator.address,
            "treasury": self.treasury,
            "registry": self.registry.address,
            "disputes": self.disputes.address,
            "burned": BURN,
        }
        if self.treasury in (self.operator.address, BURN):
            holders.pop("treasury")
        return {n: self.chain.call(self.token.functions.balanceOf(a)) for n, a in holders.items()}

    def anchored(self, document):
        context = self.world.context
        anchor_all(context.db, self.chain, self.registry, self.operator)
        return stored_receipt(context.db, "0x" + document.digest().hex())

    def claim_against(self, document):
        verdict = self.world.answers.verify(document)
        assert not verdict.valid
        snapshot = self.world.answers.current()[0]
        _, trace = self.world.answers.encoder().embed_with_trace(document.query)
        return plan_claim(document, verdict, snapshot, trace)

    def conserved(self) -> bool:
        return sum(self.balances().values()) == sum(self.start.values())

    def slashed(self) -> bool:
        return read_operator(self.chain, self.registry, self.operator.address).slashed

    def assert_operator_paid_for(
        self, document, bond: int, challenger_before: int, dispute_id: int
    ) -> None:
        """The operator is slashed: half its bond is burned at once, half goes to the
        challenger once the share window is over; no token was created or lost, and
        verification now refuses the operator's receipts."""
        assert self.slashed()
        reward = bond * self.chain.call(self.registry.functions.slash_reward_bps()) // 10_000
        assert self.balances()["burned"] - self.start["burned"] == bond - reward
        assert self.balances()["challenger"] == challenger_before
        self.chain.advance_time(self.chain.call(self.disputes.functions.response_window()) + 1)
        collected = collect_reward(self.chain, self.disputes, self.operator, dispute_id)
        assert (collected.paid_to, collected.amount) == (self.challenger.address, reward)
        assert self.balances()["challenger"] - challenger_before == reward
        assert self.conserved()
        later = self.world.answers.verify(document)
        assert later.check == "operator"
        assert "slashed" in later.reason


@pytest.fixture
def arena(open_world_at, tmp_path, sponsored):
    return Arena(open_world_at(tmp_path / "node", sponsored.CORPUS), sponsored)


@pytest.mark.parametrize(
    ("tilt", "kind"),
    [
        ("hidden_bonus", "score"),
        ("promote", "order"),
        ("swap_order", "order"),
        ("drop_competitor", "omission"),
    ],
)
def test_a_tilted_operator_loses_its_bond(arena, tilt, kind):
    arena.tilted.tilt = getattr(arena.example, tilt)
    document = arena.anchored(arena.tilted.ask(QUESTION, 3))
    claim = arena.claim_against(document)
    assert claim.kind == kind
    bond = read_operator(arena.chain, arena.registry, arena.operator.address).bond
    before = arena.balances()["challenger"]
    state = file_claim(arena.chain, arena.disputes, arena.token, arena.challenger, document, claim)
    if kind == "omission":
        assert state.status == "open"
        context = arena.world.context
        assert rebut_omissions(arena.chain, context.db, arena.disputes, arena.operator) == []
        arena.chain.advance_time(arena.chain.call(arena.disputes.functions.response_window()) + 1)
        state = resolve(arena.chain, arena.disputes, arena.challenger, state.dispute_id)
    assert state.status == "challenger won"
    assert state.slashed == bond
    arena.assert_operator_paid_for(document, bond, before, state.dispute_id)


def test_answering_from_a_stale_snapshot_loses_the_bond(arena):
    world, tilted = arena.world, arena.tilted
    old = tilted.current()
    world.publish(arena.example.LATE_COMPETITOR)
    tilted.refresh()
    arena.chain.advance_time(3600)
    tilted._current = old
    document = arena.anchored(tilted.ask(QUESTION, 3))
    tilted._current = None
    world.answers._current = None
    claim = arena.claim_against(document)
    assert claim.kind == "stale"
    state = file_claim(arena.chain, arena.disputes, arena.token, arena.challenger, document, claim)
    assert state.status == "challenger won"
    assert arena.slashed()
    assert arena.conserved()


def test_an_honest_operator_wins_a_false_omission_claim_by_itself(arena):
    document = arena.anchored(arena.world.answers.ask(QUESTION, 3))
    assert arena.world.answers.verify(document).valid
    snapshot = arena.world.answers.current()[0]
    _, trace = arena.world.answers.encoder().embed_with_trace(QUESTION)
    listed = snapshot.positions[document.results[0].key]
    false_claim = Claim(
        "omission",
        "claims the top result is missing",
        entry=result_entry(document, len(document.results) - 1),
        passage=passage(snapshot, listed),
        query=query_embedding(trace),
    )
    bond = arena.chain.call(arena.disputes.functions.challenger_bond())
    operator_before = arena.balances()["operator"]
    state = file_claim(
        arena.chain, arena.disputes, arena.token, arena.challenger, document, false_claim
    )
    assert state.status == "open"
    context = arena.world.context
    (answered,) = rebut_omissions(arena.chain, context.db, arena.disputes, arena.operator)
    assert answered.status == "challenger lost"
    assert not arena.slashed()
    bps = arena.chain.call(arena.disputes.functions.treasury_bps())
    gained = arena.balances()["operator"] - operator_before
    treasury_is_operator = arena.treasury == arena.operator.address
    assert gained == (bond if treasury_is_operator else bond - bond * bps // 10_000)
    assert arena.conserved()
    with pytest.raises(Exception, match="dispute already resolved"):
        resolve(arena.chain, arena.disputes, arena.challenger, answered.dispute_id)


def test_an_operator_that_files_against_itself_keeps_at_most_half(arena):
    """Self-slash through the node's own tooling: the tilted operator's node challenges its own
    bad receipt (the challenger bond comes from the operator's account), and its background
    collection takes the whole reward. It still loses half its bond, burned."""
    arena.tilted.tilt = arena.example.hidden_bonus
    document = arena.anchored(arena.tilted.ask(QUESTION, 3))
    registry, operator = arena.registry, arena.operator.address
    held = read_operator(arena.chain, registry, operator).bond
    before = arena.balances()["operator"] + held
    disputes = Disputes(arena.world.answers)
    report = disputes.challenge(document)
    assert (report.claim, report.dispute.status) == ("score", "challenger won")
    assert disputes.collect_owed() == []  # the share window is still open
    arena.chain.advance_time(arena.chain.call(arena.disputes.functions.response_window()) + 1)
    (collected,) = disputes.collect_owed()
    assert collected.paid_to == operator
    reward = held * arena.chain.call(registry.functions.slash_reward_bps()) // 10_000
    assert collected.amount == reward
    after = arena.balances()["operator"] + read_operator(arena.chain, registry, operator).bond
    assert before - after == held - reward
    assert 2 * (before - after) >= held
    assert disputes.collect_owed() == []  # collected once
    assert arena.conserved()


def test_the_node_resolves_its_unanswered_omission_claim_and_collects(arena):
    """An omission claim the node filed that nobody answered: its background steps resolve it
    once the response window is over (nobody else has to), then collect the share."""
    arena.tilted.tilt = arena.example.drop_competitor
    document = arena.anchored(arena.tilted.ask(QUESTION, 3))
    disputes = Disputes(arena.world.answers)
    report = disputes.challenge(document)
    assert (report.claim, report.dispute.status) == ("omission", "open")
    assert disputes.close_expired() == []  # still within the response window
    arena.chain.advance_time(arena.chain.call(arena.disputes.functions.response_window()) + 1)
    (closed,) = disputes.close_expired()
    assert closed.status == "challenger won"
    assert disputes.close_expired() == []
    arena.chain.advance_time(arena.chain.call(arena.disputes.functions.response_window()) + 1)
    (collected,) = disputes.collect_owed()
    assert collected.dispute_id == report.dispute.dispute_id
    assert arena.conserved()
