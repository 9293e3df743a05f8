"""A node that charges a fee answers only its operator until paid asks exist: `/ask` collects
nothing from an asker, so every other ask would only add to what the operator owes the authors.
Anyone else gets 402 and nothing is recorded; the operator proves itself with the node's token
(`Authorization: Bearer` from the CLI, a cookie set by signing in on the pages). With no fee,
anyone may ask."""

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from aigora.app import PaymentRequired, check_ask_allowed, open_node
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
        f"this node charges a fee ({FEE} base units per answer), so asking is limited to its "
        "operator until paid asks exist"
    )
    assert receipts(paid.context) == before
    assert TOKEN not in response.text


def test_the_operator_asks_with_its_token_and_the_receipt_carries_the_fee(paid):
    before = receipts(paid.context)
    response = ask(paid.client, Authorization=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.text
    assert response.json()["receipt"]["receipt"]["fee"] == str(FEE)
    assert receipts(paid.context) == before + 1


def test_the_pages_refuse_until_the_operator_signs_in(paid):
    client = paid.client
    client.cookies.clear()
    refused = client.post("/ui/ask", data={"query": QUESTION, "k": "2"})
    assert refused.status_code == 402
    assert "asking is limited to its operator" in refused.text
    assert 'href="/ui/operator"' in refused.text
    wrong = client.post("/ui/operator", data={"token": "guess"}, follow_redirects=False)
    assert wrong.status_code == 403
    assert "not the operator token of this node" in wrong.text
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
    ("fee", "by_operator", "allowed"),
    [
        (0, False, True),
        (0, True, True),
        (1, True, True),
        (1, False, False),
    ],
)
def test_the_ask_rule(fee, by_operator, allowed):
    if allowed:
        check_ask_allowed(fee, by_operator)
    else:
        with pytest.raises(PaymentRequired):
            check_ask_allowed(fee, by_operator)
