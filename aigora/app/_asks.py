"""Paid asks on one node: the terms an asker signs under, the state of an asker's channel, taking
a voucher with an ask, and redeeming the vouchers taken.

An ask with a voucher is checked in two steps. Before the answer is computed, every rule runs
against the channel as the chain holds it (`prepare_payment`: one read of the channel, no
database write), so a refused voucher costs no ranking. Then, in the transaction that records
the receipt, the voucher is checked again against the accepted cumulative of that moment and
booked by compare-and-set (`asks.accept_voucher`): of two asks spending one voucher, one commits
and the other's receipt is rolled back. What the chain says can only have moved in the asker's
disfavour by a withdrawal request that lands after the read, and the withdrawal delay leaves the
node time to redeem all it accepted.

Redemption (`Asks.redeem`) runs in the node's background pass: every `[answers]
redeem_interval_s` for every channel with a voucher above what it has redeemed, and at every
pass for a channel whose asker has requested a withdrawal (the front-running rule: the operator
must redeem within the delay). Closing an epoch redeems everything first.
"""

import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import Any

from eth_utils import to_checksum_address
from pydantic import BaseModel
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.app._context import NeedsOperatorKey, NodeContext, fund_from_faucet
from aigora.asks import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    VOUCHER_TYPES,
    AcceptedVoucher,
    ChannelKey,
    Payment,
    PaymentRequired,
    StaleVoucher,
    accept_voucher,
    accepted_voucher,
    channel_of,
    channels_domain,
    check_channel,
    check_redeems_in_time,
    check_signature,
    check_worth_relaying,
    deposit,
    next_cumulative,
    note_redeemed,
    redeem_vouchers,
    unredeemed_vouchers,
    withdrawal_typed_data,
)
from aigora.chain import ChannelRecord, TxSigner
from aigora.core.errors import AigoraError
from aigora.payouts import check_account
from aigora.store import session_scope
from aigora.verify import ReceiptDocument


class AskTerms(BaseModel):
    """How to pay this node for an answer: deposit into `channels` for `operator`, then sign one
    `Voucher` per ask in `domain` naming everything owed so far plus `fee`. `channels` (and the
    domain's `verifyingContract`) is null on a node without a channels contract."""

    fee: str
    operator: str
    channels: str | None
    withdraw_delay_s: int
    domain: dict[str, Any]
    types: dict[str, list[dict[str, str]]]


class ChannelState(BaseModel):
    """An asker's channel with this node's operator. `deposit`: the unredeemed balance on-chain;
    `redeemed`: what the operator has been paid; `accepted`: the highest voucher this node
    accepted; `available`: what the asker can still spend (`deposit - (accepted - redeemed)`);
    `next_cumulative`: what the next voucher must name; `withdrawal_unlocks_at`: when a
    requested withdrawal may be sent (null: none requested)."""

    asker: str
    operator: str
    deposit: str
    redeemed: str
    accepted: str
    available: str
    next_cumulative: str
    withdrawal_unlocks_at: int | None


class Withdrawn(BaseModel):
    """A completed withdrawal: `amount` went back to `asker`."""

    asker: str
    amount: str
    tx_hash: str


class RedeemReport(BaseModel):
    """One redemption: the channels redeemed, what they paid the operator, the transactions."""

    channels: int
    paid: str
    tx_hashes: list[str]


RecordPayment = Callable[[Session, ReceiptDocument], None]
"""Books a paid ask's voucher in the transaction that records its receipt (`issue_receipt`)."""


def _channels(context: NodeContext) -> Contract:
    channels = context.deployment.channels
    if channels is None:
        raise PaymentRequired(
            "this node charges a fee but has no channels contract to take payment through: "
            "restart it to deploy one"
        )
    return channels


def _operator(context: NodeContext) -> str:
    """The operator's address, with its key unlocked or not (a chain view reads the keystore)."""
    address = context.signer.address if context.signer is not None else context.operator_address()
    if address is None:
        raise NeedsOperatorKey("this node has no operator key yet: run `aigora up` once")
    return address


_DELAYS: dict[tuple[int, str], int] = {}
_DELAYS_LOCK = threading.Lock()


def withdraw_delay(context: NodeContext, channels: Contract) -> int:
    """The channels contract's withdrawal delay (immutable: read once per contract)."""
    key = (context.chain.chain_id, channels.address)
    with _DELAYS_LOCK:
        if key not in _DELAYS:
            _DELAYS[key] = int(context.chain.call(channels.functions.withdraw_delay()))
        return _DELAYS[key]


def channel_key(context: NodeContext, asker: str) -> ChannelKey:
    return ChannelKey(context.chain.chain_id, _channels(context).address, asker, _operator(context))


def prepare_payment(context: NodeContext, payment: Payment, fee: int) -> RecordPayment:
    """Check `payment` against every rule (that the node redeems in time first, its signature
    before anything else is read) and the channel as it is on-chain now; return what books it
    with the receipt (checking the accepted cumulative again there)."""
    channels = _channels(context)
    check_redeems_in_time(withdraw_delay(context, channels), context.config.node.anchor_interval_s)
    key = channel_key(context, payment.asker)
    check_signature(channels_domain(key.chain_id, key.channels), key.operator, payment)
    channel = channel_of(context.chain, channels, key.asker, key.operator)
    with session_scope(context.db) as session:
        accepted = accepted_voucher(session, key)
    check_channel(
        payment, channel, accepted=0 if accepted is None else accepted.cumulative, fee=fee
    )

    def record(session: Session, document: ReceiptDocument) -> None:
        digest = "0x" + document.digest().hex()
        accept_voucher(session, key, payment, fee=fee, redeemed=channel.redeemed, digest=digest)

    return record


class InFlight:
    """The askers whose paid ask this process is answering: a second ask from the same channel
    meanwhile is refused at once (409), before any ranking, so sending one voucher many times
    at once costs the node one answer, not many. (The compare-and-set at booking is what keeps
    the money right, in any number of processes; this only saves the work.)"""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: set[str] = set()

    @contextmanager
    def hold(self, asker: str) -> Iterator[None]:
        with self._lock:
            if asker in self._busy:
                raise StaleVoucher(
                    "another ask paid from this channel is being answered: wait for its answer, "
                    "then sign the next voucher"
                )
            self._busy.add(asker)
        try:
            yield
        finally:
            with self._lock:
                self._busy.discard(asker)


class Asks:
    """Terms, channel states and redemption for this node's operator."""

    def __init__(self, context: NodeContext) -> None:
        self.context = context
        self._lock = threading.Lock()
        self._last_redeemed: float | None = None

    def _fee(self) -> int:
        return int(self.context.config.answers.fee)

    def _key(self, asker: str) -> ChannelKey:
        """The channel of `asker` (any case; checksummed here) with this node's operator."""
        return channel_key(self.context, to_checksum_address(check_account(asker)))

    def terms(self) -> AskTerms:
        context = self.context
        channels = context.deployment.channels
        domain: dict[str, Any] = {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": context.chain.chain_id,
            "verifyingContract": None,
        }
        if channels is not None:
            domain = channels_domain(context.chain.chain_id, channels.address).as_dict()
        return AskTerms(
            fee=context.config.answers.fee,
            operator=_operator(context),
            channels=None if channels is None else channels.address,
            withdraw_delay_s=0 if channels is None else withdraw_delay(context, channels),
            domain=domain,
            types={name: list(fields) for name, fields in VOUCHER_TYPES.items()},
        )

    def channel(self, asker: str) -> ChannelState:
        """`asker`'s channel with this node's operator: on-chain amounts and what this node has
        accepted."""
        key = self._key(asker)
        channel = channel_of(self.context.chain, _channels(self.context), key.asker, key.operator)
        return self._state(key, channel)

    def _state(self, key: ChannelKey, channel: ChannelRecord) -> ChannelState:
        with session_scope(self.context.db) as session:
            found = accepted_voucher(session, key)
        accepted = 0 if found is None else found.cumulative
        owed = max(accepted - channel.redeemed, 0)
        fee = self._fee()
        return ChannelState(
            asker=key.asker,
            operator=key.operator,
            deposit=str(channel.balance),
            redeemed=str(channel.redeemed),
            accepted=str(accepted),
            available=str(max(channel.balance - owed, 0)),
            next_cumulative=str(next_cumulative(accepted, channel.redeemed, fee)),
            withdrawal_unlocks_at=channel.unlocks_at or None,
        )

    def deposit(self, funder: TxSigner, *, asker: str, amount: int) -> ChannelState:
        """Deposit `amount` of `funder`'s tokens into `asker`'s channel with this node's operator
        (`funder` may be anyone: a gift). On a dev chain the funder is given gas first."""
        context = self.context
        channels = _channels(context)
        if amount <= 0:
            raise AigoraError("a deposit must be above 0")
        key = self._key(asker)
        if context.chain.is_dev_chain:
            fund_from_faucet(context.chain, funder)
        held = int(context.chain.call(context.deployment.token.functions.balanceOf(funder.address)))
        if held < amount:
            raise AigoraError(
                f"{funder.address} holds {held} of the token {context.deployment.token.address}, "
                f"less than the {amount} to deposit"
            )
        deposit(
            context.chain,
            context.deployment.token,
            channels,
            funder,
            asker=key.asker,
            operator=key.operator,
            amount=amount,
        )
        return self.channel(key.asker)

    def withdrawal_request(self, asker: str, deadline: int) -> dict[str, Any]:
        """The typed data `asker` signs (`eth_signTypedData_v4`) to have this node send its
        withdrawal request for it, good until `deadline` (a block timestamp) and once."""
        context = self.context
        channels = _channels(context)
        key = self._key(asker)
        nonce = channel_of(context.chain, channels, key.asker, key.operator).nonce
        return withdrawal_typed_data(
            channels_domain(key.chain_id, key.channels),
            asker=key.asker,
            operator=key.operator,
            nonce=nonce,
            deadline=deadline,
        )

    def request_withdrawal(self, asker: str, deadline: int, signature: bytes) -> ChannelState:
        """Send `asker`'s signed withdrawal request (the node pays the gas), then redeem the
        channel's accepted voucher at once: the delay starts now, and the node takes what was
        signed before the deposit can leave."""
        context = self.context
        channels = _channels(context)
        key = self._key(asker)
        channel = channel_of(context.chain, channels, key.asker, key.operator)
        check_worth_relaying(channel, self._fee())
        context.chain.transact(
            context.operator,
            channels.functions.request_withdrawal_for(key.asker, key.operator, deadline, signature),
        )
        self.redeem(askers={key.asker})
        return self.channel(key.asker)

    def complete_withdrawal(self, asker: str) -> Withdrawn:
        """Send `asker`'s withdrawal once its request has unlocked (the node pays the gas; the
        tokens go to the asker only)."""
        context = self.context
        channels = _channels(context)
        key = self._key(asker)
        channel = channel_of(context.chain, channels, key.asker, key.operator)
        if not channel.withdrawal_requested:
            raise AigoraError(f"{key.asker} has not requested a withdrawal from this channel")
        now = context.chain.now()
        if now < channel.unlocks_at:
            raise AigoraError(
                f"the withdrawal unlocks at {channel.unlocks_at}, {channel.unlocks_at - now} s "
                "from now"
            )
        self.redeem(askers={key.asker})
        result = context.chain.transact(
            context.operator, channels.functions.withdraw(key.asker, key.operator)
        )
        (log,) = context.chain.events_in(result, channels.events.Withdrawn)
        return Withdrawn(asker=key.asker, amount=str(int(log.args.amount)), tx_hash=result.tx_hash)

    def redeem(
        self, *, everything: bool = True, askers: Collection[str] | None = None
    ) -> RedeemReport:
        """Redeem every accepted voucher above what its channel has redeemed (`everything`; only
        `askers`' channels when named), or, as the background pass calls it, those whose asker
        requested a withdrawal, and all of them once `redeem_interval_s` has passed since the
        last time."""
        context = self.context
        channels = context.deployment.channels
        if channels is None or context.signer is None:
            return RedeemReport(channels=0, paid="0", tx_hashes=[])
        with self._lock:
            now = time.monotonic()
            interval = context.config.answers.redeem_interval_s
            due = everything or self._last_redeemed is None or now - self._last_redeemed >= interval
            with session_scope(context.db) as session:
                pending = unredeemed_vouchers(
                    session, context.chain.chain_id, channels.address, context.operator.address
                )
            if askers is not None:
                pending = [v for v in pending if v.key.asker in askers]
            chosen: list[AcceptedVoucher] = []
            for voucher in pending:
                channel = channel_of(
                    context.chain, channels, voucher.key.asker, voucher.key.operator
                )
                if channel.redeemed != voucher.redeemed:
                    with session_scope(context.db) as session:
                        note_redeemed(session, voucher.key, channel.redeemed)
                payable = voucher.cumulative > channel.redeemed and channel.balance > 0
                if payable and (due or channel.withdrawal_requested):
                    chosen.append(voucher)
            if due and askers is None:
                self._last_redeemed = now
            if not chosen:
                return RedeemReport(channels=0, paid="0", tx_hashes=[])
            result = redeem_vouchers(context.chain, channels, context.operator, chosen)
            with session_scope(context.db) as session:
                for voucher in chosen:
                    note_redeemed(session, voucher.key, result.redeemed[voucher.key.asker])
            return RedeemReport(
                channels=len(chosen), paid=str(result.paid), tx_hashes=result.tx_hashes
            )

    def background_redeem(self) -> RedeemReport:
        return self.redeem(everything=False)

    def redeemed(self, askers: set[str]) -> dict[str, int]:
        """Each asker's channel's redeemed amount on-chain (what an epoch may split)."""
        context = self.context
        channels = context.deployment.channels
        if channels is None:
            return {}
        operator = context.operator.address
        return {
            asker: channel_of(context.chain, channels, asker, operator).redeemed for asker in askers
        }
