"""Askers who pay a node for answers, for any test that needs paid receipts: each has its own
key, is funded with the dev token by the operator (its minter on a node's own chain) and signs
the voucher the node's channel state asks for next."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from fastapi.testclient import TestClient

from aigora.app import App, Asks, NodeContext, open_node
from aigora.asks import Payment, channel_of, channels_domain, sign_voucher
from aigora.chain import ChannelRecord
from aigora.core.keystore import Keystore, Signer
from aigora.node.app import create_app

PASSPHRASE = "paid asks"
"""The operator key's passphrase on a `paid_node`."""


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

    def fund(self, amount: int, *, minter: Signer | None = None) -> "Asker":
        """Mint `amount` dev tokens to the asker and deposit them into its channel (the deposit
        also gives it gas on a dev chain). The token's minter is the operator on a node's own
        chain; in a network pass the one that deployed it."""
        token = self.context.deployment.token
        self.context.chain.transact(
            minter or self.context.operator, token.functions.mint(self.address, amount)
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


@contextmanager
def paid_node(directory: Path, config: str, *, token: str) -> Iterator[SimpleNamespace]:
    """A node in `directory` with `config.toml` `config` (a fee, for paid asks), served by a
    TestClient with operator token `token` (no background pass runs unless a test runs it),
    the answers test passages published and snapshotted: `client`, `context`, `services`."""
    from tests.node.test_answers_api import PASSAGES, publish

    directory.mkdir(parents=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    (directory / "config.toml").write_text(config, encoding="utf-8")
    context = open_node(directory, PASSPHRASE)
    try:
        app = create_app(context, operator_token=token)
        services: App = app.state.services
        with TestClient(app, raise_server_exceptions=False) as client:
            author = Signer.dev(os.urandom(32))
            for text in PASSAGES:
                publish(client, context, author, text)
            operator = {"Authorization": f"Bearer {token}"}
            assert client.post("/snapshots", headers=operator).status_code == 200
            yield SimpleNamespace(client=client, context=context, services=services)
    finally:
        context.close()
