"""A node serves each batch it anchored page by page, as anchored: a peer rebuilds the anchored
root from the served items alone. A node on its own contracts says it has no network."""

import base64
import time

from aigora.content import batch_tree, content_message, domain_for, service, sign
from aigora.core.keystore import Signer

AUTHOR = Signer.dev(bytes([0x44]) * 32)


def signing_domain(client):
    info = client.get("/eip712").json()
    return domain_for(info["domain"]["chainId"], info["domain"]["verifyingContract"])


def publish(client, domain, text: str) -> None:
    body = text.encode()
    message = content_message(AUTHOR.address, body, "text/plain", "CC0-1.0", int(time.time()))
    signed = sign("content", AUTHOR, domain, message)
    response = client.post(
        "/content",
        json={
            "manifest": message,
            "signature": "0x" + signed.signature.hex(),
            "body_base64": base64.b64encode(body).decode(),
        },
    )
    assert response.status_code == 201, response.text


def test_a_batch_is_served_in_pages_that_rebuild_its_root(client):
    domain = signing_domain(client)
    for i in range(5):
        publish(client, domain, f"passage number {i}")
    trustee = "0x" + "12" * 20
    message = {"truster": AUTHOR.address, "trustee": trustee, "createdAt": int(time.time())}
    vouch = sign("trust", AUTHOR, domain, message)
    response = client.post(
        "/trust", json={"trust": message, "signature": "0x" + vouch.signature.hex()}
    )
    assert response.status_code == 201, response.text
    batches = {b["kind"]: b for b in client.post("/anchor").json()["batches"]}
    content = batches["content"]
    items, offset = [], 0
    while offset is not None:
        page = client.get(f"/batches/{content['root']}", params={"offset": offset, "limit": 2})
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 2
        items.extend(body["items"])
        offset = body["next_offset"]
    assert len(items) == content["item_count"] == 5
    page = client.get(f"/batches/{content['root']}").json()
    assert {cid: base64.b64decode(text) for cid, text in page["bodies"].items()} == {
        item["message"]["cid"]: client.get(f"/content/{item['message']['cid']}/body").content
        for item in items
    }
    digests = ["0x" + service.signed_from_document(item).digest(domain).hex() for item in items]
    assert digests == sorted(digests)  # leaf order
    assert "0x" + batch_tree(digests).root.hex() == content["root"]
    # Vouches are anchored with the attestations, and served too.
    vouches = client.get(f"/batches/{batches['attestations']['root']}").json()
    assert [item["kind"] for item in vouches["items"]] == ["trust"]
    assert vouches["items"][0]["message"]["trustee"].lower() == trustee


def test_unknown_or_malformed_roots_are_clear_errors(client):
    missing = client.get("/batches/0x" + "00" * 32)
    assert missing.status_code == 404
    assert "no content or attestations batch" in missing.json()["detail"]
    assert client.get("/batches/not-a-root").status_code == 422


def test_a_node_on_its_own_contracts_has_no_network_to_follow(client):
    for response in (client.get("/network"), client.post("/network/sync")):
        assert response.status_code == 409
        assert "joined no network" in response.json()["detail"]
