"""Paying contributors: fee and training-value splits in integers, epochs, cumulative trees and
claims a relayer sends for people who hold no crypto."""

from aigora.payouts._claims import (
    CLAIM_FEE_TYPES,
    ClaimResult,
    FeeAuthorization,
    NothingToClaim,
    check_account,
    distributor_domain,
    fee_authorization,
    relay_claim,
)
from aigora.payouts._epochs import (
    LABELING,
    TRAINING,
    USAGE,
    EpochSummary,
    Line,
    NothingToClose,
    close_epoch,
    compute_epoch,
    cumulative_of,
    earnings,
    epoch_summary,
    latest_posted,
    post_epoch,
    usage_lines,
)
from aigora.payouts._split import FeeSplit, PayoutError, allocate, split_fee
from aigora.payouts._training import TrainingItem, Validation, training_split, value_weights
from aigora.payouts._tree import load_tree, payout_tree, save_tree

__all__ = [
    "CLAIM_FEE_TYPES",
    "LABELING",
    "TRAINING",
    "USAGE",
    "ClaimResult",
    "EpochSummary",
    "FeeAuthorization",
    "FeeSplit",
    "Line",
    "NothingToClaim",
    "NothingToClose",
    "PayoutError",
    "TrainingItem",
    "Validation",
    "allocate",
    "check_account",
    "close_epoch",
    "compute_epoch",
    "cumulative_of",
    "distributor_domain",
    "earnings",
    "epoch_summary",
    "fee_authorization",
    "latest_posted",
    "load_tree",
    "payout_tree",
    "post_epoch",
    "relay_claim",
    "save_tree",
    "split_fee",
    "training_split",
    "usage_lines",
    "value_weights",
]
