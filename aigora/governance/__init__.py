"""Governance: the policy in force (what a network admits, what it pays for, whom it trusts), the
standing table that says who may vote on it, and the signed proposals and ballots the Governor
contract counts. Pure: documents, rules and signatures; reading and sending are `aigora.app`'s.

    policy = parse_policy(document)          # canonical JSON only; keccak256 is the policy hash
    table  = standing_from_trust(run.trust)  # power = floor(trust * 10**18), never a balance
    root   = standing_tree(table).root       # what votes are proven against
"""

from aigora.governance._edit import (
    EDITABLE,
    describe_policy,
    edit_policy,
    parse_setting,
    plain_time,
    policy_from_data,
    policy_from_file,
    share,
)
from aigora.governance._policy import (
    MAX_DOCUMENT,
    POLICY_FORMAT,
    STATUSES,
    Admission,
    Objectives,
    Policy,
    PolicyError,
    Removal,
    ReputationSettings,
    Standing,
    genesis_policy,
    parse_policy,
    policy_diff,
)
from aigora.governance._signing import (
    BALLOT_TYPES,
    DOMAIN_NAME,
    DOMAIN_VERSION,
    PROPOSE_TYPES,
    STANDING_LEAF,
    STATE_NAMES,
    SUPPORT,
    UnknownSupport,
    ballot_typed_data,
    governor_domain,
    propose_typed_data,
    sign_ballot,
    sign_propose,
    standing_tree,
    support_code,
)
from aigora.governance._standing import (
    MAX_VOTERS,
    POWER_UNIT,
    genesis_standing,
    power_of,
    standing_from_trust,
)

__all__ = [
    "BALLOT_TYPES",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EDITABLE",
    "MAX_DOCUMENT",
    "MAX_VOTERS",
    "POLICY_FORMAT",
    "POWER_UNIT",
    "PROPOSE_TYPES",
    "STANDING_LEAF",
    "STATE_NAMES",
    "STATUSES",
    "SUPPORT",
    "Admission",
    "Objectives",
    "Policy",
    "PolicyError",
    "Removal",
    "ReputationSettings",
    "Standing",
    "UnknownSupport",
    "ballot_typed_data",
    "describe_policy",
    "edit_policy",
    "genesis_policy",
    "genesis_standing",
    "governor_domain",
    "parse_policy",
    "parse_setting",
    "plain_time",
    "policy_diff",
    "policy_from_data",
    "policy_from_file",
    "power_of",
    "propose_typed_data",
    "share",
    "sign_ballot",
    "sign_propose",
    "standing_from_trust",
    "standing_tree",
    "support_code",
]
