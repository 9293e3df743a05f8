"""Event scans read bounded block ranges: against anvil behind a proxy that, like many public
JSON-RPC providers, refuses `eth_getLogs` over more than a few blocks, a scan over a longer range
makes several bounded requests and returns every event exactly once, in chain order."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from aigora.chain import Chain
from aigora.chain.anvil import Anvil
from aigora.chain.deploy import deploy_foundation
from aigora.core.errors import ChainError, ConfigError

LIMIT = 4
"""The widest `eth_getLogs` range (in blocks, inclusive) the proxy lets through."""


@dataclass
class LogRangeProxy:
    """Forwards JSON-RPC to anvil, refusing and counting `eth_getLogs` ranges per `LIMIT`."""

    upstream: str
    ranges: list[tuple[int, int]] = field(default_factory=list)
    refused: list[tuple[int, int]] = field(default_factory=list)

    def answer(self, request: dict) -> dict:
        if request.get("method") == "eth_getLogs":
            (query,) = request["params"]
            low, high = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            if high - low + 1 > LIMIT:
                self.refused.append((low, high))
                error = {"code": -32005, "message": f"query exceeds max block range {LIMIT}"}
                return {"jsonrpc": "2.0", "id": request["id"], "error": error}
            self.ranges.append((low, high))
        return requests.post(self.upstream, json=request, timeout=10).json()


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[str, LogRangeProxy]]:
    with Anvil() as upstream:
        proxy = LogRangeProxy(upstream)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                reply = json.dumps(proxy.answer(json.loads(body))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}", proxy
        finally:
            server.shutdown()
            server.server_close()


def _mine(chain: Chain, blocks: int) -> None:
    for _ in range(blocks):
        chain.w3.provider.make_request("evm_mine", [])


def test_a_long_scan_makes_bounded_requests_and_sees_every_event_once(proxied):
    url, proxy = proxied
    chain = Chain.connect(url, max_range=LIMIT)
    owner, alice, bob = chain.dev_signers()[:3]
    deployment = deploy_foundation(chain, owner)
    token = deployment.token
    token_block = deployment.transactions["Token"].block_number
    amounts = list(range(1, 16))
    for amount in amounts:  # one transfer per block, with empty blocks between some
        receiver = alice if amount % 2 else bob
        chain.transact(owner, token.functions.mint(receiver.address, amount))
        _mine(chain, amount % 3)
    latest = chain.block_number()
    assert latest - token_block + 1 > 4 * LIMIT  # the scan must span many windows

    proxy.ranges.clear()
    start = chain.deployment_block(token.address)
    assert start == token_block  # found by bisection over eth_getCode
    minted = chain.events(token.events.Transfer, start)

    assert [int(log.args.value) for log in minted] == amounts  # each once, in chain order
    assert len(proxy.ranges) == -(-(latest - start + 1) // LIMIT)
    assert all(high - low + 1 <= LIMIT for low, high in proxy.ranges)
    assert [low for low, _ in proxy.ranges] == list(range(start, latest + 1, LIMIT))
    assert proxy.ranges[-1][1] == latest
    assert proxy.refused == []

    to_alice = chain.events(
        token.events.Transfer, start, argument_filters={"receiver": alice.address}
    )
    assert [int(log.args.value) for log in to_alice] == amounts[::2]

    # The same scan in one request is what such a provider refuses.
    wide = Chain.connect(url, max_range=latest + 1)
    with pytest.raises(ChainError, match="max block range"):
        wide.events(token.events.Transfer, start)
    assert proxy.refused == [(start, latest)]


def test_pages_end_where_a_resumed_scan_starts(proxied):
    url, proxy = proxied
    chain = Chain.connect(url, max_range=LIMIT)
    owner, alice = chain.dev_signers()[:2]
    token = deploy_foundation(chain, owner).token
    first = chain.deployment_block(token.address)
    chain.transact(owner, token.functions.mint(alice.address, 7))
    pages = list(chain.event_pages(token.events.Transfer, first))
    cursor = pages[-1][0]
    assert cursor == chain.block_number()
    chain.transact(owner, token.functions.mint(alice.address, 8))
    _mine(chain, 2 * LIMIT)
    chain.transact(owner, token.functions.mint(alice.address, 9))
    proxy.ranges.clear()
    resumed = chain.events(token.events.Transfer, cursor + 1)
    assert [int(log.args.value) for log in resumed] == [8, 9]
    assert proxy.ranges[0][0] == cursor + 1  # nothing before the cursor is read again
    assert sum(high - low + 1 for low, high in proxy.ranges) == chain.block_number() - cursor


def test_embedded_chain_pages_cover_the_range_without_overlap():
    with Chain.embedded(max_range=3) as chain:
        owner, alice = chain.dev_signers()[:2]
        token = deploy_foundation(chain, owner).token
        for amount in (1, 2, 3, 4, 5):
            chain.transact(owner, token.functions.mint(alice.address, amount))
        start = chain.deployment_block(token.address)
        pages = list(chain.event_pages(token.events.Transfer, start))
        ends = [end for end, _ in pages]
        assert ends == [*range(start + 2, chain.block_number(), 3), chain.block_number()]
        values = [int(log.args.value) for _, logs in pages for log in logs]
        assert values == [1, 2, 3, 4, 5]
        assert chain.events(token.events.Transfer, chain.block_number() + 1) == []


def test_a_scan_reads_at_least_one_block_per_request():
    with pytest.raises(ConfigError, match="at least one block"):
        Chain.embedded(max_range=0)
