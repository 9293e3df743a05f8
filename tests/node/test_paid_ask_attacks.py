"""Paid asks attacked where the node's own timing is the weak point: an asker asks, at once
requests its deposit back and withdraws it before the node redeems. The node must never serve an
answer it cannot be paid for, so it takes no voucher when its background pass (which redeems a
channel with a pending withdrawal) cannot come within the channels contract's withdrawal delay.
Played against a real node, chain and database; the attacker's loss is asserted."""

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aigora.app import App, open_node
from aigora.core.keystore import Keystore, Signer
from aigora.node.app import create_app
from aigora.store import PaidReceipt, ReceiptRecord, session_scope
from tests.asks_kit import Asker, body

from .test_answers_api import PASSAGES, QUESTION, publish

PASSPHRASE = "paid ask attacks"
FEE = 5000
TOKEN = "operator-token-for-tests-" + os.urandom(8).hex()
DELAY = 600  # the channels contract's withdrawal delay: ten minutes
PASS_S = 3600  # the node's background pass: once an hour, longer than the delay


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A node charging FEE per answer whose background pass (every PASS_S) is rarer than the
    withdrawal delay of its channels contract (DELAY)."""
    directory: Path = tmp_path_factory.mktemp("attacks") / "node"
    directory.mkdir(parents=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    (directory / "config.toml").write_text(
        f"[chain]\nwithdraw_delay_s = {DELAY}\n\n[node]\nanchor_interval_s = {PASS_S}\n\n"
        f'[answers]\nfee = "{FEE}"\nrefresh_interval_s = 0\n',
        encoding="utf-8",
    )
    context = open_node(directory, PASSPHRASE)
    try:
        app = create_app(context, operator_token=TOKEN)
        services: App = app.state.services
        with TestClient(app, raise_server_exceptions=False) as client:
            author = Signer.dev(os.urandom(32))
            for text in PASSAGES:
                publish(client, context, author, text)
            operator = {"Authorization": f"Bearer {TOKEN}"}
            assert client.post("/snapshots", headers=operator).status_code == 200
            yield SimpleNamespace(client=client, context=context, services=services)
    finally:
        context.close()


def paid_receipts(context, asker: str) -> int:
    with session_scope(context.db) as session:
        return session.scalar(
            select(func.count()).select_from(PaidReceipt).where(PaidReceipt.asker == asker)
        )


def receipts(context) -> int:
    with session_scope(context.db) as session:
        return session.scalar(select(func.count()).select_from(ReceiptRecord))


def test_an_asker_cannot_withdraw_before_a_node_too_slow_to_redeem_is_paid(node):
    """The asker asks, requests its deposit back at once (on-chain, not through the node) and
    withdraws it when the delay has passed, before the node's next background pass. A node that
    answered would have served an answer for nothing: it refuses the voucher instead (503, the
    operator's configuration to fix), so every answer it served is redeemed."""
    context = node.context
    asker = Asker.new(context).fund(2 * FEE)
    before = receipts(context)
    answered = node.client.post("/ask", json=body(asker.voucher(FEE), QUESTION))
    served = paid_receipts(context, asker.address)
    asker.request_withdrawal()
    assert asker.withdraw() == 2 * FEE  # DELAY + 1 s later: the node's pass is an hour away
    assert served * FEE <= asker.channel().redeemed  # every answer served was paid
    assert answered.status_code == 503, answered.text
    assert answered.json()["error"] == "NoTimeToRedeem"
    assert "withdraw_delay" in answered.json()["detail"]
    assert receipts(context) == before
