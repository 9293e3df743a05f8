"""The Python side of governance: support names, the standing table, and signatures that
recover to their signer (the contract side of the same digests is tests/chain/test_governor.py)."""

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.eip712 import recover_typed
from aigora.core.hashing import keccak
from aigora.core.merkle import leaf_hash, process_proof
from aigora.governance import (
    BALLOT_TYPES,
    PROPOSE_TYPES,
    STANDING_LEAF,
    UnknownSupport,
    ballot_typed_data,
    governor_domain,
    propose_typed_data,
    sign_ballot,
    sign_propose,
    standing_tree,
    support_code,
)

VOTER = Account.from_key(keccak(b"voter"))
DOMAIN = governor_domain(31337, "0x" + "11" * 20)


def test_support_names_and_a_clear_error_for_others():
    assert [support_code(n) for n in ("against", "for", "abstain")] == [0, 1, 2]
    with pytest.raises(UnknownSupport, match="'yes' is not one of against, for, abstain"):
        support_code("yes")


@settings(max_examples=20, deadline=None)
@given(powers=st.lists(st.integers(0, 2**128), min_size=1, max_size=12))
def test_every_leaf_of_the_standing_table_proves_its_power_only(powers):
    accounts = [Account.from_key(keccak(bytes([i]))).address for i in range(len(powers))]
    entries = dict(zip(accounts, powers, strict=True))
    tree = standing_tree(entries)
    assert standing_tree(dict(reversed(list(entries.items())))).root == tree.root
    for account, power in entries.items():
        proof = tree.get_proof([account, power])
        assert process_proof(leaf_hash(STANDING_LEAF, [account, power]), proof) == tree.root
        assert process_proof(leaf_hash(STANDING_LEAF, [account, power + 1]), proof) != tree.root


def test_ballots_and_proposals_recover_to_their_signer():
    names = {"policy_hash": keccak(b"doc"), "standing_root": keccak(b"root"), "standing_total": 9}
    fields = {"proposal_id": 3, "support": 1, "voter": VOTER.address, **names}
    signature = sign_ballot(VOTER, DOMAIN, **fields)
    ballot = {
        "proposalId": 3,
        "support": 1,
        "voter": VOTER.address,
        "policyHash": keccak(b"doc"),
        "standingRoot": keccak(b"root"),
        "standingTotal": 9,
    }
    assert recover_typed(DOMAIN, BALLOT_TYPES, "Ballot", ballot, signature) == VOTER.address
    message = ballot_typed_data(DOMAIN, **fields)["message"]
    assert message["proposalId"] == 3
    assert message["policyHash"] == "0x" + keccak(b"doc").hex()
    fields = {
        "proposer": VOTER.address,
        "policy_hash": keccak(b"doc"),
        "standing_root": keccak(b"root"),
        "standing_total": 10**18,
        "base_policy": keccak(b"base"),
        "nonce": 4,
    }
    signature = sign_propose(VOTER, DOMAIN, **fields)
    message = propose_typed_data(DOMAIN, **fields)["message"]
    assert message["policyHash"] == "0x" + keccak(b"doc").hex()
    assert recover_typed(DOMAIN, PROPOSE_TYPES, "Propose", message, signature) == VOTER.address
    other = governor_domain(1, DOMAIN.verifying_contract)  # another chain: another signer
    assert recover_typed(other, PROPOSE_TYPES, "Propose", message, signature) != VOTER.address
