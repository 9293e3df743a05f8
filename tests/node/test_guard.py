"""A public node holds up under abuse: per-client rate limits (429 with `Retry-After`) that a
spoofed `X-Forwarded-For` cannot escape, body caps (413, with or without `Content-Length`),
and a bound on what a flood of signed items from fresh keys can store before it is anchored."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from aigora.app import LimitsConfig, QuotaExceeded, check_pending_quota, open_node
from aigora.core.keystore import Signer
from aigora.node import create_app
from aigora.node.guard import CONTENT_BODY_BYTES, body_cap, client_key, rate_class, retry_after
from tests.node.conftest import PASSPHRASE, make_data_dir
from tests.node.test_content_api import manifest_request
from tests.operator import OPERATOR, OPERATOR_TOKEN

PROXY = "10.1.2.3"
CONFIG = f"""
[node]
trusted_proxies = ["{PROXY}/32", "fd00::/8"]
anchor_interval_s = 0

[answers]
refresh_interval_s = 0

[limits]
asks_per_minute = 2
writes_per_minute = 3
max_body_bytes = 4096
pending_per_author = 2
pending_total = 3
"""


# ---- the rules ---------------------------------------------------------------------------------


def test_a_client_is_its_address_and_an_ipv6_one_its_64():
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key(None) == "unknown"


def test_which_requests_count_against_which_limit():
    assert rate_class("POST", "/ask") == "ask"
    assert rate_class("POST", "/verify") == "ask"
    assert rate_class("POST", "/ui/receipts/0xab/verify") == "ask"
    assert rate_class("POST", "/content") == "write"
    assert rate_class("POST", "/claims/0xab") == "write"
    assert rate_class("GET", "/tasks/next") == "write"
    assert rate_class("GET", "/content/bafy") is None
    assert rate_class("GET", "/health") is None


def test_body_caps_and_retry_after():
    assert body_cap("/content", 4096) == CONTENT_BODY_BYTES > 13 * 2**20
    assert body_cap("/attestations", 4096) == 4096
    assert retry_after(100.2, 100.0) == 1
    assert retry_after(130.0, 100.5) == 30
    assert retry_after(90.0, 100.0) == 1


def test_the_pending_quota_rule():
    limits = LimitsConfig(pending_per_author=2, pending_total=5)
    check_pending_quota(1, 4, limits)
    with pytest.raises(QuotaExceeded, match="2\\)"):
        check_pending_quota(2, 2, limits)
    with pytest.raises(QuotaExceeded, match="5\\)"):
        check_pending_quota(0, 5, limits)


# ---- against a node ----------------------------------------------------------------------------


@contextlib.contextmanager
def _serving(directory: Path) -> Iterator[SimpleNamespace]:
    context = open_node(directory, PASSPHRASE)
    app = create_app(context, operator_token=OPERATOR_TOKEN)

    def client(host: str = "203.0.113.7") -> TestClient:
        return TestClient(app, raise_server_exceptions=False, client=(host, 50000))

    try:
        yield SimpleNamespace(context=context, app=app, client=client)
    finally:
        context.close()


@pytest.fixture
def node(tmp_path) -> Iterator[SimpleNamespace]:
    with _serving(make_data_dir(tmp_path / "node", CONFIG)) as served:
        yield served


@pytest.fixture
def stored_node(tmp_path, database_url) -> Iterator[SimpleNamespace]:
    """`node` on each database backend: the pending bound is counted in SQL."""
    config = CONFIG + f'\n[database]\nurl = "{database_url}"\n'
    with _serving(make_data_dir(tmp_path / "node", config)) as served:
        yield served


def _ask(client: TestClient, **headers: str):
    return client.post("/ask", json={"query": "which car?", "k": 1}, headers=headers)


def test_asks_past_the_rate_get_429_with_retry_after(node):
    client = node.client()
    first = [_ask(client).status_code for _ in range(2)]
    assert 429 not in first
    limited = _ask(client)
    assert limited.status_code == 429
    assert limited.json()["error"] == "RateLimited"
    assert "at most 2 a minute" in limited.json()["detail"]
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # Another client, and the operator, are not held back by this one.
    assert _ask(node.client("198.51.100.1")).status_code != 429
    assert all(_ask(client, **OPERATOR).status_code != 429 for _ in range(5))


def test_a_spoofed_forwarded_for_does_not_escape_the_limit(node):
    direct = node.client("203.0.113.9")
    answers = [_ask(direct, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code for n in range(4)]
    assert answers[2:] == [429, 429], "not a proxy: the header is ignored"


def test_a_trusted_proxy_names_each_client(node):
    proxy = node.client(PROXY)
    for n in range(4):  # four clients behind the proxy, two asks each: none is limited
        for _ in range(2):
            assert _ask(proxy, **{"X-Forwarded-For": f"192.0.2.{n}"}).status_code != 429
    # One of them, a third time, is.
    assert _ask(proxy, **{"X-Forwarded-For": "192.0.2.0"}).status_code == 429
    # A client cannot slip past by prepending an address: the proxy's own entry is the last.
    spoof = {"X-Forwarded-For": "192.0.2.77, 192.0.2.0"}
    assert _ask(proxy, **spoof).status_code == 429
    # IPv6 proxies in a trusted network are believed as well.
    ipv6_proxy = node.client("fd00::1")
    assert _ask(ipv6_proxy, **{"X-Forwarded-For": "2001:db8::5"}).status_code != 429


def test_writes_have_their_own_limit(node):
    client = node.client("203.0.113.20")
    codes = [client.post("/trust", json={}).status_code for _ in range(4)]
    assert codes[:3] == [422, 422, 422]
    assert codes[3] == 429
    assert _ask(client).status_code != 429, "asks are counted apart from writes"


def test_bodies_past_their_cap_get_413(node):
    client = node.client()
    big = {"attestation": {"reason": "x" * 8000}, "signature": "0x"}
    refused = client.post("/attestations", json=big)
    assert refused.status_code == 413
    assert refused.json()["error"] == "PayloadTooLarge"
    assert "at most 4096 bytes" in refused.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the node counts as it reads
        for _ in range(10):
            yield b"x" * 1000

    streamed = node.client("203.0.113.30").post(
        "/attestations", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    lying = node.client("203.0.113.31").post(
        "/attestations", content=b"{}", headers={"content-length": "nonsense"}
    )
    assert lying.status_code in (400, 413)


def _publish(client: TestClient, context, author: Signer, text: str, **headers: str):
    request = manifest_request(context, author, text.encode())
    return client.post("/content", json=request, headers=headers)


def test_a_flood_from_fresh_keys_stops_at_the_pending_bound(stored_node):
    node = stored_node
    context = node.context
    alice, bob = Signer.dev(os.urandom(32)), Signer.dev(os.urandom(32))
    # Each write from its own address, so the rate limit is not what stops them.
    clients = iter(node.client(f"198.51.100.{n}") for n in range(2, 40))
    assert _publish(next(clients), context, alice, "one").status_code == 201
    assert _publish(next(clients), context, alice, "two").status_code == 201
    third = _publish(next(clients), context, alice, "three")
    assert third.status_code == 429
    assert third.json()["error"] == "QuotaExceeded"
    assert "waiting to be anchored" in third.json()["detail"]
    assert third.headers["retry-after"] == "1"
    assert _publish(next(clients), context, bob, "bob's").status_code == 201
    fresh = [Signer.dev(os.urandom(32)) for _ in range(5)]
    flood = [_publish(next(clients), context, key, f"junk {n}") for n, key in enumerate(fresh)]
    assert {answer.status_code for answer in flood} == {429}, "the total bound holds"
    assert all("this node holds 3 items" in a.json()["detail"] for a in flood)
    # The operator's own writes are not held to it; anchoring empties the pool.
    assert _publish(next(clients), context, alice, "mine", **OPERATOR).status_code == 201
    assert next(clients).post("/anchor", headers=OPERATOR).status_code == 200
    assert _publish(next(clients), context, alice, "after the anchor").status_code == 201
