"""Publishing, attesting and showing content over HTTP: 2xx for good requests, a 4xx with a message
for every bad one, nothing written by a refused request."""

import base64
import os
import time

import pytest

from aigora.content.signed import domain_for, sign
from aigora.core.cid import cid_of
from aigora.core.keystore import Signer


@pytest.fixture
def author():
    return Signer.dev(os.urandom(32))


def manifest_request(context, signer, body: bytes, **fields):
    message = {
        "author": signer.address,
        "cid": cid_of(body),
        "mediaType": "text/markdown",
        "license": "CC-BY-4.0",
        "url": "",
        "parents": [],
        "createdAt": int(time.time()),
        **fields,
    }
    signed = sign("content", signer, context.domain, message)
    return {
        "manifest": message,
        "signature": "0x" + signed.signature.hex(),
        "body_base64": base64.b64encode(body).decode(),
    }


def attestation_request(context, signer, cid, verdict="accurate", created_at=None):
    message = {
        "attester": signer.address,
        "cid": cid,
        "verdict": verdict,
        "reason": "read it",
        "createdAt": created_at or int(time.time()),
    }
    signed = sign("attestation", signer, context.domain, message)
    return {"attestation": message, "signature": "0x" + signed.signature.hex()}


def test_publish_show_and_body(client, context, author):
    body = b"# A claim\nwith sources"
    response = client.post("/content", json=manifest_request(context, author, body))
    assert response.status_code == 201, response.text
    cid = response.json()["id"]
    assert cid == cid_of(body)
    again = client.post("/content", json=manifest_request(context, author, body))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True

    shown = client.get(f"/content/{cid}").json()
    assert shown["manifest"]["author"] == author.address
    assert shown["anchor"] is None  # pending until the next batch
    raw = client.get(f"/content/{cid}/body")
    assert raw.content == body
    assert raw.headers["content-type"].startswith("text/markdown")


def test_attest_anchor_and_show_proofs(client, context, author):
    cid = client.post("/content", json=manifest_request(context, author, b"x")).json()["id"]
    request = attestation_request(context, author, cid)
    assert client.post("/attestations", json=request).status_code == 201
    replay = client.post("/attestations", json=request)
    assert replay.status_code == 409
    assert "already recorded" in replay.json()["detail"]

    batches = client.post("/anchor").json()["batches"]
    assert {b["kind"] for b in batches} == {"content", "attestations"}
    shown = client.get(f"/content/{cid}").json()
    assert shown["anchor"]["batch_id"] >= 1
    (attestation,) = shown["attestations"]
    assert attestation["verdict"] == "accurate"
    assert attestation["anchor"]["root"].startswith("0x")
    listed = client.get("/anchors").json()["anchors"]
    assert len(listed) == 2


@pytest.mark.parametrize(
    ("mutate", "status", "fragment"),
    [
        (lambda r: r.update(body_base64="***"), 400, "base64"),
        (lambda r: r.update(signature="0x1234"), 400, "65 bytes"),
        (lambda r: r.update(body_base64=base64.b64encode(b"other").decode()), 400, "body's CID"),
        (lambda r: r["manifest"].update(license="MIT"), 400, "signed by"),
        (lambda r: r["manifest"].pop("cid"), 422, "cid"),
        (lambda r: r.update(extra=1), 422, "extra"),
    ],
)
def test_bad_publications_are_4xx_and_write_nothing(
    client, context, author, mutate, status, fragment
):
    request = manifest_request(context, author, b"body")
    mutate(request)
    response = client.post("/content", json=request)
    assert response.status_code == status, response.text
    assert fragment in response.text
    assert client.get(f"/content/{cid_of(b'body')}").status_code == 404
    assert list(context.blobs) == []


def test_signature_for_another_deployment_is_refused(client, context, author):
    body = b"replayed from elsewhere"
    message = manifest_request(context, author, body)["manifest"]
    foreign = domain_for(context.chain.chain_id + 1, context.deployment.registry.address)
    signed = sign("content", author, foreign, message)
    request = {
        "manifest": message,
        "signature": "0x" + signed.signature.hex(),
        "body_base64": base64.b64encode(body).decode(),
    }
    assert client.post("/content", json=request).status_code == 400


def test_badge_by_url_and_signing_info(client, context, author):
    request = manifest_request(context, author, b"page", url="https://example.org/page")
    cid = client.post("/content", json=request).json()["id"]
    badge = client.get(f"/content/{cid}/badge.svg")
    assert badge.status_code == 200
    assert badge.headers["content-type"] == "image/svg+xml"
    assert badge.text.startswith("<svg")
    assert "unrated" in badge.text
    from aigora.content.signed import url_hash

    found = client.get(f"/content/by-url/{url_hash('https://example.org/page')}").json()
    assert found["cids"] == [cid]
    assert client.get("/content/by-url/nothex").status_code == 400
    info = client.get("/eip712").json()
    assert info["domain"]["chainId"] == context.chain.chain_id
    assert "Attestation" in info["types"]["attestation"]
    assert client.get(f"/content/{cid_of(b'unknown')}/badge.svg").status_code == 404


def test_vouch_over_http(client, context, author):
    other = Signer.dev(os.urandom(32))
    message = {"truster": author.address, "trustee": other.address, "createdAt": int(time.time())}
    signed = sign("trust", author, context.domain, message)
    request = {"trust": message, "signature": "0x" + signed.signature.hex()}
    assert client.post("/trust", json=request).status_code == 201
    assert client.post("/trust", json=request).status_code == 409
