"""The standing rule under attack, end to end: a community's vouches go through the real seeded
trust computation (`aigora.reputation.seeded_trust`), the standing rule (`standing_from_trust`)
and its tree into a compiled Governor (titanoboa), and each attack is played against it.

The rule (`aigora.governance._standing`): a voter's power is its seeded trust, floor(trust *
10**18), never a token balance or an amount earned. Why it holds against each attack:
- a brigade nobody honest vouched for is unreachable from the seeds, so its trust is exactly 0
  and it is not in the table at all, however many fresh accounts vouch for one another;
- a brigade reached by attack edges holds at most (1 - d) / d times the trust those edges carry
  in per step (d = damping): the bound is computed in the test from the run itself;
- a token whale has what others trust it for: the Governor never reads a balance, and earnings
  (a Distributor tree any address may post for its own addresses) are no input to the rule;
- a person who splits into two addresses holds, across both, what one address with the same
  vouches holds: trust flows along vouches and is conserved, so a split adds none by itself.
The community: 3 seeds and 13 members, each vouched for by 2 or 3 others (16 honest voters);
the brigade: 8 fresh accounts, half the honest voters. The Governor decides with a 20% quorum
and a 1% proposal threshold (tests/chain/test_governor.py's). Front-running a signed ballot is
played there (`test_a_front_runner_can_only_cast_the_signed_ballot`: only the signer's vote
counts, once; a replay reverts "already voted"), as is a whale outside the table.
"""

from collections.abc import Iterator, Mapping
from fractions import Fraction

import boa
import pytest

from aigora.governance import (
    POWER_UNIT,
    Policy,
    ReputationSettings,
    standing_from_trust,
)
from aigora.governance import Standing as StandingSection
from aigora.reputation import TrustEdge, seeded_trust
from tests.chain.distributor_kit import Payouts
from tests.chain.test_governor import (
    PERIOD,
    QUORUM_BPS,
    THRESHOLD_BPS,
    TIMELOCK,
    Gov,
    Standing,
    key,
)

DAMPING = 0.3
BPS = 10_000
HONEST_KEYS = [key(f"honest {i}") for i in range(16)]
HONEST = [k.address for k in HONEST_KEYS]
SEEDS = HONEST[:3]
BRIGADE_KEYS = [key(f"brigade {i}") for i in range(len(HONEST) // 2)]
BRIGADE = [k.address for k in BRIGADE_KEYS]
LEADER = BRIGADE[0]
NAIVE = HONEST_KEYS[10]  # the honest member who vouches for the brigade's leader
TOLERANCE = 1e-9  # seeded trust converges to 1e-12 (L1); its bounds hold to this


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with boa.env.anchor():
        yield


def honest_edges() -> list[TrustEdge]:
    """Member i is vouched for by i+1 and i+5 (and i+11 when i is even), around the circle."""
    edges = []
    for i, trustee in enumerate(HONEST):
        vouchers = {(i + 1) % 16, (i + 5) % 16} | ({(i + 11) % 16} if i % 2 == 0 else set())
        edges += [TrustEdge(HONEST[v], trustee) for v in sorted(vouchers)]
    return edges


def brigade_edges() -> list[TrustEdge]:
    """Every brigade account vouches for every other, the leader three times as much."""
    return [
        TrustEdge(a, b, 3.0 if b == LEADER else 1.0) for a in BRIGADE for b in BRIGADE if a != b
    ]


def trust_of(edges: list[TrustEdge]) -> dict[str, float]:
    return seeded_trust(edges, SEEDS, DAMPING)


def table_of(edges: list[TrustEdge]) -> dict[str, int]:
    return standing_from_trust(trust_of(edges))


def governor(table: Mapping[str, int]) -> tuple[Gov, Standing]:
    """A Governor whose genesis policy is the community's, with `table` as its standing."""
    standing = Standing.of(table)
    gov = Gov.deploy(
        standing,
        document=policy(SEEDS, table).document(),
        quorum_bps=QUORUM_BPS,
        threshold_bps=THRESHOLD_BPS,
    )
    return gov, standing


def policy(seeds: list[str], table: Mapping[str, int]) -> Policy:
    return Policy(
        reputation=ReputationSettings(seeds=sorted(seeds, key=str.lower), damping=DAMPING),
        standing=StandingSection(powers={a: str(p) for a, p in sorted(table.items())}),
    )


def brigade_policy(damping: float = DAMPING) -> tuple[bytes, Standing]:
    """What the brigade wants: itself as the seeds and the only voters."""
    table = dict.fromkeys(BRIGADE, POWER_UNIT // len(BRIGADE))
    wanted = policy(BRIGADE, table).model_copy(
        update={
            "reputation": ReputationSettings(seeds=sorted(BRIGADE, key=str.lower), damping=damping)
        }
    )
    return wanted.document(), Standing.of(table)


def misses_quorum(gov: Gov, pid: int, total: int) -> bool:
    in_favour, _, abstain = gov.tally(pid)
    return (in_favour + abstain) * BPS < QUORUM_BPS * total


def after_eta() -> None:
    boa.env.time_travel(seconds=PERIOD + TIMELOCK)


# ---- a. the brigade -----------------------------------------------------------------------------


def test_a_brigade_nobody_vouched_for_has_no_power_and_passes_nothing():
    """Eight fresh accounts vouch for one another as densely as they like: no seed reaches them,
    so each holds exactly 0 trust, none is in the table, and the honest powers are exactly what
    they were without the brigade. They cannot propose; a proposal they want, made for them by
    one honest account, is defeated by the honest majority, and without the honest voters it
    misses the quorum: not one brigade ballot counts."""
    trust = trust_of(honest_edges() + brigade_edges())
    assert [trust[b] for b in BRIGADE] == [0.0] * len(BRIGADE)
    table = standing_from_trust(trust)
    assert table == table_of(honest_edges())
    assert set(table) == set(HONEST)
    gov, standing = governor(table)
    document, wanted = brigade_policy()
    with boa.reverts("proof does not match the standing in force"):
        gov.propose(document, wanted, BRIGADE_KEYS[0])
    opposed = gov.propose(document, wanted, NAIVE)
    ignored = gov.propose(brigade_policy(damping=0.2)[0], wanted, NAIVE)
    for pid in (opposed, ignored):
        gov.vote(pid, NAIVE, "for")
        for member in BRIGADE_KEYS:
            for power in (0, 1, standing.powers[NAIVE.address]):
                with boa.reverts("proof does not match the proposal's standing"):
                    gov.vote(pid, member, "for", power=power, proof=[])
            with boa.reverts("proof does not match the proposal's standing"):
                gov.vote(pid, member, "for", proof=standing.proof(NAIVE.address))
    for voter in HONEST_KEYS:
        if voter != NAIVE:
            gov.vote(opposed, voter, "against")
    after_eta()
    naive = table[NAIVE.address]
    assert gov.tally(opposed) == (naive, standing.total - naive, 0)
    assert gov.tally(ignored) == (naive, 0, 0)
    assert misses_quorum(gov, ignored, standing.total)
    assert gov.state(opposed) == gov.state(ignored) == "defeated"
    for pid in (opposed, ignored):
        with boa.reverts("the proposal was defeated"):
            gov.execute(pid)
    assert gov.contract.standing_root() == standing.root


def test_a_brigade_with_one_attack_edge_holds_at_most_what_the_edge_carries_in():
    """One honest member vouches for the brigade's leader. The brigade, a set X of non-seeds
    with no edge out, now holds trust, but at most (1 - d) / d * I(X), where I(X) = t(naive) *
    w(naive -> leader) / w(naive -> everyone) is what the one edge carries in per step: at d =
    0.3 that is 7/3 of a third of the naive member's trust, about 3% of all power. Its leader
    clears the 1% threshold and proposes; all eight vote for, with the naive member: the honest
    voters' against defeats it, and alone they miss the 20% quorum."""
    edges = honest_edges() + brigade_edges() + [TrustEdge(NAIVE.address, LEADER)]
    trust = trust_of(edges)
    out = [e for e in edges if e.truster == NAIVE.address]
    carried_in = trust[NAIVE.address] * 1.0 / sum(e.weight for e in out)
    bound = (1 - DAMPING) / DAMPING * carried_in
    brigade_trust = sum(trust[b] for b in BRIGADE)
    assert 0 < brigade_trust <= bound * (1 + TOLERANCE)
    table = standing_from_trust(trust)
    brigade_power = sum(table[b] for b in BRIGADE)
    assert brigade_power <= Fraction(bound * (1 + TOLERANCE)) * POWER_UNIT
    assert brigade_power * BPS < QUORUM_BPS * sum(table.values()) // 4  # under 5% of all power
    gov, standing = governor(table)
    assert table[LEADER] * BPS >= THRESHOLD_BPS * standing.total  # it may propose...
    document, wanted = brigade_policy()
    opposed = gov.propose(document, wanted, BRIGADE_KEYS[0])
    ignored = gov.propose(brigade_policy(damping=0.2)[0], wanted, BRIGADE_KEYS[0])
    for pid in (opposed, ignored):
        for voter in [*BRIGADE_KEYS, NAIVE]:
            gov.vote(pid, voter, "for")
    for voter in HONEST_KEYS:
        if voter != NAIVE:
            gov.vote(opposed, voter, "against")
    after_eta()
    in_favour = brigade_power + table[NAIVE.address]
    assert gov.tally(opposed) == (in_favour, standing.total - in_favour, 0)
    assert gov.tally(ignored) == (in_favour, 0, 0)
    assert misses_quorum(gov, ignored, standing.total)  # ...but passes nothing
    assert gov.state(opposed) == gov.state(ignored) == "defeated"
    with boa.reverts("the proposal was defeated"):
        gov.execute(ignored)


# ---- b. the whale -------------------------------------------------------------------------------


def test_a_whale_with_most_of_the_token_and_bought_earnings_has_only_its_standing():
    """An honest member holds 90% of the dev token. It posts a Distributor tree paying itself
    and its second address from its own funds and claims both: "earnings" that prove only that
    it paid itself. The table, computed before and after, is the same to the unit: the rule takes
    nothing from balances or payouts. Its vote counts its standing power, not its balance; its
    Distributor leaf (the standing tree's own leaf shape) proves nothing in the Governor; its
    second address has no vote; and alone it misses the quorum."""
    whale_key = HONEST_KEYS[11]  # the most trusted member who is not a seed
    whale, second = whale_key.address, key("honest 11, second address").address
    before = table_of(honest_edges())
    payouts = Payouts.deploy(label="honest 11")
    assert payouts.poster == whale
    for voter in HONEST:
        if voter != whale:
            payouts.token.mint(voter, 7 * 10**27)
    assert payouts.balance(whale) * 10 >= payouts.token.totalSupply() * 9

    earnings = {whale: 4 * 10**29, second: 5 * 10**29}
    payouts.post(earnings)
    for account, amount in earnings.items():
        payouts.claim(account, amount, sender=second)
    assert payouts.balance(second) == earnings[second]
    assert payouts.balance(whale) + payouts.balance(second) == 10**30
    after = table_of(honest_edges())
    assert after == before
    assert second not in after

    gov, standing = governor(after)
    power = after[whale]
    assert power * BPS < QUORUM_BPS * standing.total  # less than the quorum alone
    pid = gov.propose(b'{"policy":"the whale decides"}', Standing.of({whale: 1}), whale_key)
    second_key = key("honest 11, second address")
    for voter, claimed, proof in (
        (second_key, earnings[second], payouts.proof(second, earnings[second])),
        (whale_key, earnings[whale], payouts.proof(whale, earnings[whale])),
        (whale_key, payouts.balance(whale), standing.proof(whale)),
        (second_key, power, standing.proof(whale)),
    ):
        with boa.reverts("proof does not match the proposal's standing"):
            gov.vote(pid, voter, "for", power=claimed, proof=proof)
    gov.vote(pid, whale_key, "for")
    with boa.reverts("already voted"):
        gov.vote(pid, whale_key, "for")
    after_eta()
    assert gov.tally(pid) == (power, 0, 0)
    assert gov.state(pid) == "defeated"
    with boa.reverts("the proposal was defeated"):
        gov.execute(pid)


# ---- c. a second address of the same person -----------------------------------------------------

PERSON = HONEST[8]
SECOND = key("honest 8, second address").address


def split(edges: list[TrustEdge], *, vouch: float) -> list[TrustEdge]:
    """The person's vouchers vouch for both addresses with `vouch` times their weight for it,
    and both addresses vouch for whom the person vouched for."""
    out = []
    for e in edges:
        if e.trustee == PERSON:
            out += [TrustEdge(e.truster, to, e.weight * vouch) for to in (PERSON, SECOND)]
        elif e.truster == PERSON:
            out += [e, TrustEdge(SECOND, e.trustee, e.weight)]
        else:
            out.append(e)
    return out


def test_two_addresses_with_the_persons_vouches_hold_its_power_and_no_more():
    """Each voucher keeps its vouch for the person and divides it over the two addresses, and
    both vouch as the person did. Trust is conserved along vouches and the two addresses are one
    node seen twice (the same edges out), so together they hold the one address's trust: the
    sum of powers is at most the one power (up to the iteration's 1e-12 and two floors). Both
    vote for the person's proposal: the tally is what the person alone had, and it fails."""
    original = table_of(honest_edges())[PERSON]
    trust = trust_of(split(honest_edges(), vouch=0.5))
    assert trust[PERSON] + trust[SECOND] == pytest.approx(
        trust_of(honest_edges())[PERSON], rel=1e-9
    )
    table = standing_from_trust(trust)
    both = table[PERSON] + table[SECOND]
    assert both <= original * (1 + TOLERANCE)
    gov, standing = governor(table)
    pid = gov.propose(b'{"policy":"mine twice"}', standing, HONEST_KEYS[8])
    gov.vote(pid, HONEST_KEYS[8], "for")
    gov.vote(pid, key("honest 8, second address"), "for")
    after_eta()
    assert gov.tally(pid) == (both, 0, 0)
    assert misses_quorum(gov, pid, standing.total)
    assert gov.state(pid) == "defeated"


def test_vouching_in_full_for_both_addresses_gives_exactly_what_a_double_vouch_gives():
    """If the vouchers vouch for each address as fully as they did for the person, the two hold
    more than the person did (about 1.5x here), but not by being two: exactly what one address
    holds when its vouchers give it twice their weight. The gain is vouch weight the honest
    vouchers moved from their other vouchees (whose trust falls by as much), never trust the
    split made."""
    alone = trust_of(honest_edges())
    trust = trust_of(split(honest_edges(), vouch=1.0))
    doubled = [
        TrustEdge(e.truster, e.trustee, 2 * e.weight) if e.trustee == PERSON else e
        for e in honest_edges()
    ]
    assert trust[PERSON] + trust[SECOND] == pytest.approx(trust_of(doubled)[PERSON], rel=1e-9)
    gain = trust[PERSON] + trust[SECOND] - alone[PERSON]
    assert 0 < gain < alone[PERSON]
    others = sum(t for a, t in trust.items() if a not in (PERSON, SECOND))
    assert others == pytest.approx(sum(alone.values()) - alone[PERSON] - gain, abs=1e-12)


def test_two_addresses_vouching_for_each_other_keep_at_most_what_flows_in():
    """The same split, and the two addresses also vouch for each other, so some of the trust
    they pass on stays with them: they gain (about 1.3x here), but only as a sybil region does,
    at most (1 - d) / d times what their honest vouchers carry in per step."""
    mutual = [TrustEdge(PERSON, SECOND), TrustEdge(SECOND, PERSON)]
    edges = [*split(honest_edges(), vouch=0.5), *mutual]
    trust = trust_of(edges)
    pair = {PERSON, SECOND}
    out_weight: dict[str, float] = {}
    for e in edges:
        out_weight[e.truster] = out_weight.get(e.truster, 0.0) + e.weight
    carried_in = sum(
        trust[e.truster] * e.weight / out_weight[e.truster]
        for e in edges
        if e.trustee in pair and e.truster not in pair
    )
    held = trust[PERSON] + trust[SECOND]
    assert trust_of(honest_edges())[PERSON] < held <= (1 - DAMPING) / DAMPING * carried_in
