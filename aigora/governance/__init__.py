"""Community governance of the policy in force: proposals, ballots and the standing table that
gives voting power, as `Governor.vy` checks them.

Imports `core` only.
"""

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

__all__ = [
    "BALLOT_TYPES",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "PROPOSE_TYPES",
    "STANDING_LEAF",
    "STATE_NAMES",
    "SUPPORT",
    "UnknownSupport",
    "ballot_typed_data",
    "governor_domain",
    "propose_typed_data",
    "sign_ballot",
    "sign_propose",
    "standing_tree",
    "support_code",
]
