"""The labeling marketplace over HTTP: a job is posted and funded, a task fetched, a signed
answer taken, labels exported; every bad request is a 4xx with a message."""

import json

import numpy as np
import pytest

from aigora.core.eip712 import Domain, sign_typed
from aigora.core.keystore import Signer
from aigora.labels import LABEL_ANSWER_TYPES, answer_message, parse_spec
from tests.operator import operator_client

from .test_market import Marketplace


@pytest.fixture
def served(tmp_path):
    market = Marketplace(tmp_path / "node")
    try:
        yield market, operator_client(market.context)
    finally:
        market.context.close()


def test_post_fund_task_answer_export(served):
    market, client = served
    spec, truth = market.spec(np.random.default_rng(2))
    posted = client.post("/jobs", content=json.dumps(spec))
    assert posted.status_code == 200, posted.text
    job_id = posted.json()["job_id"]
    assert posted.json()["funded"] is False
    assert client.post("/jobs", content=json.dumps(spec)).json()["job_id"] == job_id  # idempotent
    escrow = parse_spec(spec).escrow
    assert int(posted.json()["escrow"]) == escrow
    market.chain.transact(
        market.requester, market.token.functions.approve(market.bounties.address, escrow)
    )
    market.chain.transact(
        market.requester,
        market.bounties.functions.open_job(
            bytes.fromhex(job_id[2:]), escrow, market.context.operator.address, spec["ends_at"]
        ),
    )
    shown = client.get(f"/jobs/{job_id}").json()
    assert shown["funded"] is True
    labeler = Signer.dev(bytes(range(1, 33)))
    found = client.get("/tasks/next", params={"labeler": labeler.address}).json()
    task = found["task"]
    assert task["job_id"] == job_id
    assert task["labels"] == spec["labels"]
    domain = Domain(
        **{
            k: found["domain"][v]
            for k, v in (
                ("name", "name"),
                ("version", "version"),
                ("chain_id", "chainId"),
                ("verifying_contract", "verifyingContract"),
            )
        }
    )
    label = truth[int(task["text"].split()[1])]  # items are served under shuffled numbers
    message = answer_message(job_id, task["item"], labeler.address, label)
    signature = sign_typed(labeler, domain, LABEL_ANSWER_TYPES, "LabelAnswer", message)
    body = {
        "job_id": job_id,
        "item": task["item"],
        "labeler": labeler.address,
        "label": label,
        "signature": "0x" + signature.hex(),
    }
    assert client.post("/answers", json=body).status_code == 201
    again = client.post("/answers", json=body)
    assert again.status_code == 400
    assert "already answered" in again.json()["detail"]
    early = client.get(f"/jobs/{job_id}/labels")
    assert early.status_code == 400
    assert "exported after it ends" in early.json()["detail"]
    market.chain.advance_time(3601)
    rows = client.get(f"/jobs/{job_id}/labels").json()["rows"]
    assert len(rows) >= 1


def test_bad_requests_are_4xx_with_a_message(served):
    market, client = served
    spec, _ = market.spec(np.random.default_rng(3))
    no_gold = {**spec, "items": [{"text": "x"}]}
    refused = client.post("/jobs", content=json.dumps(no_gold))
    assert refused.status_code == 400
    assert "gold" in refused.json()["detail"]
    assert client.post("/jobs", content=b"not json").status_code == 400
    bad_gold = {**spec, "items": [{"text": "x", "gold": 7}, {"text": "y"}]}
    assert "gold label 7" in client.post("/jobs", content=json.dumps(bad_gold)).json()["detail"]
    assert client.get("/tasks/next", params={"labeler": "0x12"}).status_code == 422
    assert client.get("/jobs/0x" + "00" * 32).status_code == 404
    body = {
        "job_id": "0x" + "11" * 32,
        "item": 0,
        "labeler": "0x" + "22" * 20,
        "label": 0,
        "signature": "0x" + "33" * 65,
    }
    answered = client.post("/answers", json=body)
    assert answered.status_code == 400
    assert "signature" in answered.json()["detail"]
