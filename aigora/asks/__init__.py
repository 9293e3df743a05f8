"""Paid asks: an asker deposits into a payment channel with an operator (`Channels.vy`) once,
then signs one cumulative EIP-712 voucher per ask; the node checks each voucher against the
rules (`check_payment`, pure), books it atomically with the receipt it pays for, and redeems
the newest vouchers on-chain in batches. The operator can never take more than the vouchers
signed; an asker can withdraw what is unspent after a delay.

Imports `core`, `chain` and `store` only.
"""

from aigora.asks._channel import (
    REDEEM_BATCH,
    Redemption,
    channel_of,
    deposit,
    redeem_vouchers,
    request_withdrawal,
    withdraw,
)
from aigora.asks._ledger import (
    AcceptedVoucher,
    ChannelKey,
    accept_voucher,
    accepted_voucher,
    note_redeemed,
    unredeemed_vouchers,
)
from aigora.asks._rules import (
    BadVoucher,
    NotWorthRelaying,
    PaymentRequired,
    StaleVoucher,
    Uncovered,
    WithdrawalPending,
    check_channel,
    check_covered,
    check_cumulative_increases,
    check_no_pending_withdrawal,
    check_signature,
    check_worth_relaying,
    fee_for_ask,
    next_cumulative,
)
from aigora.asks._voucher import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    VOUCHER_TYPES,
    WITHDRAWAL_TYPES,
    Payment,
    channels_domain,
    sign_voucher,
    sign_withdrawal,
    voucher_typed_data,
    withdrawal_typed_data,
)

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "REDEEM_BATCH",
    "VOUCHER_TYPES",
    "WITHDRAWAL_TYPES",
    "AcceptedVoucher",
    "BadVoucher",
    "ChannelKey",
    "NotWorthRelaying",
    "Payment",
    "PaymentRequired",
    "Redemption",
    "StaleVoucher",
    "Uncovered",
    "WithdrawalPending",
    "accept_voucher",
    "accepted_voucher",
    "channel_of",
    "channels_domain",
    "check_channel",
    "check_covered",
    "check_cumulative_increases",
    "check_no_pending_withdrawal",
    "check_signature",
    "check_worth_relaying",
    "deposit",
    "fee_for_ask",
    "next_cumulative",
    "note_redeemed",
    "redeem_vouchers",
    "request_withdrawal",
    "sign_voucher",
    "sign_withdrawal",
    "unredeemed_vouchers",
    "voucher_typed_data",
    "withdraw",
    "withdrawal_typed_data",
]
