"""One Distributor shared by a network: every poster's tree pays only from that poster's funds.

Each node of a network posts its epochs to the same contract as its own poster (its operator
address). These tests play the attacks between posters end to end on the compiled contract: a
poster (or an account of its tree) reaching for another's funds, an account claiming twice across
trees, a fee signature replayed against another tree, a root posted without its money, a post
into someone else's tree; then random posts and claims across three posters, checking after every
step that each poster's books hold and the contract holds exactly what the posters funded and
have not paid out.
"""

import random
from collections.abc import Iterator

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .distributor_kit import HOUR, POSTER_FUNDS, Payouts, address, key, tree_of

ALICE, BOB = address("alice"), address("bob")
MALLORY, MALLORY_TOO = address("mallory"), address("mallory's other account")
RELAYER, THIEF = address("relayer"), address("thief")


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with boa.env.anchor():
        yield


@pytest.fixture
def honest() -> Payouts:
    """Poster A: an honest node whose tree owes Alice 100 and Bob 50 (funded: 150)."""
    a = Payouts.deploy("honest node")
    a.post({ALICE: 100, BOB: 50})
    return a


def test_another_posters_tree_can_never_take_an_honest_posters_funds(honest: Payouts):
    """Mallory runs poster B: her tree says she is owed far more than B funded, in the hope that
    A's 150 pay the difference. Her proofs do not match A's root, and B's claims stop at what B
    funded; Alice and Bob are then paid in full. Mallory's side ends with exactly what it put
    in."""
    a = honest
    b = a.join("mallory's node")
    b.post({MALLORY: 1_000, MALLORY_TOO: 150}, total=1_000)  # leaves add up to 1,150
    assert a.balance(a.distributor.address) == 1_150  # A's 150 are in the same contract

    for account, cumulative in ((MALLORY, 1_000), (MALLORY_TOO, 150)):
        proof = b.proof(account, cumulative)
        assert a.claimable(account, cumulative, proof) == 0
        with boa.reverts("proof does not match the current root"):  # B's leaf against A
            b.claim(account, cumulative, sender=MALLORY, poster=a.poster)
    b.claim(MALLORY, 1_000, sender=MALLORY)
    with boa.reverts("payout exceeds the funded total"):  # would come out of A's 150
        b.claim(MALLORY_TOO, 150, sender=MALLORY)
    with boa.reverts("proof does not match the current root"):  # an unposted poster's tree
        b.claim(MALLORY_TOO, 150, sender=MALLORY, poster=MALLORY, proof=[])
    assert (b.paid_total(), b.cumulative_total(), a.paid_total()) == (1_000, 1_000, 0)

    a.claim(ALICE, 100, sender=RELAYER)
    a.claim(BOB, 50, sender=RELAYER)
    assert (a.balance(ALICE), a.balance(BOB)) == (100, 50)
    mallory_side = b.balance(b.poster) + b.balance(MALLORY) + b.balance(MALLORY_TOO)
    assert mallory_side == POSTER_FUNDS  # what her poster paid in, and not a unit more
    assert a.balance(a.distributor.address) == 0
    a.check_books()


def test_an_account_in_two_trees_is_paid_each_in_full_and_neither_twice(honest: Payouts):
    """Alice earned 100 from A and 150 from B: each tree pays her its own amount once, and a
    later epoch of A pays her only A's increase."""
    a = honest
    b = a.join("second node")
    b.post({ALICE: 150, BOB: 5})
    a.claim(ALICE, 100, sender=ALICE)
    (log,) = b.claim(ALICE, 150, sender=ALICE)
    assert (log.poster, log.account, log.amount) == (b.poster, ALICE, 150)
    assert (a.claimed(ALICE), b.claimed(ALICE), a.balance(ALICE)) == (100, 150, 250)
    for tree, cumulative in ((a, 100), (b, 150)):
        with boa.reverts("nothing to claim"):
            tree.claim(ALICE, cumulative, sender=ALICE)
    a.post({ALICE: 130, BOB: 50})
    assert b.claimable(ALICE, 130, a.proof(ALICE, 130)) == 0  # A's leaf is not in B's tree
    (log,) = a.claim(ALICE, 130, sender=RELAYER)
    assert (log.poster, log.amount) == (a.poster, 30)
    assert a.balance(ALICE) == 280
    a.check_books()


def test_a_fee_signed_for_one_poster_is_worthless_against_another(honest: Payouts):
    """Alice's leaf (Alice, 1,000) is in both A's and B's trees, and she signs a fee for her
    claim against A. Replayed against B (where the same proof checks out), or sent by a thief
    who copied it, the signature is refused; a thief who front-runs with a plain claim only
    pays Alice in full. Nobody but the named relayer, in A's tree, ever gets the fee."""
    a = honest
    a.post({ALICE: 1_000, BOB: 50})
    b = a.join("second node")
    b.post({ALICE: 1_000, BOB: 7})
    alice, deadline = key("alice"), boa.env.timestamp + HOUR
    signature = a.sign_fee(alice, 1_000, 30, RELAYER, deadline)
    assert b.claimable(ALICE, 1_000, b.proof(ALICE, 1_000)) == 1_000

    with boa.reverts("signature is not the account's"):  # replayed against B
        b.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)
    with boa.reverts("signature is not the account's"):  # the thief sends it to A itself
        a.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=THIEF)
    with boa.reverts("signature is not the account's"):  # or to B
        b.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=THIEF)
    assert (b.claimed(ALICE), a.claimed(ALICE)) == (0, 0)

    (log,) = a.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)
    assert (log.poster, log.relayer, log.fee) == (a.poster, RELAYER, 30)
    with boa.reverts("nothing to claim"):  # the same signature, again against A
        a.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)
    with boa.reverts("signature is not the account's"):  # and against B, now A is spent
        b.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)

    signed_for_b = b.sign_fee(alice, 1_000, 40, RELAYER, deadline)
    b.claim(ALICE, 1_000, sender=THIEF)  # the thief front-runs the relayer with a plain claim
    with boa.reverts("nothing to claim"):
        b.claim_with_fee(ALICE, 1_000, 40, deadline, signed_for_b, sender=RELAYER)
    assert a.balance(ALICE) == 970 + 1_000
    assert (a.balance(RELAYER), a.balance(THIEF)) == (30, 0)
    a.check_books()


def test_a_poster_cannot_post_a_root_it_does_not_fund(honest: Payouts):
    """The contract holds A's 150, but a poster's root is funded from the poster's own tokens
    only: without allowance, or balance, its post reverts; a root posted with a total of 0
    (nothing to fund) pays nothing, whatever its leaves say."""
    a = honest
    distributor = a.distributor
    root = tree_of({MALLORY: 150}).root
    with boa.env.prank(MALLORY):
        with boa.reverts("poster's token allowance does not cover the epoch's increase"):
            distributor.post_epoch(1, root, 150)
        a.token.approve(distributor.address, 2**256 - 1)
        with boa.reverts("poster's token balance does not cover the epoch's increase"):
            distributor.post_epoch(1, root, 150)
    a.token.mint(MALLORY, 149)
    with (
        boa.env.prank(MALLORY),
        boa.reverts("poster's token balance does not cover the epoch's increase"),
    ):
        distributor.post_epoch(1, root, 150)
    assert distributor.epoch(MALLORY) == 0

    unfunded = Payouts(a.token, distributor, MALLORY, a.network)
    a.network.append(unfunded)
    unfunded.post({MALLORY: 150}, total=0)
    with boa.reverts("payout exceeds the funded total"):
        unfunded.claim(MALLORY, 150, sender=MALLORY)
    assert (a.balance(MALLORY), a.balance(distributor.address)) == (149, 150)
    a.claim(ALICE, 100, sender=RELAYER)
    a.claim(BOB, 50, sender=RELAYER)
    a.check_books()


def test_a_poster_cannot_post_into_another_posters_tree(honest: Payouts):
    """`post_epoch` names no poster: it always writes msg.sender's tree. Mallory posting A's
    next epoch number lands nowhere (her own counter is at 0); her epoch 1 lands in her tree
    only, and A's epoch, root, roots and totals are unchanged, A's proofs still paying."""
    a = honest
    distributor = a.distributor
    (post,) = [x for x in distributor.abi if x.get("name") == "post_epoch"]
    assert [x["type"] for x in post["inputs"]] == ["uint256", "bytes32", "uint256"]
    before = (
        distributor.epoch(a.poster),
        distributor.root(a.poster),
        distributor.roots(a.poster, 1),
        a.cumulative_total(),
    )
    mallory = a.join("mallory's node")
    evil = tree_of({MALLORY: 150})
    with (
        boa.env.prank(mallory.poster),
        boa.reverts("epoch must be exactly epoch() + 1 (already posted?)"),
    ):
        distributor.post_epoch(2, evil.root, 150)
    mallory.post({MALLORY: 150})
    after = (
        distributor.epoch(a.poster),
        distributor.root(a.poster),
        distributor.roots(a.poster, 1),
        a.cumulative_total(),
    )
    assert after == before == (1, a.tree.root, a.tree.root, 150)
    assert distributor.roots(mallory.poster, 1) == evil.root
    with boa.reverts("proof does not match the current root"):
        mallory.claim(MALLORY, 150, sender=MALLORY, poster=a.poster)
    a.claim(ALICE, 100, sender=RELAYER)
    mallory.claim(MALLORY, 150, sender=MALLORY)
    assert (a.balance(ALICE), a.balance(MALLORY)) == (100, 150)
    a.check_books()


# ---- random posts and claims across three posters ---------------------------------------------

POSTERS = 3
ACCOUNTS = [key(f"contributor {i}") for i in range(4)]
RELAYERS = [address(f"relayer {i}") for i in range(2)]


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(
                st.just("post"),
                st.integers(0, POSTERS - 1),
                st.lists(st.integers(0, 10**6), min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)),
            ),
            st.tuples(
                st.just("claim"),
                st.integers(0, POSTERS - 1),
                st.integers(0, len(ACCOUNTS) - 1),
            ),
        ),
        min_size=1,
        max_size=12,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_posters_books_hold_and_the_contract_holds_exactly_what_is_owed(
    steps: list[tuple], seed: int
):
    """Random posts (an increase per account, a poster's tree holding the accounts it has paid
    anything) and claims (plain, or through a relayer with a signed fee; sometimes aimed at
    another poster's tree with this one's proof) across three posters. After every step, for
    every poster P: paid_total(P) <= cumulative_total(P) == what P's posts pulled, and the
    contract's balance is the sum over posters of cumulative_total - paid_total. At the end
    everyone claims everything from every tree, and each account (with its relayers) has
    received exactly the sum of its cumulative amounts over the posters."""
    rng = random.Random(seed)
    with boa.env.anchor():
        first = Payouts.deploy("poster 0")
        posters = [first, *(first.join(f"poster {i}") for i in range(1, POSTERS))]
        cumulative = [dict.fromkeys((a.address for a in ACCOUNTS), 0) for _ in posters]
        received = dict.fromkeys(cumulative[0], 0)

        def claim(p: int, account: int) -> None:
            tree, owed = posters[p], cumulative[p]
            who = ACCOUNTS[account].address
            if not tree.trees or owed[who] == 0:
                return
            amount, proof = owed[who], tree.proof(who, owed[who])
            other = posters[rng.randrange(POSTERS)]
            if [t.root for t in other.trees[-1:]] != [tree.tree.root]:  # another root
                with boa.reverts("proof does not match the current root"):
                    tree.claim(who, amount, sender=RELAYERS[0], proof=proof, poster=other.poster)
            due = amount - tree.claimed(who)
            if due == 0:
                with boa.reverts("nothing to claim"):
                    tree.claim(who, amount, sender=who)
                return
            before = tree.balance(who)
            if rng.random() < 0.5:
                tree.claim(who, amount, sender=rng.choice([who, *RELAYERS]))
                assert tree.balance(who) - before == due
            else:
                relayer, fee = rng.choice(RELAYERS), rng.randint(0, due)
                deadline = boa.env.timestamp + HOUR
                signature = tree.sign_fee(ACCOUNTS[account], amount, fee, relayer, deadline)
                tree.claim_with_fee(who, amount, fee, deadline, signature, sender=relayer)
                assert tree.balance(who) - before == due - fee
            received[who] += due

        for step in steps:
            if step[0] == "post":
                _, p, increases = step
                for account, increase in zip(ACCOUNTS, increases, strict=True):
                    cumulative[p][account.address] += increase
                earners = {a: v for a, v in cumulative[p].items() if v > 0}
                if earners:
                    posters[p].post(earners)
            else:
                claim(step[1], step[2])
            first.check_books()
        for p in range(POSTERS):
            for account in range(len(ACCOUNTS)):
                claim(p, account)
                first.check_books()
        for tree, owed in zip(posters, cumulative, strict=True):
            assert all(tree.claimed(a) == v for a, v in owed.items())
            assert tree.paid_total() == tree.cumulative_total() == sum(owed.values())
        assert received == {a: sum(owed[a] for owed in cumulative) for a in received}
        paid_out = sum(first.balance(a) for a in [*received, *RELAYERS])
        assert paid_out == sum(sum(owed.values()) for owed in cumulative)
        assert first.balance(first.distributor.address) == 0
