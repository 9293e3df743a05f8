"""Who pays for an ask (`fee_for_ask`), and the rules a paid ask's voucher must pass, each a pure
function in one place, cheapest first (the signature before anything is read from the chain,
then `check_channel` runs the rest in order against the channel as read):

1. `check_signature`: the voucher is signed by the asker it names, for this operator, in this
   chain's channels contract (400 otherwise: a voucher for another operator or contract
   recovers another address).
2. `check_no_pending_withdrawal`: the asker has not asked for its deposit back (402): once a
   withdrawal is requested the node accepts no voucher in the channel, so every voucher it holds
   is one it can redeem within the delay.
3. `check_cumulative_increases`: the voucher names exactly what the asker owed before (the
   highest voucher accepted, or what the channel has redeemed if more) plus the node's fee
   (409): a replayed or older voucher pays nothing new, and a larger one would pay more than
   this ask costs.
4. `check_covered`: everything the node would hold unredeemed with it, cumulative - redeemed,
   is in the channel's balance on-chain (402): the operator can redeem every voucher it accepts.

Before all of them, `check_redeems_in_time` (503 otherwise): the node takes a voucher only if its
background pass, which redeems a channel whose asker requested a withdrawal, comes
`PASSES_PER_DELAY` times within the channels contract's withdrawal delay; otherwise an asker
could ask, request its deposit back at once and withdraw it before the node redeems.

`check_worth_relaying` is the node's own rule for paying the gas of an asker's withdrawal
request. Amounts are integers in the token's smallest unit.
"""

from aigora.asks._voucher import VOUCHER_TYPES, Payment, voucher_message
from aigora.chain import ChannelRecord
from aigora.core.eip712 import Domain, recover_typed
from aigora.core.errors import AigoraError, EncodingError, SignatureError

TERMS_HINT = "GET /asks/terms says how to pay, GET /asks/channels/{asker} what to sign next"


class PaymentRequired(AigoraError):
    """This node charges for answers: the ask needs a voucher the channel covers."""


class Uncovered(PaymentRequired):
    """The channel's balance does not cover the voucher."""


class WithdrawalPending(PaymentRequired):
    """The asker has requested its deposit back: the channel takes no voucher until it is
    withdrawn."""


class StaleVoucher(AigoraError):
    """The voucher's cumulative amount is not the next one: a replay, an older voucher, or more
    than the ask costs."""


class NoTimeToRedeem(AigoraError):
    """The node would not redeem a voucher before its asker could withdraw the deposit behind
    it: it takes no paid asks until its operator shortens the background pass."""


class NotWorthRelaying(AigoraError):
    """The node relays no withdrawal request for a channel this small."""


class BadVoucher(AigoraError):
    """The voucher is not signed by the asker it names (for this operator and contract)."""


PASSES_PER_DELAY = 4
"""How many background passes must fit in the withdrawal delay: a request that lands just
after one pass is redeemed at the next, and up to three failed passes in a row still leave one
in time."""


def check_redeems_in_time(withdraw_delay_s: int, pass_interval_s: int) -> None:
    """The node's background pass (every `pass_interval_s`; 0: never) redeems a channel whose
    asker requested a withdrawal; the asker may take its deposit `withdraw_delay_s` after the
    request. Unless `PASSES_PER_DELAY` passes fit in that delay, an answer could be served and
    the deposit leave unredeemed."""
    if pass_interval_s <= 0:
        raise NoTimeToRedeem(
            "this node takes no paid asks: its background pass is off ([node] "
            "anchor_interval_s = 0), so it would not redeem a voucher before the channels "
            "contract's withdraw_delay lets the asker take the deposit back"
        )
    if withdraw_delay_s < PASSES_PER_DELAY * pass_interval_s:
        raise NoTimeToRedeem(
            f"this node takes no paid asks: the channels contract's withdraw_delay "
            f"({withdraw_delay_s} s) is shorter than {PASSES_PER_DELAY} of its background "
            f"passes ([node] anchor_interval_s = {pass_interval_s}), so an asker could withdraw "
            f"before the node redeems; set anchor_interval_s to at most "
            f"{withdraw_delay_s // PASSES_PER_DELAY}"
        )


def fee_for_ask(fee: int, *, by_operator: bool, paying: bool) -> int:
    """What an ask's receipt charges: nothing on a node without a fee, nothing to the operator
    asking without a voucher (it would pay itself), the node's fee for an ask with a voucher;
    anyone else is refused (402) with how to pay. An ask that is charged nothing records no
    fee, so no ask adds to what the operator owes the authors unless someone paid for it."""
    if fee == 0 or (by_operator and not paying):
        return 0
    if not paying:
        raise PaymentRequired(
            f"this node charges {fee} base units per answer: deposit into a channel with its "
            f"operator, then send a signed voucher as `payment` with each ask ({TERMS_HINT})"
        )
    return fee


def check_signature(domain: Domain, operator: str, payment: Payment) -> None:
    message = voucher_message(payment.asker, operator, payment.cumulative)
    try:
        signer = recover_typed(domain, VOUCHER_TYPES, "Voucher", message, payment.signature)
    except (SignatureError, EncodingError) as exc:
        raise BadVoucher(f"the voucher's signature is malformed: {exc}") from None
    if signer.lower() != payment.asker.lower():
        raise BadVoucher(
            f"the voucher is not signed by {payment.asker} for operator {operator} in the "
            f"channels contract {domain.verifying_contract} on chain {domain.chain_id}"
        )


def check_no_pending_withdrawal(channel: ChannelRecord) -> None:
    if channel.withdrawal_requested:
        raise WithdrawalPending(
            f"a withdrawal of this channel is pending (it unlocks at {channel.unlocks_at}): "
            "this node accepts no voucher until it is withdrawn; then deposit again"
        )


def next_cumulative(accepted: int, redeemed: int, fee: int) -> int:
    """The cumulative amount the next voucher must name: what the asker owes already (the
    highest voucher accepted, or what the channel has redeemed if more) plus one fee."""
    return max(accepted, redeemed) + fee


def check_cumulative_increases(cumulative: int, accepted: int, redeemed: int, fee: int) -> None:
    expected = next_cumulative(accepted, redeemed, fee)
    if cumulative < expected:
        raise StaleVoucher(
            f"the voucher names {cumulative}, but {max(accepted, redeemed)} is already owed: the "
            f"next voucher must name {expected} ({TERMS_HINT})"
        )
    if cumulative > expected:
        raise StaleVoucher(
            f"the voucher names {cumulative}, more than this ask costs: the next voucher must "
            f"name {expected} ({TERMS_HINT})"
        )


def check_covered(cumulative: int, channel: ChannelRecord) -> None:
    owed = cumulative - channel.redeemed
    if owed > channel.balance:
        raise Uncovered(
            f"the channel holds {channel.balance} unredeemed; this voucher would leave {owed} "
            f"owed: deposit at least {owed - channel.balance} more ({TERMS_HINT})"
        )


def check_channel(payment: Payment, channel: ChannelRecord, *, accepted: int, fee: int) -> None:
    """The rules after the signature, against the channel as read on-chain and the highest
    voucher accepted; raises the first that fails."""
    check_no_pending_withdrawal(channel)
    check_cumulative_increases(payment.cumulative, accepted, channel.redeemed, fee)
    check_covered(payment.cumulative, channel)


def check_worth_relaying(channel: ChannelRecord, fee: int) -> None:
    """The node pays the gas of a withdrawal request it relays only for a channel holding at
    least one fee (and something): anyone can make keys and sign requests for empty channels,
    and the node's ether is not theirs to burn. A smaller balance is withdrawn by its asker
    directly. (Completing a request is relayed whatever is left: it is one transaction per
    request, and a request the node did not relay cost its sender as much.)"""
    if channel.balance == 0 or channel.balance < fee:
        raise NotWorthRelaying(
            f"the channel holds {channel.balance}, less than one answer's fee ({fee}): this node "
            "relays no withdrawal for it; send `request_withdrawal` and `withdraw` yourself"
        )
