"""Distributor: cumulative epoch payouts that anyone can claim for any account, with signed fees.

One poster's tree is what these tests exercise (the attacks between posters sharing one
distributor are in `test_shared_distributor.py`). The payout trees are the project's own
`StandardMerkleTree` over (address, uint256) and the fee signatures the project's own EIP-712
helpers, so passing claims also prove that the contract's leaf and digest encodings are byte for
byte those of Python. Behaviour runs on titanoboa for speed; gas is measured with real
transactions on the embedded chain, whose receipts count everything a user pays (21,000 base,
calldata, cold storage and account access, refunds).
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from aigora.chain import Chain
from aigora.core.eip712 import hash_typed
from aigora.core.merkle import leaf_hash, process_proof
from aigora.payouts import CLAIM_FEE_TYPES

from .distributor_kit import (
    ENCODING,
    HOUR,
    POSTER_FUNDS,
    SECP256K1_N,
    Payouts,
    address,
    distributor_deployer,
    key,
    tree_of,
)

GAS_TARGET = 90_000
PROOF_DEPTH = 20  # a tree of 1,000,000 accounts


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    """Every test starts from, and leaves behind, the same boa state."""
    with boa.env.anchor():
        yield


@pytest.fixture
def payouts() -> Payouts:
    return Payouts.deploy()


ALICE, BOB, CAROL = address("alice"), address("bob"), address("carol")
RELAYER = address("relayer")


# ---- claims -------------------------------------------------------------------------------------


def test_claim_pays_the_cumulative_amount_then_only_the_increase(payouts: Payouts):
    payouts.post({ALICE: 100, BOB: 50})
    (log,) = payouts.claim(ALICE, 100, sender=ALICE)
    assert payouts.balance(ALICE) == 100
    assert (log.account, log.amount, log.cumulative, log.relayer, log.fee) == (
        ALICE,
        100,
        100,
        ALICE,
        0,
    )
    payouts.post({ALICE: 130, BOB: 50, CAROL: 10})
    assert payouts.claimable(ALICE, 130, payouts.proof(ALICE, 130)) == 30
    payouts.claim(ALICE, 130, sender=ALICE)
    assert payouts.balance(ALICE) == 130
    assert payouts.claimed(ALICE) == 130
    assert payouts.paid_total() == 130
    payouts.check_books()
    with boa.reverts("nothing to claim"):
        payouts.claim(ALICE, 130, sender=ALICE)


def test_anyone_may_claim_for_an_account_and_the_account_is_paid(payouts: Payouts):
    payouts.post({ALICE: 100, BOB: 50})
    relayer_before = payouts.balance(RELAYER)
    (log,) = payouts.claim(BOB, 50, sender=RELAYER)
    assert payouts.balance(BOB) == 50
    assert payouts.balance(RELAYER) == relayer_before == 0
    assert (log.account, log.relayer, log.amount, log.fee) == (BOB, RELAYER, 50, 0)


def test_an_account_that_never_held_anything_is_paid_by_a_relayer(payouts: Payouts):
    newcomer = address("newcomer who never touched a chain")
    canonical = Web3.to_bytes(hexstr=newcomer)
    assert boa.env.get_balance(newcomer) == 0
    assert boa.env.evm.vm.state.get_nonce(canonical) == 0
    assert payouts.balance(newcomer) == 0
    payouts.post({newcomer: 777, ALICE: 1})
    payouts.claim(newcomer, 777, sender=RELAYER)
    assert payouts.balance(newcomer) == 777
    assert boa.env.get_balance(newcomer) == 0
    assert boa.env.evm.vm.state.get_nonce(canonical) == 0


# ---- claims with a relayer fee ------------------------------------------------------------------


def test_fee_digest_matches_python_eip712(payouts: Payouts):
    message = {
        "poster": payouts.poster,
        "account": ALICE,
        "cumulativeAmount": 10**18,
        "fee": 7,
        "relayer": RELAYER,
        "deadline": 1234,
    }
    expected = hash_typed(payouts.domain(), CLAIM_FEE_TYPES, "ClaimFee", message)
    assert (
        payouts.distributor.claim_fee_digest(payouts.poster, ALICE, 10**18, 7, RELAYER, 1234)
        == expected
    )


def test_the_signing_domain_is_published_as_eip5267(payouts: Payouts):
    """Wallets read the domain they sign in from `eip712Domain()` (snekmate's EIP-712 module):
    all four fields (flags 0x0f), no salt, no extensions; they are the ones Python signs in."""
    fields, name, version, chain_id, contract, salt, extensions = payouts.distributor.eip712Domain()
    domain = payouts.domain()
    assert (fields, salt, extensions) == (b"\x0f", bytes(32), [])
    assert (name, version, chain_id) == (domain.name, domain.version, domain.chain_id)
    assert Web3.to_checksum_address(contract) == domain.verifying_contract


def test_claim_with_fee_pays_the_relayer_its_signed_fee(payouts: Payouts):
    alice = key("alice")
    payouts.post({ALICE: 1_000, BOB: 5})
    deadline = boa.env.timestamp + HOUR
    signature = payouts.sign_fee(alice, 1_000, 30, RELAYER, deadline)
    (log,) = payouts.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)
    assert payouts.balance(ALICE) == 970
    assert payouts.balance(RELAYER) == 30
    assert payouts.claimed(ALICE) == 1_000
    assert payouts.paid_total() == 1_000
    assert (log.account, log.amount, log.cumulative, log.relayer, log.fee) == (
        ALICE,
        1_000,
        1_000,
        RELAYER,
        30,
    )
    payouts.check_books()


def test_a_fee_signature_cannot_be_replayed(payouts: Payouts):
    alice = key("alice")
    payouts.post({ALICE: 1_000, BOB: 5})
    deadline = boa.env.timestamp + HOUR
    signature = payouts.sign_fee(alice, 1_000, 30, RELAYER, deadline)
    payouts.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)
    with boa.reverts("nothing to claim"):
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, signature, sender=RELAYER)
    # A later epoch raises Alice's cumulative amount: the old signature names the old one, whose
    # leaf is no longer under the current root.
    old_proof = payouts.proof(ALICE, 1_000)
    payouts.post({ALICE: 1_500, BOB: 5})
    with boa.reverts("proof does not match the current root"):
        payouts.claim_with_fee(
            ALICE, 1_000, 30, deadline, signature, sender=RELAYER, proof=old_proof
        )
    assert payouts.balance(RELAYER) == 30
    assert payouts.balance(ALICE) == 970


def test_claim_with_fee_refuses_bad_signatures_and_terms(payouts: Payouts):
    alice, mallory = key("alice"), key("mallory")
    payouts.post({ALICE: 1_000, BOB: 5})
    deadline = boa.env.timestamp + HOUR
    good = payouts.sign_fee(alice, 1_000, 30, RELAYER, deadline)

    by_someone_else = payouts.sign_fee(mallory, 1_000, 30, RELAYER, deadline, account=ALICE)
    with boa.reverts("signature is not the account's"):
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, by_someone_else, sender=RELAYER)
    with boa.reverts("signature is not the account's"):  # signed for another relayer
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, good, sender=address("thief"))
    with boa.reverts("signature is not the account's"):  # a larger fee than signed
        payouts.claim_with_fee(ALICE, 1_000, 31, deadline, good, sender=RELAYER)

    r, s, v = good[:32], int.from_bytes(good[32:64], "big"), good[64]
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # same signer, high s
    with boa.reverts("signature s must be in the lower half"):
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, twin, sender=RELAYER)
    with boa.reverts("signature v must be 27 or 28"):
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, good[:64] + b"\x01", sender=RELAYER)
    with boa.reverts("signature must be 65 bytes (r, s, v)"):
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, good[:64], sender=RELAYER)

    greedy = payouts.sign_fee(alice, 1_000, 1_001, RELAYER, deadline)
    with boa.reverts("fee exceeds the payout"):
        payouts.claim_with_fee(ALICE, 1_000, 1_001, deadline, greedy, sender=RELAYER)

    boa.env.time_travel(seconds=HOUR + 1)
    with boa.reverts("signature deadline has passed"):
        payouts.claim_with_fee(ALICE, 1_000, 30, deadline, good, sender=RELAYER)
    assert payouts.balance(ALICE) == payouts.balance(RELAYER) == 0
    assert payouts.claimed(ALICE) == 0


def test_the_fee_is_out_of_what_is_due_now_not_the_cumulative_amount(payouts: Payouts):
    alice = key("alice")
    payouts.post({ALICE: 1_000, BOB: 5})
    payouts.claim(ALICE, 1_000, sender=ALICE)
    payouts.post({ALICE: 1_100, BOB: 5})
    deadline = boa.env.timestamp + HOUR
    greedy = payouts.sign_fee(alice, 1_100, 101, RELAYER, deadline)
    with boa.reverts("fee exceeds the payout"):
        payouts.claim_with_fee(ALICE, 1_100, 101, deadline, greedy, sender=RELAYER)
    whole = payouts.sign_fee(alice, 1_100, 100, RELAYER, deadline)
    payouts.claim_with_fee(ALICE, 1_100, 100, deadline, whole, sender=RELAYER)
    assert (payouts.balance(ALICE), payouts.balance(RELAYER)) == (1_000, 100)


# ---- proofs -------------------------------------------------------------------------------------


def test_bad_proofs_are_refused(payouts: Payouts):
    with boa.reverts("proof does not match the current root"):  # nothing posted yet
        payouts.claim(ALICE, 100, sender=ALICE, proof=[])
    payouts.post({ALICE: 100, BOB: 50, CAROL: 25})
    old_proof = payouts.proof(ALICE, 100)
    proof = payouts.proof(ALICE, 100)
    tampered = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    for account, cumulative, bad in [
        (ALICE, 100, tampered),
        (ALICE, 101, proof),  # wrong cumulative amount
        (BOB, 100, proof),  # someone else's proof
        (ALICE, 100, proof[:-1]),
        (ALICE, 100, []),
    ]:
        assert payouts.claimable(account, cumulative, bad) == 0
        with boa.reverts("proof does not match the current root"):
            payouts.claim(account, cumulative, sender=ALICE, proof=bad)
    payouts.post({ALICE: 200, BOB: 50, CAROL: 25})
    assert payouts.claimable(ALICE, 100, old_proof) == 0
    with boa.reverts("proof does not match the current root"):  # an older epoch's root
        payouts.claim(ALICE, 100, sender=ALICE, proof=old_proof)
    assert payouts.claimable(ALICE, 200, payouts.proof(ALICE, 200)) == 200
    payouts.check_books()


def test_a_root_whose_leaves_exceed_its_total_cannot_overpay(payouts: Payouts):
    """The poster's tree says 150 in all, but the total posted (and funded) is 100."""
    payouts.post({ALICE: 100, BOB: 50}, total=100)
    payouts.token.mint(payouts.distributor.address, 1_000)  # a stray transfer in
    payouts.claim(ALICE, 100, sender=ALICE)
    with boa.reverts("payout exceeds the funded total"):
        payouts.claim(BOB, 50, sender=BOB)
    assert payouts.paid_total() == payouts.cumulative_total() == 100


# ---- posting ------------------------------------------------------------------------------------


def test_post_epoch_stores_roots_pulls_funding_and_logs(payouts: Payouts):
    d, poster = payouts.distributor, payouts.poster
    assert (d.epoch(poster), d.root(poster), d.cumulative_total(poster), d.paid_total(poster)) == (
        0,
        bytes(32),
        0,
        0,
    )
    first = payouts.post({ALICE: 100, BOB: 50})
    (log,) = payouts.logged("EpochPosted")
    assert (log.poster, log.epoch, log.root, log.cumulative_total, log.funded) == (
        poster,
        1,
        first.root,
        150,
        150,
    )
    second = payouts.post({ALICE: 100, BOB: 80})
    assert (d.epoch(poster), d.root(poster), d.roots(poster, 1), d.roots(poster, 2)) == (
        2,
        second.root,
        first.root,
        second.root,
    )
    assert d.cumulative_total(poster) == 180
    assert payouts.balance(d.address) == 180
    assert payouts.balance(poster) == POSTER_FUNDS - 180
    payouts.post({ALICE: 100, BOB: 80})  # an epoch without new earnings pulls nothing
    assert payouts.balance(d.address) == 180
    payouts.check_books()


def test_post_epoch_refusals(payouts: Payouts):
    d, poster = payouts.distributor, payouts.poster
    root = tree_of({ALICE: 100}).root
    with boa.env.prank(poster):
        for wrong in (0, 2):
            with boa.reverts("epoch must be exactly epoch() + 1 (already posted?)"):
                d.post_epoch(wrong, root, 100)
        with boa.reverts("root is empty"):
            d.post_epoch(1, bytes(32), 100)
        with boa.reverts("cumulative total does not fit in 128 bits"):
            d.post_epoch(1, root, 2**128)
        d.post_epoch(1, root, 100)
        with boa.reverts("epoch must be exactly epoch() + 1 (already posted?)"):  # a retry
            d.post_epoch(1, root, 100)
        with boa.reverts("cumulative total is below the previous epoch's"):
            d.post_epoch(2, root, 99)
        payouts.token.approve(d.address, 0)
        with boa.reverts("poster's token allowance does not cover the epoch's increase"):
            d.post_epoch(2, root, 101)
        payouts.token.approve(d.address, 2**256 - 1)
        with boa.reverts("poster's token balance does not cover the epoch's increase"):
            d.post_epoch(2, root, 100 + POSTER_FUNDS)
    assert (d.epoch(poster), d.cumulative_total(poster), payouts.balance(d.address)) == (
        1,
        100,
        100,
    )


def test_the_distributor_takes_only_a_token_and_nobody_administers_it():
    """A network shares one distributor that nobody runs: the constructor takes only the token,
    and nothing in the interface names or hands over a privileged address."""
    with boa.reverts("token is the zero address"):
        distributor_deployer().deploy("0x" + "00" * 20)
    payouts = Payouts.deploy()
    abi = payouts.distributor.abi
    functions = {item["name"] for item in abi if item.get("type") == "function"}
    assert not functions & {"poster", "set_poster", "owner", "transfer_ownership"}
    (constructor,) = [item for item in abi if item.get("type") == "constructor"]
    assert [x["type"] for x in constructor["inputs"]] == ["address"]


def test_a_new_key_starts_its_own_tree_and_the_old_one_stays_claimable(payouts: Payouts):
    """An operator that changes its key posts epoch 1 again, under the new key; what the old
    key's tree owes is still paid, from the old key's funds."""
    old = payouts
    old.post({ALICE: 100, BOB: 50})
    new = old.join("successor")
    assert old.distributor.epoch(new.poster) == 0
    new.post({ALICE: 30})  # the new key's own epoch 1, funded by the new key
    assert (old.distributor.epoch(old.poster), old.distributor.epoch(new.poster)) == (1, 1)
    old.claim(ALICE, 100, sender=RELAYER)
    old.claim(BOB, 50, sender=RELAYER)
    new.claim(ALICE, 30, sender=RELAYER)
    assert (old.balance(ALICE), old.balance(BOB)) == (130, 50)
    assert (old.paid_total(), new.paid_total()) == (150, 30)
    assert old.balance(new.poster) == POSTER_FUNDS - 30
    old.check_books()


# ---- conservation over random epochs -----------------------------------------------------------

ACCOUNTS = [key(f"contributor {i}") for i in range(5)]


@settings(max_examples=30, deadline=None)
@given(
    epochs=st.lists(
        st.lists(st.integers(0, 10**6), min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)),
        min_size=1,
        max_size=4,
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_account_receives_exactly_its_final_cumulative_amount(
    epochs: list[list[int]], seed: int
):
    """Random earnings per epoch (an account joins the tree once it has earned something); after
    each epoch a random subset of the accounts in the tree claims, in random order, sent by
    anyone, plainly or through a relayer with a random signed fee. After a final round in which
    everyone claims, each account and its relayers hold exactly its cumulative amount, and at
    every step the contract holds exactly what was funded and not yet paid."""
    rng = random.Random(seed)
    with boa.env.anchor():
        payouts = Payouts.deploy()
        cumulative = dict.fromkeys((a.address for a in ACCOUNTS), 0)
        received = dict.fromkeys(cumulative, 0)  # to the account and to relayers on its behalf
        relayers = [address(f"relayer {i}") for i in range(2)]
        for increases in [*epochs, None]:
            if increases is not None:
                for account, increase in zip(ACCOUNTS, increases, strict=True):
                    cumulative[account.address] += increase
                earners = {a: v for a, v in cumulative.items() if v > 0}
                if not earners:
                    continue
                payouts.post(earners)
                payouts.check_books()
            claimers = [
                a
                for a in ACCOUNTS
                if cumulative[a.address] > 0 and (increases is None or rng.random() < 0.5)
            ]
            rng.shuffle(claimers)
            for account in claimers:
                amount = cumulative[account.address]
                due = amount - payouts.claimed(account.address)
                sender = rng.choice([account.address, *relayers])
                if due == 0:
                    with boa.reverts("nothing to claim"):
                        payouts.claim(account.address, amount, sender=sender)
                    continue
                before = payouts.balance(account.address)
                if rng.random() < 0.5:
                    payouts.claim(account.address, amount, sender=sender)
                    assert payouts.balance(account.address) - before == due
                else:
                    relayer, fee = rng.choice(relayers), rng.randint(0, due)
                    deadline = boa.env.timestamp + HOUR
                    signature = payouts.sign_fee(account, amount, fee, relayer, deadline)
                    payouts.claim_with_fee(
                        account.address, amount, fee, deadline, signature, sender=relayer
                    )
                    assert payouts.balance(account.address) - before == due - fee
                received[account.address] += due
                payouts.check_books()
        assert all(payouts.claimed(a) == v for a, v in cumulative.items())
        assert received == cumulative
        total = sum(cumulative.values())
        assert sum(payouts.balance(a) for a in [*cumulative, *relayers]) == total
        assert payouts.cumulative_total() == payouts.paid_total() == total
        assert payouts.balance(payouts.distributor.address) == 0


# ---- gas ----------------------------------------------------------------------------------------


@dataclass
class GasBench:
    """The distributor on the embedded chain, where each transaction's receipt reports the gas a
    sender really pays: 21,000 base + calldata + execution (cold access included) - refunds."""

    chain: Chain
    token: Any
    distributor: Any
    poster: Any
    relayer: Any
    siblings: list[bytes]
    epoch: int = 0

    def root_for(self, account: str, cumulative: int) -> bytes:
        """The root of a tree of 2**20 leaves as seen from one leaf: OpenZeppelin verification
        only ever hashes the leaf with PROOF_DEPTH siblings, so random siblings stand in for the
        rest of a million-account tree."""
        return process_proof(leaf_hash(ENCODING, [account, cumulative]), self.siblings)

    def post(self, account: str, cumulative: int, total: int) -> int:
        self.epoch += 1
        fn = self.distributor.functions.post_epoch(
            self.epoch, self.root_for(account, cumulative), total
        )
        return self.chain.transact(self.poster, fn).gas_used

    def claim(self, account: str, cumulative: int) -> int:
        fn = self.distributor.functions.claim(
            self.poster.address, account, cumulative, self.siblings
        )
        return self.chain.transact(self.relayer, fn).gas_used


@pytest.fixture
def bench() -> Iterator[GasBench]:
    rng = random.Random(20)
    with Chain.embedded() as chain:
        owner, poster, relayer = chain.dev_signers()[:3]
        token, _ = chain.deploy(owner, "Token", "Aigora Dev Token", "AIGD")
        distributor, _ = chain.deploy(owner, "Distributor", token.address)
        chain.transact(owner, token.functions.mint(poster.address, POSTER_FUNDS))
        chain.transact(poster, token.functions.approve(distributor.address, 2**256 - 1))
        siblings = [rng.randbytes(32) for _ in range(PROOF_DEPTH)]
        yield GasBench(chain, token, distributor, poster, relayer, siblings)


def test_claim_gas_with_a_million_account_proof(bench: GasBench):
    """What a relayer pays for `claim` with a 20-sibling proof, on real transactions.

    - a repeat claim (the account claimed before and holds tokens): the everyday case;
    - a first claim by an account that already holds some of the token;
    - a first claim by an account that never held the token: two storage slots go from zero to
      non-zero (claimed here, the balance in the token), 20,000 gas each by the EVM's rules,
      17,100 more than the case before; no contract can avoid the token's own.
    """
    unit = 10**18
    holder, newcomer = address("gas holder"), address("gas newcomer")
    bench.chain.transact(bench.poster, bench.token.functions.transfer(holder, 1))
    bench.post(holder, 40 * unit, 1_000 * unit)
    first_claim_holding_tokens = bench.claim(holder, 40 * unit)
    bench.post(holder, 75 * unit, 1_000 * unit)
    repeat_claim = bench.claim(holder, 75 * unit)
    bench.post(newcomer, 40 * unit, 1_000 * unit)
    first_claim_newcomer = bench.claim(newcomer, 40 * unit)
    assert bench.chain.call(bench.token.functions.balanceOf(newcomer)) == 40 * unit

    assert repeat_claim <= GAS_TARGET - 20_000  # measured about 68,400
    assert first_claim_holding_tokens <= GAS_TARGET  # measured about 85,500
    # measured about 102,700: the token's zero-to-non-zero balance write, then calldata byte costs
    assert 17_100 <= first_claim_newcomer - first_claim_holding_tokens <= 17_100 + 20 * 16
    assert first_claim_newcomer <= GAS_TARGET + 17_100 - 4_000


def test_post_epoch_gas(bench: GasBench):
    """One transaction per epoch: new root slots, the totals and the token pull. The first post
    also fills the empty epoch, root and totals slots and the contract's token balance."""
    first = bench.post(ALICE, 10, 1_000)
    funded = bench.post(ALICE, 20, 2_000)
    unfunded = bench.post(ALICE, 20, 2_000)
    assert first <= 160_000  # measured about 149,500
    assert funded <= 90_000  # measured about 81,100
    assert unfunded <= 65_000  # measured about 59,400
