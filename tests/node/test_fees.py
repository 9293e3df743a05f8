"""A node that charges a fee answers an ask only against a voucher (`tests/node/
test_paid_asks.py` plays paid asks and their attacks) or from its operator, for free: an ask
nobody pays for records no fee, so it never adds to what the operator owes the authors. Without
a voucher anyone else gets 402 saying how to pay, and nothing is recorded; the operator proves
itself with the node's token (`Authorization: Bearer` from the CLI, a cookie set by signing in
on the pages). With no fee, anyone may ask."""

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aigora.app import PaymentRequired, open_node
from aigora.asks import fee_for_ask
from aigora.core.keystore import Keystore, Signer
from aigora.node.app import create_app
from aigora.store import session_scope
from aigora.store.answer_models import ReceiptRecord

from .test_answers_api import PASSAGES, QUESTION, publish

PASSPHRASE = "fees"
FEE = 7000
TOKEN = "operator-token-for-tests-" + os.urandom(8).hex()


@pytest.fixture(scope="module")
def paid(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A node charging FEE per answer, with the passages published and snapshotted."""
    directory: Path = tmp_path_factory.mktemp("fees") / "node"
    directory.mkdir(parents=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    (directory / "config.toml").write_text(f'[answers]\nfee = "{FEE}"\n', encoding="utf-8")
    context = open_node(directory, PASSPHRASE)
    try:
        app = create_app(context, operator_token=TOKEN)
        with TestClient(app, raise_server_exceptions=False) as client:
            author = Signer.dev(os.urandom(32))
            for text in PASSAGES:
                publish(client, context, author, text)
            assert (
                client.post("/snapshots", headers={"Authorization": f"Bearer {TOKEN}"}).status_code
                == 200
            )
            yield SimpleNamespace(client=client, context=context)
    finally:
        context.close()


def receipts(context) -> int:
    with session_scope(context.db) as session:
        return session.scalar(select(func.count()).select_from(ReceiptRecord))


def ask(client: TestClient, **headers: str):
    return client.post("/ask", json={"query": QUESTION, "k": 2}, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-the-token"}, {"Authorization": TOKEN}],
    ids=["no token", "wrong token", "no bearer scheme"],
)
def test_a_plain_ask_is_refused_with_402_and_records_nothing_owed(paid, headers):
    before = receipts(paid.context)
    response = ask(paid.client, **headers)
    assert response.status_code == 402
    body = response.json()
    assert body["error"] == "PaymentRequired"
    assert body["detail"] == (
        f"this node charges {FEE} base units per answer: deposit into a channel with its "
        "operator, then send a signed voucher as `payment` with each ask (GET /asks/terms says "
        "how to pay, GET /asks/channels/{asker} what to sign next)"
    )
    assert receipts(paid.context) == before
    assert TOKEN not in response.text


def test_the_operator_asks_with_its_token_and_pays_no_fee(paid):
    """The operator would pay itself: its receipt charges nothing, so no epoch splits it."""
    before = receipts(paid.context)
    response = ask(paid.client, Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.text
    assert response.json()["receipt"]["receipt"]["fee"] == "0"
    assert receipts(paid.context) == before + 1


def test_the_pages_refuse_until_the_operator_signs_in(paid):
    client = paid.client
    client.cookies.clear()
    refused = client.post("/ui/ask", data={"query": QUESTION, "k": "2"})
    assert refused.status_code == 402
    assert "send a signed voucher" in refused.text
    assert 'href="/ui/operator"' in refused.text
    wrong = client.post("/ui/operator", data={"token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert "operator token (node.token in its data dir)" in wrong.text
    assert "aigora_operator" not in wrong.headers.get("set-cookie", "")
    before = receipts(paid.context)
    signed_in = client.post("/ui/operator", data={"token": TOKEN}, follow_redirects=False)
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    answered = client.post("/ui/ask", data={"query": QUESTION, "k": "2"})
    assert answered.status_code == 200, answered.text
    assert "/ui/receipts/0x" in answered.text
    assert receipts(paid.context) == before + 1
    client.cookies.clear()


def test_without_a_fee_anyone_may_ask(paid, monkeypatch):
    config = paid.context.config
    free = config.model_copy(update={"answers": config.answers.model_copy(update={"fee": "0"})})
    monkeypatch.setattr(paid.context, "config", free)
    before = receipts(paid.context)
    response = ask(paid.client)
    assert response.status_code == 200, response.text
    assert response.json()["receipt"]["receipt"]["fee"] == "0"
    assert receipts(paid.context) == before + 1


def test_a_node_started_without_a_token_has_no_operator_over_http(paid):
    with TestClient(create_app(paid.context), raise_server_exceptions=False) as client:
        assert ask(client, Authorization="Bearer ").status_code == 402
        assert ask(client, Authorization=f"Bearer {TOKEN}").status_code == 402


@pytest.mark.parametrize(
    ("fee", "by_operator", "paying", "charged"),
    [
        (0, False, False, 0),
        (0, False, True, 0),  # a voucher on a free node is not spent
        (0, True, False, 0),
        (1, True, False, 0),  # the operator asks for free
        (1, True, True, 1),  # ... unless it chooses to pay, like anyone
        (1, False, True, 1),
        (1, False, False, None),
    ],
)
def test_the_ask_rule(fee, by_operator, paying, charged):
    if charged is None:
        with pytest.raises(PaymentRequired, match="GET /asks/terms"):
            fee_for_ask(fee, by_operator=by_operator, paying=paying)
    else:
        assert fee_for_ask(fee, by_operator=by_operator, paying=paying) == charged
