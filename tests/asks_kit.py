"""Askers who pay a node for answers, for any test that needs paid receipts: each has its own
key, is funded with the dev token by the operator (its minter on a node's own chain) and signs
the voucher the node's channel state asks for next."""

import os
from dataclasses import dataclass

from aigora.app import Asks, NodeContext
from aigora.asks import Payment, channel_of, channels_domain, sign_voucher
from aigora.chain import ChannelRecord
from aigora.core.keystore import Signer


@dataclass
class Asker:
    """An asker of `context`'s node (its own key, nothing on-chain until `fund`)."""

    context: NodeContext
    signer: Signer

    @classmethod
    def new(cls, context: NodeContext) -> "Asker":
        return cls(context, Signer.dev(os.urandom(32)))

    @property
    def address(self) -> str:
        return self.signer.address

    @property
    def operator(self) -> str:
        return self.context.operator.address

    def fund(self, amount: int) -> "Asker":
        """Mint `amount` dev tokens to the asker and deposit them into its channel (the deposit
        also gives it gas on a dev chain)."""
        token = self.context.deployment.token
        self.context.chain.transact(
            self.context.operator, token.functions.mint(self.address, amount)
        )
        Asks(self.context).deposit(self.signer, asker=self.address, amount=amount)
        return self

    def voucher(self, cumulative: int, *, operator: str | None = None) -> Payment:
        channels = self.context.deployment.channels
        domain = channels_domain(self.context.chain.chain_id, channels.address)
        return sign_voucher(
            self.signer,
            domain,
            asker=self.address,
            operator=operator or self.operator,
            cumulative=cumulative,
        )

    def next_voucher(self) -> Payment:
        """The voucher the node asks for next (its `next_cumulative`)."""
        return self.voucher(int(Asks(self.context).channel(self.address).next_cumulative))

    def channel(self) -> ChannelRecord:
        channels = self.context.deployment.channels
        return channel_of(self.context.chain, channels, self.address, self.operator)

    def request_withdrawal(self) -> None:
        channels = self.context.deployment.channels
        self.context.chain.transact(
            self.signer, channels.functions.request_withdrawal(self.operator)
        )

    def withdraw(self) -> int:
        """Wait out the delay (the chain's clock moves) and take the deposit back."""
        channels = self.context.deployment.channels
        delay = int(self.context.chain.call(channels.functions.withdraw_delay()))
        self.context.chain.advance_time(delay + 1)
        before = self.balance()
        self.context.chain.transact(
            self.signer, channels.functions.withdraw(self.address, self.operator)
        )
        return self.balance() - before

    def balance(self) -> int:
        token = self.context.deployment.token
        return int(self.context.chain.call(token.functions.balanceOf(self.address)))


def body(payment: Payment, query: str, k: int = 2) -> dict:
    """A `POST /ask` body paying with `payment`."""
    return {"query": query, "k": k, "payment": payment.to_json()}
