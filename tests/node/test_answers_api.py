"""Asking and verifying over HTTP: an answer with a receipt that verifies, INVALID for a tampered
receipt, a 4xx with a message for every bad request, and the public data (snapshot, model) a
verifier fetches by root, each checked against its root."""

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from aigora.app import open_node
from aigora.content.signed import content_message, sign
from aigora.core.keystore import Keystore, Signer
from aigora.engine import IntModel
from aigora.index import Snapshot
from tests.operator import operator_client

PASSPHRASE = "answers api"
PASSAGES = (
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "Bananas are rich in potassium and easy to carry.",
    "Electric cars cost less to run but need a charger at home.",
    "The Kia Telluride is a spacious three-row SUV with a long warranty.",
)
QUESTION = "Which car fits eight people?"


def publish(client: TestClient, context, author: Signer, text: str) -> str:
    body = text.encode()
    message = content_message(author.address, body, "text/plain", "CC-BY-4.0", int(time.time()))
    signed = sign("content", author, context.domain, message)
    request = {
        "manifest": message,
        "signature": "0x" + signed.signature.hex(),
        "body_base64": base64.b64encode(body).decode(),
    }
    response = client.post("/content", json=request)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """One node, shared by the module, with the passages published and snapshotted over HTTP."""
    directory: Path = tmp_path_factory.mktemp("answers") / "node"
    directory.mkdir(parents=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    context = open_node(directory, PASSPHRASE)
    try:
        with operator_client(context) as client:
            author = Signer.dev(os.urandom(32))
            cids = {publish(client, context, author, text): text for text in PASSAGES}
            state = client.post("/snapshots")
            assert state.status_code == 200, state.text
            answer = client.post("/ask", json={"query": QUESTION, "k": 3})
            assert answer.status_code == 200, answer.text
            yield SimpleNamespace(
                client=client,
                context=context,
                author=author,
                cids=cids,
                state=state.json(),
                answer=answer.json(),
            )
    finally:
        context.close()


def test_a_snapshot_registers_what_was_published(served):
    state = served.state
    assert state["changed"] is True
    assert state["item_count"] == len(PASSAGES)
    listed = served.client.get("/snapshots").json()["snapshots"]
    assert [s["root"] for s in listed] == [state["root"]]
    shown = served.client.get(f"/snapshots/{state['root']}").json()
    assert shown["registered_tx"] is not None
    assert shown["model_root"] == state["model_root"]


def test_an_answer_lists_ranked_sources_and_a_receipt(served):
    answer = served.answer
    assert answer["query"] == QUESTION
    results = answer["results"]
    assert [r["rank"] for r in results] == [0, 1, 2]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for result in results:
        assert result["author"] == served.author.address
        assert served.cids[result["cid"]].startswith(result["excerpt"])
    assert served.cids[results[0]["cid"]].startswith("The Honda Odyssey")
    receipt = answer["receipt"]
    assert [r["cid"] for r in receipt["results"]] == [r["cid"] for r in results]
    assert receipt["receipt"]["snapshotRoot"] == served.state["root"]
    assert receipt["receipt"]["operator"] == served.context.operator.address


def test_the_receipt_verifies_and_a_tampered_one_does_not(served):
    receipt = served.answer["receipt"]
    verdict = served.client.post("/verify", content=json.dumps(receipt))
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["verdict"] == "VALID", verdict.json()
    assert verdict.json()["digest"] == served.answer["digest"]

    tampered = json.loads(json.dumps(receipt))
    tampered["receipt"]["fee"] = "1"
    verdict = served.client.post("/verify", content=json.dumps(tampered))
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["verdict"] == "INVALID"
    assert verdict.json()["check"] == "signature"

    swapped = json.loads(json.dumps(receipt))
    first, second = swapped["results"][0]["cid"], swapped["results"][1]["cid"]
    swapped["results"][0]["cid"], swapped["results"][1]["cid"] = second, first
    verdict = served.client.post("/verify", content=json.dumps(swapped))
    assert (verdict.json()["verdict"], verdict.json()["check"]) == ("INVALID", "results")


@pytest.mark.parametrize(
    "body", ["not json", "{}", "[1, 2]", '{"version": 1, "domain": {}}', "x" * 300_000]
)
def test_junk_sent_to_verify_is_a_400_with_a_message(served, body):
    response = served.client.post("/verify", content=body)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "request_body",
    [
        {"query": QUESTION, "k": 0},
        {"query": QUESTION, "k": 1000},
        {"query": QUESTION, "k": "many"},
        {"query": "", "k": 3},
        {"query": "   ", "k": 3},
        {"query": "q" * 2001},
        {"k": 3},
        {"query": QUESTION, "k": 3, "fee": "0"},
    ],
)
def test_a_bad_question_is_a_4xx_with_a_message(served, request_body):
    response = served.client.post("/ask", json=request_body)
    assert response.status_code in (400, 422), response.text
    assert response.json()["detail"]


def test_asking_before_any_snapshot_is_a_409_with_a_message(client):
    response = client.post("/ask", json={"query": QUESTION, "k": 3})
    assert response.status_code == 409, response.text
    assert "snapshot" in response.json()["detail"]


def test_a_stored_receipt_gains_an_anchor_proof(served):
    digest = served.answer["digest"]
    pending = served.client.get(f"/receipts/{digest}")
    assert pending.status_code == 200, pending.text
    assert pending.json()["anchor"] is None
    assert pending.json()["receipt"] == served.answer["receipt"]["receipt"]

    batches = served.client.post("/anchor").json()["batches"]
    assert "receipts" in {b["kind"] for b in batches}
    anchored = served.client.get(f"/receipts/{digest.upper().replace('0X', '0x')}").json()
    assert anchored["anchor"]["batchId"] >= 1
    assert isinstance(anchored["anchor"]["proof"], list)
    verdict = served.client.post("/verify", content=json.dumps(anchored)).json()
    assert verdict["verdict"] == "VALID", verdict
    assert not any("not anchored" in note for note in verdict["notes"])


def test_the_snapshot_file_matches_its_root(served):
    root = served.state["root"]
    response = served.client.get(f"/snapshots/{root}/data")
    assert response.status_code == 200
    snapshot = Snapshot.from_bytes(response.content, bytes.fromhex(root[2:]))
    assert sorted(snapshot.cids) == sorted(served.cids)


def test_the_model_file_matches_its_root(served, tmp_path):
    root = served.state["model_root"]
    response = served.client.get(f"/models/{root}")
    assert response.status_code == 200
    path = tmp_path / f"{root}.safetensors"
    path.write_bytes(response.content)
    assert IntModel.load(path, expected_root=root).root_hex == root


@pytest.mark.parametrize(
    "path",
    [
        "/receipts/0x" + "ab" * 32,
        "/snapshots/0x" + "ab" * 32,
        "/snapshots/0x" + "ab" * 32 + "/data",
        "/models/0x" + "ab" * 32,
    ],
)
def test_unknown_roots_are_404(served, path):
    response = served.client.get(path)
    assert response.status_code == 404, response.text
    assert "0x" + "ab" * 32 in response.json()["detail"]


def test_a_malformed_model_root_is_400(served):
    response = served.client.get("/models/latest")
    assert response.status_code == 400
    assert "64 hex digits" in response.json()["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("k", "--1"), ("nonce", "9" * 5000)],
    ids=["two minus signs", "5000 digits"],
)
def test_a_receipt_with_a_bad_number_is_a_400_not_a_500(served, field, value):
    document = json.loads(json.dumps(served.answer["receipt"]))
    document["receipt"][field] = value
    response = served.client.post("/verify", content=json.dumps(document))
    assert response.status_code == 400, response.text
    assert field in response.json()["detail"]
