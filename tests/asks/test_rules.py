"""The rules a paid ask's voucher must pass, as pure functions: each refuses what it names and
nothing else, and together they never accept a voucher the operator could not redeem in full or
that would pay for one ask twice."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aigora.asks import (
    PASSES_PER_DELAY,
    BadVoucher,
    NoTimeToRedeem,
    NotWorthRelaying,
    Payment,
    PaymentRequired,
    StaleVoucher,
    Uncovered,
    WithdrawalPending,
    channels_domain,
    check_channel,
    check_covered,
    check_cumulative_increases,
    check_no_pending_withdrawal,
    check_redeems_in_time,
    check_signature,
    check_worth_relaying,
    next_cumulative,
    sign_voucher,
)
from aigora.chain import ChannelRecord
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer

ASKER = Signer.dev(bytes([0x51]) * 32)
OTHER = Signer.dev(bytes([0x52]) * 32)
OPERATOR = Signer.dev(bytes([0x53]) * 32).address
DOMAIN = channels_domain(31337, "0x" + "ab" * 20)
FEE = 100


def voucher(cumulative: int, signer: Signer = ASKER, **changes) -> Payment:
    domain = changes.pop("domain", DOMAIN)
    operator = changes.pop("operator", OPERATOR)
    signed = sign_voucher(
        signer, domain, asker=signer.address, operator=operator, cumulative=cumulative
    )
    return Payment(ASKER.address, cumulative, signed.signature)


def test_the_askers_own_signature_passes_and_anyone_elses_is_refused():
    check_signature(DOMAIN, OPERATOR, voucher(FEE))
    for forged in (
        voucher(FEE, OTHER),
        voucher(FEE, operator=OTHER.address),
        voucher(FEE, domain=channels_domain(1, DOMAIN.verifying_contract)),
        voucher(FEE, domain=channels_domain(31337, "0x" + "cd" * 20)),
        Payment(ASKER.address, FEE + 1, voucher(FEE).signature),  # another amount
    ):
        with pytest.raises(BadVoucher):
            check_signature(DOMAIN, OPERATOR, forged)
    for malformed in (b"", b"\x00" * 65, os.urandom(64)):
        with pytest.raises(BadVoucher, match="malformed"):
            check_signature(DOMAIN, OPERATOR, Payment(ASKER.address, FEE, malformed))


def test_a_payment_as_json_is_parsed_strictly():
    signature = "0x" + voucher(FEE).signature.hex()
    parsed = Payment.parse(ASKER.address.lower(), str(FEE), signature)
    assert parsed == Payment(ASKER.address, FEE, voucher(FEE).signature)  # checksummed
    assert Payment.parse(*parsed.to_json().values()) == parsed
    for bad in (
        ("0x12", "1", signature),
        (ASKER.address, "-1", signature),
        (ASKER.address, str(2**256), signature),
        (ASKER.address, "1", "0x12"),
    ):
        with pytest.raises(AigoraError, match=r"is not|signature"):
            Payment.parse(*bad)


def test_a_pending_withdrawal_refuses_every_voucher():
    check_no_pending_withdrawal(ChannelRecord(10, 0, 0, 0))
    with pytest.raises(WithdrawalPending):
        check_no_pending_withdrawal(ChannelRecord(10, 0, 12345, 0))
    assert issubclass(WithdrawalPending, PaymentRequired)  # 402


@given(
    accepted=st.integers(0, 10**30),
    redeemed=st.integers(0, 10**30),
    fee=st.integers(1, 10**20),
    offset=st.integers(-(10**20), 10**20),
)
def test_only_the_next_cumulative_is_taken(accepted, redeemed, fee, offset):
    """Exactly what is owed already plus one fee: a replay, an older voucher, one below what the
    channel has redeemed, or one for more than an ask costs is refused."""
    cumulative = max(accepted, redeemed) + fee + offset
    if offset == 0:
        check_cumulative_increases(cumulative, accepted, redeemed, fee)
        assert cumulative == next_cumulative(accepted, redeemed, fee)
    else:
        with pytest.raises(StaleVoucher):
            check_cumulative_increases(cumulative, accepted, redeemed, fee)


@given(
    balance=st.integers(0, 10**30),
    redeemed=st.integers(0, 10**30),
    cumulative=st.integers(0, 2 * 10**30),
)
def test_a_taken_voucher_is_redeemable_in_full(balance, redeemed, cumulative):
    """A voucher passes only if the channel's balance pays all of it that is not redeemed."""
    channel = ChannelRecord(balance, redeemed, 0, 0)
    if cumulative - redeemed <= balance:
        check_covered(cumulative, channel)
    else:
        with pytest.raises(Uncovered, match="deposit at least"):
            check_covered(cumulative, channel)


def test_the_channel_rules_run_in_order():
    """After the signature (checked before the chain is read), a pending withdrawal refuses
    first, then a cumulative that is not the next one, then a balance that does not cover."""
    channel = ChannelRecord(5 * FEE, 0, 0, 0)
    check_channel(voucher(FEE), channel, accepted=0, fee=FEE)
    with pytest.raises(WithdrawalPending):
        check_channel(voucher(10**9), ChannelRecord(0, 0, 9, 0), accepted=0, fee=FEE)
    with pytest.raises(StaleVoucher):
        check_channel(voucher(10**9), ChannelRecord(0, 0, 0, 0), accepted=0, fee=FEE)
    with pytest.raises(StaleVoucher):
        check_channel(voucher(FEE), channel, accepted=FEE, fee=FEE)
    with pytest.raises(Uncovered):
        check_channel(voucher(6 * FEE), channel, accepted=5 * FEE, fee=FEE)


@pytest.mark.parametrize(
    ("balance", "fee", "relayed"), [(0, 0, False), (1, 0, True), (99, 100, False), (100, 100, True)]
)
def test_the_node_relays_a_withdrawal_only_for_a_channel_worth_its_gas(balance, fee, relayed):
    channel = ChannelRecord(balance, 0, 0, 0)
    if relayed:
        check_worth_relaying(channel, fee)
    else:
        with pytest.raises(NotWorthRelaying):
            check_worth_relaying(channel, fee)


@given(delay=st.integers(1, 10**7), interval=st.integers(0, 10**7))
def test_a_voucher_is_taken_only_if_the_node_redeems_within_the_delay(delay, interval):
    """Taken exactly when PASSES_PER_DELAY background passes fit in the withdrawal delay; a node
    whose pass is off takes none (an asker could withdraw before any redemption)."""
    if interval > 0 and PASSES_PER_DELAY * interval <= delay:
        check_redeems_in_time(delay, interval)
    else:
        with pytest.raises(NoTimeToRedeem, match="takes no paid asks"):
            check_redeems_in_time(delay, interval)
