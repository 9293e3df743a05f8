"""Channels: an asker's deposit with an operator, spent by cumulative EIP-712 vouchers that
anyone may redeem for the operator, and withdrawn by the asker after a delay.

Behaviour runs on titanoboa; the vouchers are signed with the project's own EIP-712 helpers
(`aigora.asks`), so a passing redemption also proves the contract's digest is byte for byte
Python's. Every promise is played as an attack: the operator never takes more than the largest
cumulative the asker signed, a voucher never pays twice, nobody but the asker signs for its
channel (not its own second address), a voucher names one operator, and the asker gets back
exactly what it deposited less what was redeemed.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boa
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.asks import (
    VOUCHER_TYPES,
    Payment,
    channels_domain,
    sign_voucher,
    sign_withdrawal,
)
from aigora.chain import ChannelRecord, compile_contract
from aigora.chain.compile import source_path
from aigora.core.eip712 import Domain, hash_typed
from aigora.core.hashing import keccak

DELAY = 24 * 3600
FUNDS = 10**24
CODE_LIMIT = 24_576


def key(label: str) -> LocalAccount:
    return Account.from_key(keccak(label.encode()))


ASKER_KEY, SECOND_KEY, STRANGER_KEY = key("asker"), key("asker's second"), key("stranger")
ASKER, SECOND, STRANGER = ASKER_KEY.address, SECOND_KEY.address, STRANGER_KEY.address
OPERATOR, OTHER_OPERATOR, FRIEND = (key(x).address for x in ("operator", "other op", "friend"))


@cache
def _deployers() -> tuple[Any, Any]:
    return boa.load_partial(str(source_path("Token"))), boa.load_partial(
        str(source_path("Channels"))
    )


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with boa.env.anchor():
        yield


@dataclass
class Channels:
    """A token, the channels contract and funded depositors that approved it."""

    token: Any
    contract: Any
    signed: dict[tuple[str, str], int] = field(default_factory=dict)

    @classmethod
    def deploy(cls) -> "Channels":
        token_deployer, channels_deployer = _deployers()
        token = token_deployer.deploy("Aigora Dev Token", "AIGD")
        contract = channels_deployer.deploy(token.address, DELAY)
        for who in (ASKER, SECOND, FRIEND, STRANGER):
            token.mint(who, FUNDS)
            with boa.env.prank(who):
                token.approve(contract.address, 2**256 - 1)
        return cls(token, contract)

    @property
    def domain(self) -> Domain:
        return channels_domain(boa.env.evm.patch.chain_id, self.contract.address)

    def deposit(self, amount: int, *, asker: str = ASKER, operator: str = OPERATOR, by=ASKER):
        with boa.env.prank(by):
            self.contract.deposit(asker, operator, amount)

    def voucher(
        self,
        cumulative: int,
        *,
        signer: LocalAccount = ASKER_KEY,
        asker: str | None = None,
        operator: str = OPERATOR,
    ) -> Payment:
        """A voucher for `cumulative`, signed by `signer` in the name of `asker` (default: the
        signer itself); remembers the largest cumulative each asker really signed."""
        named = asker or signer.address
        if named == signer.address:
            key_ = (named, operator)
            self.signed[key_] = max(self.signed.get(key_, 0), cumulative)
        signed = sign_voucher(
            signer, self.domain, asker=signer.address, operator=operator, cumulative=cumulative
        )
        return Payment(named, cumulative, signed.signature)

    def redeem(self, payment: Payment, *, operator: str = OPERATOR, by: str = STRANGER) -> int:
        with boa.env.prank(by):
            return self.contract.redeem(
                payment.asker, operator, payment.cumulative, payment.signature
            )

    def redeem_many(self, vouchers: list[tuple[Payment, str]], *, by: str = STRANGER) -> int:
        batch = [(p.asker, op, p.cumulative, p.signature) for p, op in vouchers]
        with boa.env.prank(by):
            return self.contract.redeem_many(batch)

    def channel(self, asker: str = ASKER, operator: str = OPERATOR) -> ChannelRecord:
        return ChannelRecord(*self.contract.channel(asker, operator))

    def balance(self, who: str) -> int:
        return self.token.balanceOf(who)

    def logged(self, event: str) -> list[Any]:
        return [e for e in self.contract.get_logs() if type(e).__name__ == event]


@pytest.fixture
def channels() -> Channels:
    return Channels.deploy()


# ---- deposits and digests -----------------------------------------------------------------------


def test_anyone_may_fund_anyones_channel(channels: Channels):
    channels.deposit(500, by=FRIEND)  # a gift: the asker holds nothing and signs nothing
    (log,) = channels.logged("Deposited")
    assert (log.asker, log.operator, log.funder, log.amount, log.balance) == (
        ASKER,
        OPERATOR,
        FRIEND,
        500,
        500,
    )
    channels.deposit(250)
    assert channels.channel() == ChannelRecord(balance=750, redeemed=0, unlocks_at=0, nonce=0)
    assert channels.balance(channels.contract.address) == 750
    with boa.reverts("nothing to deposit"):
        channels.deposit(0)
    with boa.reverts("operator is the zero address"):
        channels.deposit(1, operator="0x" + "00" * 20)


def test_the_voucher_digest_is_pythons(channels: Channels):
    message = {"asker": ASKER, "operator": OPERATOR, "cumulative": 12345}
    expected = hash_typed(channels.domain, VOUCHER_TYPES, "Voucher", message)
    assert channels.contract.voucher_digest(ASKER, OPERATOR, 12345) == expected
    fields = channels.contract.eip712Domain()
    assert (fields[1], fields[2], fields[3], fields[4]) == (
        "Aigora Channels",
        "1",
        boa.env.evm.patch.chain_id,
        channels.contract.address,
    )


def test_the_runtime_stays_far_below_the_code_limit():
    assert len(compile_contract("Channels").runtime) < CODE_LIMIT // 2


# ---- redemption ---------------------------------------------------------------------------------


def test_a_voucher_pays_the_rise_once_to_the_operator_whoever_sends_it(channels: Channels):
    channels.deposit(1000)
    assert channels.redeem(channels.voucher(300)) == 300
    assert channels.balance(OPERATOR) == 300
    assert channels.balance(STRANGER) == FUNDS  # the sender gets nothing
    (log,) = channels.logged("Redeemed")
    assert (log.amount, log.redeemed, log.cumulative) == (300, 300, 300)
    with boa.reverts("nothing to redeem"):
        channels.redeem(channels.voucher(300))  # the same voucher again
    with boa.reverts("nothing to redeem"):
        channels.redeem(channels.voucher(200))  # an older one
    assert channels.redeem(channels.voucher(450), by=OPERATOR) == 150
    assert channels.channel() == ChannelRecord(balance=550, redeemed=450, unlocks_at=0, nonce=0)
    assert channels.balance(OPERATOR) == 450


def test_a_forged_voucher_pays_nothing(channels: Channels):
    channels.deposit(1000)
    forged = channels.voucher(1000, signer=STRANGER_KEY, asker=ASKER)
    with boa.reverts("signature is not the asker's"):
        channels.redeem(forged, by=OPERATOR)
    bad = Payment(ASKER, 1000, b"\x11" * 65)
    with boa.reverts("signature v must be 27 or 28"):
        channels.redeem(bad)
    assert channels.balance(OPERATOR) == 0


def test_the_askers_second_address_cannot_sign_for_its_first(channels: Channels):
    """One person, two addresses: a voucher the second key signs spends only the second
    address's channel, never the first's deposit."""
    channels.deposit(1000)
    from_second = channels.voucher(1000, signer=SECOND_KEY, asker=ASKER)
    with boa.reverts("signature is not the asker's"):
        channels.redeem(from_second, by=OPERATOR)
    with boa.reverts("nothing to redeem"):  # its own channel is empty
        channels.redeem(channels.voucher(1000, signer=SECOND_KEY))
    assert channels.channel().balance == 1000


def test_a_voucher_names_one_operator(channels: Channels):
    """A voucher signed for OPERATOR redeems nothing in the asker's channel with another
    operator (nor with the operator's own second address)."""
    channels.deposit(1000)
    channels.deposit(1000, operator=OTHER_OPERATOR)
    voucher = channels.voucher(400)
    with boa.reverts("signature is not the asker's"):
        channels.redeem(voucher, operator=OTHER_OPERATOR, by=OTHER_OPERATOR)
    assert channels.redeem(voucher) == 400
    assert channels.balance(OTHER_OPERATOR) == 0
    assert channels.channel(operator=OTHER_OPERATOR).balance == 1000


def test_a_voucher_of_another_contract_or_chain_pays_nothing(channels: Channels):
    channels.deposit(1000)
    other = Channels.deploy()
    elsewhere = other.voucher(500)
    with boa.reverts("signature is not the asker's"):
        channels.redeem(elsewhere)
    other_chain = Domain("Aigora Channels", "1", 999, channels.contract.address)
    signed = sign_voucher(ASKER_KEY, other_chain, asker=ASKER, operator=OPERATOR, cumulative=500)
    with boa.reverts("signature is not the asker's"):
        channels.redeem(signed)


def test_an_uncovered_voucher_pays_what_is_there_and_the_rest_after_a_deposit(
    channels: Channels,
):
    channels.deposit(100)
    voucher = channels.voucher(250)
    assert channels.redeem(voucher) == 100
    assert channels.channel() == ChannelRecord(balance=0, redeemed=100, unlocks_at=0, nonce=0)
    with boa.reverts("nothing to redeem"):
        channels.redeem(voucher)  # nothing left to pay from
    channels.deposit(1000)
    assert channels.redeem(voucher) == 150  # the rest of what was signed, no more
    with boa.reverts("nothing to redeem"):
        channels.redeem(voucher)
    assert channels.balance(OPERATOR) == 250
    assert channels.channel().balance == 850


def test_one_bad_voucher_does_not_block_a_batch(channels: Channels):
    channels.deposit(1000)
    channels.deposit(1000, asker=SECOND, by=SECOND)
    good, second = channels.voucher(300), channels.voucher(200, signer=SECOND_KEY)
    forged = channels.voucher(900, signer=STRANGER_KEY, asker=ASKER)
    malformed = Payment(ASKER, 900, b"\x00" * 64)
    zero = Payment("0x" + "00" * 20, 5, b"\x00" * 65)
    batch = [(forged, OPERATOR), (malformed, OPERATOR), (zero, OPERATOR), (good, OPERATOR)]
    batch += [(second, OPERATOR), (good, OPERATOR)]  # the same voucher twice pays once
    assert channels.redeem_many(batch) == 500
    skipped = [(log.cumulative, log.reason) for log in channels.logged("VoucherSkipped")]
    assert skipped == [
        (900, "signature is not the asker's"),
        (900, "signature is not the asker's"),
        (5, "signature is not the asker's"),
        (300, "nothing to redeem"),
    ]
    assert channels.balance(OPERATOR) == 500
    assert channels.channel().redeemed == 300
    assert channels.channel(SECOND).redeemed == 200


# ---- withdrawal ---------------------------------------------------------------------------------


def test_a_withdrawal_waits_for_the_delay_and_pays_the_asker_only(channels: Channels):
    channels.deposit(1000)
    channels.redeem(channels.voucher(300))
    with boa.reverts("no withdrawal requested"):
        channels.contract.withdraw(ASKER, OPERATOR)
    with boa.env.prank(ASKER):
        channels.contract.request_withdrawal(OPERATOR)
    unlocks_at = channels.channel().unlocks_at
    assert unlocks_at == boa.env.timestamp + DELAY
    with boa.env.prank(ASKER), boa.reverts("a withdrawal is already requested"):
        channels.contract.request_withdrawal(OPERATOR)  # the clock cannot be reset
    boa.env.time_travel(seconds=DELAY - 1)
    with boa.reverts("the withdrawal delay has not passed"):
        channels.contract.withdraw(ASKER, OPERATOR)
    boa.env.time_travel(seconds=1)
    before = channels.balance(ASKER)
    with boa.env.prank(STRANGER):
        assert channels.contract.withdraw(ASKER, OPERATOR) == 700
    assert channels.balance(ASKER) - before == 700
    assert channels.balance(STRANGER) == FUNDS
    assert channels.channel() == ChannelRecord(balance=0, redeemed=300, unlocks_at=0, nonce=0)
    with boa.reverts("no withdrawal requested"):
        channels.contract.withdraw(ASKER, OPERATOR)


def test_the_operator_may_redeem_what_was_signed_during_the_delay_and_no_more(
    channels: Channels,
):
    """The asker signs for 400, then at once asks for its deposit back (front-running the
    operator's redemption). The operator still redeems the 400 within the delay; it has no
    voucher for more, and the asker gets exactly the rest."""
    channels.deposit(1000)
    signed = channels.voucher(400)
    with boa.env.prank(ASKER):
        channels.contract.request_withdrawal(OPERATOR)
    boa.env.time_travel(seconds=DELAY - 10)
    forged = channels.voucher(1000, signer=SECOND_KEY, asker=ASKER)
    with boa.reverts("signature is not the asker's"):
        channels.redeem(forged, by=OPERATOR)
    assert channels.redeem(signed, by=OPERATOR) == 400
    boa.env.time_travel(seconds=10)
    with boa.env.prank(ASKER):
        assert channels.contract.withdraw(ASKER, OPERATOR) == 600
    assert channels.balance(OPERATOR) == 400


def test_an_operator_that_sleeps_through_the_delay_loses_what_it_did_not_redeem(
    channels: Channels,
):
    """The rule against front-running cuts both ways: after the delay the deposit leaves with
    the asker; the old voucher stays valid and pays only from a later deposit."""
    channels.deposit(1000)
    signed = channels.voucher(400)
    with boa.env.prank(ASKER):
        channels.contract.request_withdrawal(OPERATOR)
    boa.env.time_travel(seconds=DELAY)
    with boa.env.prank(ASKER):
        assert channels.contract.withdraw(ASKER, OPERATOR) == 1000
    with boa.reverts("nothing to redeem"):
        channels.redeem(signed, by=OPERATOR)
    channels.deposit(100)
    assert channels.redeem(signed, by=OPERATOR) == 100


def test_a_relayed_withdrawal_request_needs_the_askers_signature_once(channels: Channels):
    channels.deposit(1000)
    deadline = boa.env.timestamp + 2 * DELAY

    def signed(signer: LocalAccount, *, nonce: int = 0, operator: str = OPERATOR) -> bytes:
        return sign_withdrawal(
            signer, channels.domain, asker=ASKER, operator=operator, nonce=nonce, deadline=deadline
        )

    contract = channels.contract
    with boa.env.prank(STRANGER):
        for forged in (signed(SECOND_KEY), signed(ASKER_KEY, operator=OTHER_OPERATOR)):
            with boa.reverts("signature is not the asker's"):
                contract.request_withdrawal_for(ASKER, OPERATOR, deadline, forged)
        with boa.reverts("signature is not the asker's"):  # signed for a later nonce
            contract.request_withdrawal_for(ASKER, OPERATOR, deadline, signed(ASKER_KEY, nonce=1))
        contract.request_withdrawal_for(ASKER, OPERATOR, deadline, signed(ASKER_KEY))
    assert channels.channel().nonce == 1
    assert channels.channel().unlocks_at == boa.env.timestamp + DELAY
    boa.env.time_travel(seconds=DELAY)
    with boa.env.prank(STRANGER):
        assert contract.withdraw(ASKER, OPERATOR) == 1000
        with boa.reverts("signature is not the asker's"):  # the used signature, replayed
            contract.request_withdrawal_for(ASKER, OPERATOR, deadline, signed(ASKER_KEY))
    late = signed(ASKER_KEY, nonce=1)
    boa.env.time_travel(seconds=DELAY + 1)
    with boa.env.prank(STRANGER), boa.reverts("signature deadline has passed"):
        contract.request_withdrawal_for(ASKER, OPERATOR, deadline, late)


# ---- the invariant, under any interleaving -----------------------------------------------------

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(1, 500)),
        st.tuples(st.just("sign"), st.integers(0, 300)),
        st.tuples(st.just("redeem"), st.integers(0, 50)),  # which signed voucher (old ones too)
        st.tuples(st.just("forge"), st.integers(1, 10_000)),
        st.tuples(st.just("request"), st.just(0)),
        st.tuples(st.just("wait"), st.integers(0, DELAY)),
        st.tuples(st.just("withdraw"), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(actions=ACTIONS)
def test_the_operator_never_gets_more_than_signed_and_the_asker_gets_the_rest(actions):
    """Whatever the order of deposits, vouchers, redemptions (replays and forgeries included),
    requests, waiting and withdrawals: the operator receives exactly the channel's `redeemed`,
    never more than the largest cumulative the asker signed, and the asker gets back exactly
    what was deposited less what was redeemed."""
    with boa.env.anchor():
        channels = Channels.deploy()
        vouchers: list[Payment] = []
        deposited, withdrawn, cumulative = 0, 0, 0
        for action, value in actions:
            if action == "deposit":
                channels.deposit(value, by=FRIEND)
                deposited += value
            elif action == "sign":
                cumulative += value
                vouchers.append(channels.voucher(cumulative))
            elif action == "redeem" and vouchers:
                voucher, before = vouchers[value % len(vouchers)], channels.channel()
                due = min(max(voucher.cumulative - before.redeemed, 0), before.balance)
                if due:
                    assert channels.redeem(voucher) == due
                else:
                    with boa.reverts("nothing to redeem"):
                        channels.redeem(voucher)
            elif action == "forge":
                forged = channels.voucher(cumulative + value, signer=SECOND_KEY, asker=ASKER)
                channels.redeem_many([(forged, OPERATOR)])
            elif action == "request" and not channels.channel().unlocks_at:
                with boa.env.prank(ASKER):
                    channels.contract.request_withdrawal(OPERATOR)
            elif action == "wait":
                boa.env.time_travel(seconds=value)
            elif action == "withdraw":
                record = channels.channel()
                if record.unlocks_at and boa.env.timestamp >= record.unlocks_at:
                    with boa.env.prank(STRANGER):
                        withdrawn += channels.contract.withdraw(ASKER, OPERATOR)
            record = channels.channel()
            paid = channels.balance(OPERATOR)
            assert paid == record.redeemed <= channels.signed.get((ASKER, OPERATOR), 0)
            assert record.balance == deposited - paid - withdrawn
            assert channels.balance(channels.contract.address) == record.balance
        record = channels.channel()
        if not record.unlocks_at:
            with boa.env.prank(ASKER):
                channels.contract.request_withdrawal(OPERATOR)
        boa.env.time_travel(seconds=DELAY)
        withdrawn += channels.contract.withdraw(ASKER, OPERATOR)
        assert withdrawn == deposited - channels.channel().redeemed
        assert channels.balance(ASKER) == FUNDS + withdrawn


# ---- signatures the contract must refuse ------------------------------------------------------

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def high_s_twin(signature: bytes) -> bytes:
    """The other valid signature of the same digest and key: (r, n - s, v flipped)."""
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def test_a_malleable_twin_or_a_signature_recovering_nobody_pays_nothing(channels: Channels):
    """The high-s twin of the asker's own voucher (ecrecover accepts it) and signatures for which
    ecrecover returns the zero address are refused by redeem, skipped by redeem_many, and refused
    for a relayed withdrawal request: nothing is paid and the channel is untouched."""
    channels.deposit(1000)
    voucher = channels.voucher(300)
    twin = Payment(ASKER, 300, high_s_twin(voucher.signature))
    assert twin.signature != voucher.signature
    with boa.reverts("signature s must be in the lower half"):
        channels.redeem(twin)
    nobody = [b"\x00" * 64 + b"\x1b", b"\xff" * 32 + b"\x01" * 32 + b"\x1c"]  # r = 0; r >= n
    zero = "0x" + "00" * 20
    for signature in nobody:
        with boa.reverts("signature does not recover"):
            channels.redeem(Payment(ASKER, 300, signature))
        with boa.reverts("signature does not recover"):
            channels.redeem(Payment(zero, 300, signature))
    batch = [(twin, OPERATOR)] + [(Payment(zero, 300, s), OPERATOR) for s in nobody]
    assert channels.redeem_many(batch) == 0
    assert len(channels.logged("VoucherSkipped")) == 3
    deadline = boa.env.timestamp + DELAY
    request = sign_withdrawal(
        ASKER_KEY, channels.domain, asker=ASKER, operator=OPERATOR, nonce=0, deadline=deadline
    )
    with boa.env.prank(STRANGER), boa.reverts("signature s must be in the lower half"):
        channels.contract.request_withdrawal_for(ASKER, OPERATOR, deadline, high_s_twin(request))
    assert channels.channel() == ChannelRecord(balance=1000, redeemed=0, unlocks_at=0, nonce=0)
    assert channels.redeem(voucher) == 300  # the asker's own low-s signature still pays once


# ---- a token that calls back ------------------------------------------------------------------

HOOK_TOKEN = """
# pragma version ~=0.4.3
interface Hook:
    def on_token(_amount: uint256): nonpayable

balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])
hooked: public(address)

@external
def mint(_to: address, _value: uint256):
    self.balanceOf[_to] += _value

@external
def hook(_who: address):
    self.hooked = _who

@external
def approve(_spender: address, _value: uint256) -> bool:
    self.allowance[msg.sender][_spender] = _value
    return True

@external
def transfer(_to: address, _value: uint256) -> bool:
    self.balanceOf[msg.sender] -= _value
    self.balanceOf[_to] += _value
    if _to == self.hooked:
        extcall Hook(_to).on_token(_value)  # after the move, like ERC-777 tokensReceived
    return True

@external
def transferFrom(_from: address, _to: address, _value: uint256) -> bool:
    if _from == self.hooked:
        extcall Hook(_from).on_token(_value)  # before the move, like ERC-777 tokensToSend
    self.allowance[_from][msg.sender] -= _value
    self.balanceOf[_from] -= _value
    self.balanceOf[_to] += _value
    return True
"""

REENTRANT = """
# pragma version ~=0.4.3
interface Token:
    def approve(_spender: address, _value: uint256) -> bool: nonpayable

interface Channels:
    def deposit(_asker: address, _operator: address, _amount: uint256): nonpayable

channels: public(address)
asker: public(address)
operator: public(address)
cumulative: public(uint256)
signature: public(Bytes[65])
entered: public(uint256)
reentries_paid: public(uint256)

@deploy
def __init__(_channels: address, _token: address):
    self.channels = _channels
    extcall Token(_token).approve(_channels, max_value(uint256))

@external
def arm(_asker: address, _operator: address, _cumulative: uint256, _signature: Bytes[65]):
    self.asker = _asker
    self.operator = _operator
    self.cumulative = _cumulative
    self.signature = _signature

@external
def fund(_asker: address, _operator: address, _amount: uint256):
    extcall Channels(self.channels).deposit(_asker, _operator, _amount)

@external
def on_token(_amount: uint256):
    if self.entered > 0:
        return
    self.entered = 1
    ok: bool = False
    out: Bytes[32] = b""
    ok, out = raw_call(
        self.channels,
        abi_encode(
            self.asker, self.operator, self.cumulative, self.signature,
            method_id=method_id("redeem(address,address,uint256,bytes)"),
        ),
        max_outsize=32,
        revert_on_failure=False,
    )
    if ok:
        self.reentries_paid += convert(out, uint256)
    ok, out = raw_call(
        self.channels,
        abi_encode(
            self.asker, self.operator, method_id=method_id("withdraw(address,address)")
        ),
        max_outsize=32,
        revert_on_failure=False,
    )
    if ok:
        self.reentries_paid += convert(out, uint256)
"""


def test_a_token_that_calls_back_cannot_pay_a_voucher_twice_nor_unbalance_the_channels():
    """With a token that calls the receiver after a transfer and the sender before a pull
    (ERC-777 style): the operator, a contract, re-enters redeem with the same voucher and tries
    withdraw while it is being paid; a funder re-enters withdraw of an unlocked channel while its
    deposit is being pulled. The operator gets exactly the voucher, the re-entered redeem pays
    nothing, and the contract's token balance stays the sum of its channels."""
    token = boa.loads(HOOK_TOKEN)
    contract = _deployers()[1].deploy(token.address, DELAY)
    operator = boa.loads(REENTRANT, contract.address, token.address)
    victim_channel = (SECOND, OTHER_OPERATOR)
    for who in (ASKER, SECOND):
        token.mint(who, FUNDS)
        with boa.env.prank(who):
            token.approve(contract.address, 2**256 - 1)
    with boa.env.prank(SECOND):
        contract.deposit(*victim_channel, 5000)
    with boa.env.prank(ASKER):
        contract.deposit(ASKER, operator.address, 1000)
    domain = channels_domain(boa.env.evm.patch.chain_id, contract.address)
    voucher = sign_voucher(
        ASKER_KEY, domain, asker=ASKER, operator=operator.address, cumulative=400
    )
    operator.arm(ASKER, operator.address, 400, voucher.signature)
    token.hook(operator.address)
    with boa.env.prank(STRANGER):
        assert contract.redeem(ASKER, operator.address, 400, voucher.signature) == 400
    assert operator.entered() == 1
    assert operator.reentries_paid() == 0
    assert token.balanceOf(operator.address) == 400
    assert ChannelRecord(*contract.channel(ASKER, operator.address)).redeemed == 400

    funder = boa.loads(REENTRANT, contract.address, token.address)  # now the funder calls back
    token.mint(funder.address, 700)
    with boa.env.prank(ASKER):
        contract.request_withdrawal(operator.address)
    boa.env.time_travel(seconds=DELAY)
    funder.arm(ASKER, operator.address, 400, voucher.signature)
    token.hook(funder.address)
    before = token.balanceOf(ASKER)
    funder.fund(ASKER, operator.address, 700)  # withdraws 600 + 700 from inside the pull
    assert funder.reentries_paid() == 1300
    assert token.balanceOf(ASKER) - before == 1300
    asker_channel = ChannelRecord(*contract.channel(ASKER, operator.address))
    assert asker_channel.balance == 0
    assert token.balanceOf(contract.address) == 5000  # the victim's channel, whole
    assert ChannelRecord(*contract.channel(*victim_channel)).balance == 5000
