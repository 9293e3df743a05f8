"""A relayer fee signed for one network's Distributor is worthless on another network's: the
signature's EIP-712 domain names the contract (and the chain), so the same poster posting the
same tree on two networks does not let a relayer take the fee twice."""

from collections.abc import Iterator

import boa
import pytest

from .distributor_kit import HOUR, Payouts, address, distributor_deployer, key

ALICE, RELAYER = address("alice"), address("relayer")


@pytest.fixture(autouse=True)
def _isolated() -> Iterator[None]:
    with boa.env.anchor():
        yield


def test_a_fee_signed_for_one_network_is_refused_on_another():
    """One operator runs a node on network A and on network B (one key, so one poster address
    on both) and posts the very same tree on both. Alice signs a fee for her claim on A; the
    relayer replays it on B, where her leaf and proof check out. B refuses it, and Alice's
    claim on B still pays her in full."""
    a = Payouts.deploy("operator")
    other = distributor_deployer().deploy(a.token.address)
    b = Payouts._funded(a.token, other, "operator", [])
    assert a.poster == b.poster  # one poster on both networks
    a.post({ALICE: 1_000})
    b.post({ALICE: 1_000})
    deadline = boa.env.timestamp + HOUR
    signature = a.sign_fee(key("alice"), 1_000, 300, RELAYER, deadline)
    assert b.claimable(ALICE, 1_000, b.proof(ALICE, 1_000)) == 1_000

    with boa.reverts("signature is not the account's"):
        b.claim_with_fee(ALICE, 1_000, 300, deadline, signature, sender=RELAYER)
    a.claim_with_fee(ALICE, 1_000, 300, deadline, signature, sender=RELAYER)
    b.claim(ALICE, 1_000, sender=ALICE)
    assert (a.balance(ALICE), a.balance(RELAYER)) == (700 + 1_000, 300)
    a.check_books()
    b.check_books()
