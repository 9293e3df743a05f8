"""The channels contract from Python: reading a channel, depositing, redeeming vouchers in
batches and withdrawing. Every transaction is the contract's; these only build and send them."""

from collections.abc import Sequence
from dataclasses import dataclass

from web3.contract import Contract

from aigora.asks._ledger import AcceptedVoucher
from aigora.chain import Chain, ChannelRecord, TxSigner, read_channel

REDEEM_BATCH = 64
"""Vouchers per `redeem_many` transaction (the contract takes up to 128; 64 stays far below the
embedded chain's fixed gas limit)."""


@dataclass(frozen=True)
class Redemption:
    """What one pass of redemption did: per channel (asker) the redeemed amount it left on-chain,
    what it paid the operator in all, and its transactions."""

    redeemed: dict[str, int]
    paid: int
    tx_hashes: list[str]


def channel_of(chain: Chain, channels: Contract, asker: str, operator: str) -> ChannelRecord:
    return read_channel(chain, channels, asker, operator)


def deposit(
    chain: Chain,
    token: Contract,
    channels: Contract,
    funder: TxSigner,
    *,
    asker: str,
    operator: str,
    amount: int,
) -> str:
    """Approve and deposit `amount` of `funder`'s tokens into `asker`'s channel with `operator`;
    returns the deposit's transaction hash."""
    chain.transact(funder, token.functions.approve(channels.address, amount))
    return chain.transact(funder, channels.functions.deposit(asker, operator, amount)).tx_hash


def redeem_vouchers(
    chain: Chain, channels: Contract, sender: TxSigner, vouchers: Sequence[AcceptedVoucher]
) -> Redemption:
    """Redeem each voucher (anyone may send; the tokens go to each voucher's operator), in
    batches of `REDEEM_BATCH`, and read back every channel's redeemed amount."""
    paid, hashes = 0, []
    for start in range(0, len(vouchers), REDEEM_BATCH):
        batch = [
            (v.key.asker, v.key.operator, v.cumulative, v.signature)
            for v in vouchers[start : start + REDEEM_BATCH]
        ]
        result = chain.transact(sender, channels.functions.redeem_many(batch))
        hashes.append(result.tx_hash)
        paid += sum(
            int(log.args.amount) for log in chain.events_in(result, channels.events.Redeemed)
        )
    redeemed = {
        v.key.asker: channel_of(chain, channels, v.key.asker, v.key.operator).redeemed
        for v in vouchers
    }
    return Redemption(redeemed, paid, hashes)


def request_withdrawal(chain: Chain, channels: Contract, asker: TxSigner, operator: str) -> str:
    """Start the withdrawal of `asker`'s unspent deposit with `operator` (the delay begins)."""
    return chain.transact(asker, channels.functions.request_withdrawal(operator)).tx_hash


def withdraw(
    chain: Chain, channels: Contract, sender: TxSigner, *, asker: str, operator: str
) -> int:
    """Pay `asker` its unspent deposit once its request has unlocked; returns the amount."""
    result = chain.transact(sender, channels.functions.withdraw(asker, operator))
    (log,) = chain.events_in(result, channels.events.Withdrawn)
    return int(log.args.amount)
