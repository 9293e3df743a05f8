"""What a voter signs and proves: proposals and ballots in the governor's EIP-712 domain, and
the standing table its power is proven from.

The governor (`Governor.vy`) relays both kinds of signature, so a voter needs no ether. A
`Propose(proposer, policyHash, standingRoot, standingTotal, basePolicy, nonce)` names the policy
it was written against (`basePolicy`, the policy_hash in force) and the proposer's next nonce:
good for one proposal, and void once the policy changes. A `Ballot(proposalId, support, voter)`
is one vote; the contract counts a voter once per proposal, so a relayer (or a front-runner) can
only cast what the voter signed.

Voting power is the standing table: an OpenZeppelin StandardMerkleTree over
`(address account, uint256 power)`, the payout tree's leaf shape; a voter proves its leaf against
the proposal's snapshot root.
"""

from collections.abc import Mapping
from typing import Any

from aigora.core.eip712 import Domain, TypedDataSigner, sign_typed, typed_data
from aigora.core.errors import AigoraError
from aigora.core.merkle import StandardMerkleTree

DOMAIN_NAME = "Aigora Governor"
DOMAIN_VERSION = "1"
PROPOSE_TYPES = {
    "Propose": [
        {"name": "proposer", "type": "address"},
        {"name": "policyHash", "type": "bytes32"},
        {"name": "standingRoot", "type": "bytes32"},
        {"name": "standingTotal", "type": "uint256"},
        {"name": "basePolicy", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
    ]
}
BALLOT_TYPES = {
    "Ballot": [
        {"name": "proposalId", "type": "uint256"},
        {"name": "support", "type": "uint8"},
        {"name": "voter", "type": "address"},
        {"name": "policyHash", "type": "bytes32"},
        {"name": "standingRoot", "type": "bytes32"},
        {"name": "standingTotal", "type": "uint256"},
    ]
}
STANDING_LEAF = ("address", "uint256")
SUPPORT = {"against": 0, "for": 1, "abstain": 2}
"""A ballot's support by name, as the contract codes it (`SUPPORT_*`)."""
STATE_NAMES = {1: "active", 2: "defeated", 3: "queued", 4: "ready", 5: "stale", 6: "executed"}
"""What `Governor.state(id)` answers, by code (`STATE_*`)."""


class UnknownSupport(AigoraError):
    """A ballot's support is "against", "for" or "abstain"."""


def governor_domain(chain_id: int, governor: str) -> Domain:
    """The domain proposals and ballots are signed in: the governor on its chain."""
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, governor)


def support_code(name: str) -> int:
    """The contract's code for a support name; a clear error for anything else."""
    if name not in SUPPORT:
        raise UnknownSupport(f"support {name!r} is not one of {', '.join(SUPPORT)}")
    return SUPPORT[name]


def standing_tree(entries: Mapping[str, int]) -> StandardMerkleTree:
    """The standing table over every account's power (accounts in ascending order); its root
    and the sum of the powers are what a policy carries as `standing_root`, `standing_total`."""
    return StandardMerkleTree.of(sorted(entries.items()), STANDING_LEAF)


def propose_message(
    *,
    proposer: str,
    policy_hash: bytes,
    standing_root: bytes,
    standing_total: int,
    base_policy: bytes,
    nonce: int,
) -> dict[str, Any]:
    return {
        "proposer": proposer,
        "policyHash": policy_hash,
        "standingRoot": standing_root,
        "standingTotal": standing_total,
        "basePolicy": base_policy,
        "nonce": nonce,
    }


def propose_typed_data(domain: Domain, **proposal: Any) -> dict[str, Any]:
    """The typed data a wallet signs (`eth_signTypedData_v4`) to propose a policy
    (`propose_message`'s fields)."""
    return typed_data(domain, PROPOSE_TYPES, "Propose", propose_message(**proposal))


def sign_propose(signer: TypedDataSigner, domain: Domain, **proposal: Any) -> bytes:
    """The proposer's signature over `Propose` (`proposer`: the signer's address; `nonce`: the
    governor's `nonces(proposer)`; `base_policy`: its `policy_hash` now)."""
    return sign_typed(signer, domain, PROPOSE_TYPES, "Propose", propose_message(**proposal))


def ballot_message(
    *,
    proposal_id: int,
    support: int,
    voter: str,
    policy_hash: bytes,
    standing_root: bytes,
    standing_total: int,
) -> dict[str, Any]:
    return {
        "proposalId": proposal_id,
        "support": support,
        "voter": voter,
        "policyHash": policy_hash,
        "standingRoot": standing_root,
        "standingTotal": standing_total,
    }


def ballot_typed_data(domain: Domain, **ballot: Any) -> dict[str, Any]:
    """The typed data a wallet signs to cast one ballot (`ballot_message`'s fields): the
    proposal, the support, the voter, and the proposal's policy hash and standing, so a ballot
    says what its voter saw."""
    return typed_data(domain, BALLOT_TYPES, "Ballot", ballot_message(**ballot))


def sign_ballot(signer: TypedDataSigner, domain: Domain, **ballot: Any) -> bytes:
    """The voter's signature over `Ballot` (`voter`: the signer's address)."""
    return sign_typed(signer, domain, BALLOT_TYPES, "Ballot", ballot_message(**ballot))
