"""Attacks on following a network, played end to end: a registered operator (or any anchorer)
whose endpoint lies in the transport itself (pages that never advance, pages and bodies too big
to hold, a trickle that never ends, bytes that are not JSON, a URL that is not one), an anchor
claiming more items than any node anchors, and a manifest that wins or loses authorship
depending on the order batches arrived in. Each test asserts what the honest node keeps: its
pass ends in bounded time and the honest batch anchored after the attacker's is imported.

The peers here are real HTTP servers on loopback, and the registry is the network's, deployed on
the embedded chain, so `sync` runs exactly as a node runs it.
"""

import base64
import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from aigora.chain import Chain, read_operator
from aigora.content import MAX_BATCH, batch_tree, content_message, domain_for, service, sign
from aigora.core.cid import cid_of
from aigora.core.keystore import Signer
from aigora.network import (
    MAX_BODY_BYTES,
    MAX_PAGE_BYTES,
    BadBatch,
    Network,
    NetworkPlan,
    PeerSource,
    PeerUnavailable,
    deploy_network,
    import_batch,
    sync,
)
from aigora.store import BatchItem, ContentItem, PeerBatch, session_scope
from tests.network.kit import (
    ALICE,
    BOB,
    DOMAIN,
    MemoryPeer,
    Node,
    anchored,
    digest_of,
    make_node,
    manifest,
    serve,
)

CONTENT = 0
SOCKET_SLACK = 8 * 1024 * 1024
"""What loopback socket buffers take from a sender before the reader hangs up."""
Respond = Callable[[BaseHTTPRequestHandler, str, dict[str, list[str]]], None]


# ---- a peer over real HTTP, honest or not ------------------------------------------------------


@dataclass
class Peer:
    """An HTTP server on loopback whose every GET is answered by `respond`; `sent` counts the
    body bytes it managed to write and `requests` the GETs it received."""

    respond: Respond
    sent: int = 0
    requests: int = 0
    server: ThreadingHTTPServer | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def write(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        handler.wfile.write(data)
        handler.wfile.flush()
        self.sent += len(data)


def start(respond: Respond) -> Peer:
    peer = Peer(respond)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            peer.requests += 1
            url = urlparse(self.path)
            # The importer hanging up on us is what most tests want.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                peer.respond(self, url.path, parse_qs(url.query))

        def log_message(self, *args: object) -> None:
            pass

    peer.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.server.daemon_threads = True
    threading.Thread(target=peer.server.serve_forever, daemon=True).start()
    return peer


def send_json(handler: BaseHTTPRequestHandler, peer: Peer, data: bytes, status: int = 200) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    peer.write(handler, data)


def not_found(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(404)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def page_of(items: list, query: dict[str, list[str]]) -> bytes:
    """The page a node serves of a batch holding `items`."""
    items = sorted(items, key=lambda item: digest_of(item, NETWORK_DOMAIN[0]))
    offset, limit = int(query["offset"][0]), int(query["limit"][0])
    page = items[offset : offset + limit]
    following = offset + len(page)
    document = {
        "items": [json.loads(service.signed_document(item)) for item in page],
        "next_offset": following if following < len(items) else None,
    }
    return json.dumps(document).encode()


def honest(batches: dict[str, list], bodies: dict[str, bytes]) -> Peer:
    """A peer serving `batches` (root: signed items) and `bodies` as a node does."""
    holder: list[Peer] = []

    def respond(handler, path, query):
        peer = holder[0]
        if path.startswith("/batches/") and path.split("/")[2] in batches:
            send_json(handler, peer, page_of(batches[path.split("/")[2]], query))
        elif path.startswith("/content/") and path.split("/")[2] in bodies:
            send_json(handler, peer, bodies[path.split("/")[2]])
        else:
            not_found(handler)

    holder.append(start(respond))
    return holder[0]


# ---- the network: the registry on the embedded chain, a victim store, signers -------------------


@dataclass
class Net:
    chain: Chain
    deployer: Signer
    registry: object
    token: object
    signers: list[Signer]

    def network(self, account: str, peer_timeout_s: float = 30.0) -> Network:
        domain = domain_for(self.chain.chain_id, self.registry.address)
        return Network(
            chain=self.chain,
            registry=self.registry,
            domain=domain,
            account=account,
            peer_timeout_s=peer_timeout_s,
        )

    @property
    def domain(self):
        return domain_for(self.chain.chain_id, self.registry.address)

    def root_of(self, items: list) -> str:
        return "0x" + batch_tree([digest_of(item, self.domain) for item in items]).root.hex()

    def register(self, signer: Signer, endpoint: str) -> None:
        """Bond `signer` as an operator with `endpoint` (or move it there if registered)."""
        if read_operator(self.chain, self.registry, signer.address).registered:
            self.chain.transact(signer, self.registry.functions.set_endpoint(endpoint))
            return
        bond = self.chain.call(self.registry.functions.min_bond())
        self.chain.transact(self.deployer, self.token.functions.mint(signer.address, bond))
        self.chain.transact(signer, self.token.functions.approve(self.registry.address, bond))
        self.chain.transact(signer, self.registry.functions.register_operator(bond, endpoint))

    def anchor(self, signer: Signer, kind: int, root: str, item_count: int) -> int:
        result = self.chain.transact(
            signer, self.registry.functions.anchor(kind, bytes.fromhex(root[2:]), item_count)
        )
        (event,) = self.chain.events_in(result, self.registry.events.BatchAnchored)
        return int(event.args.batch_id)


@pytest.fixture(scope="module")
def chain() -> Iterator[Chain]:
    with Chain.embedded() as made:
        yield made


@pytest.fixture
def net(chain: Chain) -> Net:
    """A fresh network on the module's chain for each test (its own registry)."""
    deployer, *signers = chain.dev_signers()
    network = deploy_network(chain, deployer, NetworkPlan("attacked"))
    registry = chain.contract("Registry", network.registry)
    token = chain.contract("Token", network.contracts["Token"].address)
    made = Net(chain, deployer, registry, token, signers)
    NETWORK_DOMAIN[:] = [made.domain]
    return made


NETWORK_DOMAIN: list = [DOMAIN]
"""The domain the HTTP peers sort leaves in: the current test's network."""


@pytest.fixture
def victim(tmp_path) -> Iterator[Node]:
    made = make_node(tmp_path / "victim")
    yield made
    made.db.dispose()


def signed_for(net: Net, author: Signer, body: bytes):
    message = content_message(author.address, body, "text/plain", "CC0-1.0", int(time.time()))
    return sign("content", author, net.domain, message)


def honest_batch_after(net: Net, author: Signer) -> tuple[Peer, str]:
    """An honest operator anchors one content batch and serves it: returns its peer and CID."""
    body = b"an honest essay anchored after the attack"
    item = signed_for(net, author, body)
    root = net.root_of([item])
    peer = honest({root: [item]}, {cid_of(body): body})
    net.register(author, peer.url)
    net.anchor(author, CONTENT, root, 1)
    return peer, cid_of(body)


def sync_within(
    net: Net, victim: Node, seconds: float, peer_timeout_s: float = 30.0
) -> dict[str, object]:
    """Run one pass in a thread; whether it ended within `seconds`, and its report or error."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["report"] = sync(
                net.network(ALICE.address, peer_timeout_s),
                victim.db,
                victim.blobs,
                now=int(time.time()),
            )
        except BaseException as exc:  # what escapes a pass is what the test asserts on
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    outcome["ended"] = not thread.is_alive()
    outcome["took_s"] = time.monotonic() - started
    return outcome


def assert_ended(outcome: dict[str, object]) -> None:
    """The pass ended by itself, with no exception out of it."""
    assert outcome["ended"], f"the pass was still running after {outcome['took_s']:.0f} s"
    assert "error" not in outcome, repr(outcome.get("error"))


def imported(victim: Node, cid: str) -> bool:
    with session_scope(victim.db) as session:
        return session.get(ContentItem, cid) is not None


def pending_errors(victim: Node) -> dict[int, str | None]:
    with session_scope(victim.db) as session:
        rows = session.scalars(select(PeerBatch).where(PeerBatch.state == "pending"))
        return {row.batch_id: row.last_error for row in rows}


JUNK_ROOT = "0x" + "77" * 32


def attacker(net: Net, respond: Respond, *, item_count: int = 1) -> Peer:
    """Mallory: a registered operator whose endpoint answers with `respond`, and who anchored
    a content batch (before the honest one) that only her endpoint claims to hold."""
    mallory = net.signers[5]
    peer = start(respond)
    net.register(mallory, peer.url)
    net.anchor(mallory, CONTENT, JUNK_ROOT, item_count)
    return peer


# ---- the transport: a peer that never advances, floods, trickles or sends garbage ---------------


def test_a_page_that_never_advances_cannot_hang_the_pass(net, victim):
    """Mallory serves `{"items": [], "next_offset": 0}` for every page of her batch: the same
    offset forever. The importer must refuse her, end its pass and import the honest batch."""

    def respond(handler, path, query):
        if path.startswith("/batches/"):
            send_json(handler, mallory, b'{"items": [], "next_offset": 0}')
        else:
            not_found(handler)

    mallory = attacker(net, respond)
    _, cid = honest_batch_after(net, net.signers[0])
    outcome = sync_within(net, victim, 20)
    assert outcome["ended"], f"the pass was still fetching after {mallory.requests} pages"
    assert "error" not in outcome, outcome.get("error")
    assert imported(victim, cid)
    assert mallory.requests < 10
    assert "next_offset" in str(pending_errors(victim))


def test_a_page_too_big_to_hold_is_cut_off(net, victim):
    """Mallory's batch page is 64 MiB of JSON (it could be 10 GB): the importer stops reading at
    its page limit instead of holding it all."""
    size = 64 * 1024 * 1024

    def respond(handler, path, query):
        if not path.startswith("/batches/"):
            return not_found(handler)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        mallory.write(handler, b'{"items": [], "pad": "')
        chunk = b"x" * (1024 * 1024)
        for _ in range(size // len(chunk) - 1):
            mallory.write(handler, chunk)
        mallory.write(handler, b"x" * (len(chunk) - 24) + b'"}')

    mallory = attacker(net, respond)
    _, cid = honest_batch_after(net, net.signers[0])
    outcome = sync_within(net, victim, 60)
    assert_ended(outcome)
    assert imported(victim, cid)
    assert mallory.sent <= MAX_PAGE_BYTES + SOCKET_SLACK


def test_a_body_too_big_is_cut_off_before_it_is_held(net, victim):
    """An honest-looking batch whose body is 64 MiB (it could be 10 GB, sent chunked, with no
    length): the importer stops at the largest body a node accepts."""
    body = b"a body mallory will never send whole"
    item = signed_for(net, net.signers[5], body)
    root = net.root_of([item])

    def respond(handler, path, query):
        if path.startswith("/batches/"):
            return send_json(handler, mallory, page_of([item], query))
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"y" * (1024 * 1024)
        for _ in range(64):
            mallory.write(handler, b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        mallory.write(handler, b"0\r\n\r\n")

    mallory = start(respond)
    net.register(net.signers[5], mallory.url)
    net.anchor(net.signers[5], CONTENT, root, 1)
    _, cid = honest_batch_after(net, net.signers[0])
    outcome = sync_within(net, victim, 60)
    assert_ended(outcome)
    assert imported(victim, cid)
    assert not imported(victim, cid_of(body))
    assert mallory.sent <= MAX_BODY_BYTES + SOCKET_SLACK


def test_a_trickling_peer_is_cut_off_at_the_deadline(net):
    """Slow-loris: Mallory sends a byte every half second, each well inside any read timeout,
    for as long as she likes. A request ends at the peer deadline, not when she stops."""

    def respond(handler, path, query):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(40):  # 20 s, then she gives up (so a failing run ends too)
            mallory.write(handler, b" ")
            time.sleep(0.5)

    mallory = start(respond)
    source = PeerSource(mallory.url, timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(PeerUnavailable):
        source.items(JUNK_ROOT, 1)
    took = time.monotonic() - started
    source.close()
    assert took < 6, f"the request lasted {took:.1f} s against a 2 s deadline"


def test_a_trickling_peer_does_not_stall_the_honest_batch(net, victim):
    def respond(handler, path, query):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        for _ in range(40):
            mallory.write(handler, b" ")
            time.sleep(0.5)

    mallory = attacker(net, respond)
    _, cid = honest_batch_after(net, net.signers[0])
    outcome = sync_within(net, victim, 15, peer_timeout_s=2.0)
    assert_ended(outcome)
    assert imported(victim, cid)


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b'\xff\xfe{"items": []}', id="not UTF-8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested past the recursion limit"),
        pytest.param(b'{"items": [], "next_offset": true}', id="a boolean offset"),
    ],
)
def test_a_page_that_is_not_json_is_refused_and_the_pass_goes_on(net, victim, garbage):
    """Bytes json cannot read in a way other than `JSONDecodeError` must be a refusal of this
    source, not an exception out of the pass (which, the batch being first every pass, would stop
    every later import for good)."""

    def respond(handler, path, query):
        if path.startswith("/batches/"):
            send_json(handler, mallory, garbage)
        else:
            not_found(handler)

    mallory = attacker(net, respond)
    _, cid = honest_batch_after(net, net.signers[0])
    for _ in range(2):  # and again next pass
        outcome = sync_within(net, victim, 30)
        assert_ended(outcome)
    assert imported(victim, cid)
    assert pending_errors(victim)  # hers stays pending, with why


def test_a_registered_endpoint_that_is_not_a_url_does_not_stop_the_pass(net, victim):
    """Mallory registers the endpoint `http://[::1` (the registry takes any string) and anchors a
    batch nobody holds, so every importer falls through to her endpoint."""
    mallory = net.signers[5]
    net.register(mallory, "http://[::1")
    net.anchor(mallory, CONTENT, JUNK_ROOT, 1)
    _, cid = honest_batch_after(net, net.signers[0])
    outcome = sync_within(net, victim, 30)
    assert_ended(outcome)
    assert imported(victim, cid)


def test_an_anchor_claiming_more_items_than_any_node_anchors_is_not_fetched(net, victim):
    """Mallory anchors item_count = 10**9 and serves well-formed pages forever: the importer
    would hold a billion items before checking one signature. It must refuse without asking."""
    filler = {"kind": "trust", "message": {}, "signature": "0x" + "00" * 65}

    def respond(handler, path, query):
        if not path.startswith("/batches/") or mallory.requests > 30:
            return not_found(handler)
        offset = int(query["offset"][0])
        page = {"items": [filler] * 1000, "next_offset": offset + 1000}
        send_json(handler, mallory, json.dumps(page).encode())

    mallory = attacker(net, respond, item_count=10**9)
    _, cid = honest_batch_after(net, net.signers[0])
    outcome = sync_within(net, victim, 60)
    assert_ended(outcome)
    assert imported(victim, cid)
    assert mallory.requests == 0
    assert f"at most {MAX_BATCH}" in str(pending_errors(victim))


# ---- what an import means must not depend on the order batches arrived in -----------------------


def test_the_author_of_a_cid_does_not_depend_on_import_order(node, other):
    """Batch 5 and batch 7 both hold Alice's manifest M of a body; batch 6 holds Bob's manifest
    of the same body. The first anchored manifest is M (batch 5), so Alice is the author. A node
    that saw 7 first (5 was withheld a while) and then 5 must not keep M as if anchored at 7,
    or Bob's batch 6 then outranks it: the two nodes would name different authors, and pay
    different people for the same passage."""
    peer = MemoryPeer()
    body = b"an essay whose author depends on arrival order"
    cid = cid_of(body)
    alices = manifest(body, author=ALICE)
    bobs = manifest(body, author=BOB)
    first = serve(peer, [alices], {cid: body}, batch_id=5, kind=CONTENT, anchorer=BOB.address)
    middle = serve(peer, [bobs], {cid: body}, batch_id=6, kind=CONTENT, anchorer=BOB.address)
    last = serve(peer, [alices], {cid: body}, batch_id=7, kind=CONTENT, anchorer=ALICE.address)
    for target, order in ((node, (first, middle, last)), (other, (last, first, middle))):
        for found in order:
            import_batch(target.db, target.blobs, DOMAIN, found, peer, now=int(time.time()))
    for target in (node, other):
        with session_scope(target.db) as session:
            assert session.get(ContentItem, cid).author == ALICE.address


def test_two_manifests_of_one_cid_in_one_batch_store_the_batch_not_nothing(node, other):
    """Mallory anchors one batch holding two manifests of the same body (hers and Bob's) beside
    a third essay. The batch must be stored whole, the first manifest in leaf order standing,
    on every node alike; it must never be marked imported with nothing stored (two rows for one
    CID collide, and a collision read as "another process stored it first" drops the batch
    while reporting it imported)."""
    peer = MemoryPeer()
    body, essay = b"one body, two manifests", b"a third essay in the same batch"
    claims = [manifest(body, author=ALICE), manifest(body, author=BOB), manifest(essay)]
    bodies = {cid_of(body): body, cid_of(essay): essay}
    found = serve(peer, claims, bodies, batch_id=3, kind=CONTENT)
    first = min(claims[:2], key=digest_of)
    for target in (node, other):
        done = import_batch(target.db, target.blobs, DOMAIN, found, peer, now=int(time.time()))
        assert done.new
        with session_scope(target.db) as session:
            assert session.get(ContentItem, cid_of(body)).digest == digest_of(first)
            assert session.get(ContentItem, cid_of(essay)) is not None
            stored = session.scalar(select(func.count()).select_from(BatchItem))
            assert stored == 3


def test_a_manifest_anchored_first_keeps_its_cid_whoever_anchors_a_copy_later(node):
    """Alice's manifest is anchored; Bob, having learned the CID from an answer, anchors his own
    manifest of it afterwards. Every node keeps Alice (the network-wide rule, first anchored);
    that a node reveals no CID before its manifest is anchored is tested on a network node
    (`test_join.py::test_a_network_node_reveals_no_cid_before_its_manifest_is_anchored`)."""
    body = b"alice's essay, anchored before anyone else saw it"
    peer = MemoryPeer()
    first = serve(peer, [manifest(body)], {cid_of(body): body}, batch_id=1, kind=CONTENT)
    late = serve(peer, [manifest(body, author=BOB)], {}, batch_id=2, kind=CONTENT)
    import_batch(node.db, node.blobs, DOMAIN, first, peer, now=int(time.time()))
    import_batch(node.db, node.blobs, DOMAIN, late, peer, now=int(time.time()))
    with session_scope(node.db) as session:
        assert session.get(ContentItem, cid_of(body)).author == ALICE.address


def test_a_batch_over_the_largest_a_node_anchors_is_refused_unasked(node):
    peer = MemoryPeer()
    found = anchored([manifest(b"one item")], batch_id=1, kind=CONTENT)
    huge = dataclasses.replace(found, item_count=MAX_BATCH + 1)
    with pytest.raises(BadBatch, match=f"at most {MAX_BATCH}"):
        import_batch(node.db, node.blobs, DOMAIN, huge, peer, now=int(time.time()))
    assert peer.requests == 0


# ---- JSON nested past the C stack -------------------------------------------------------------

NESTED_POST = """
import sys
from pathlib import Path
from fastapi.testclient import TestClient
from aigora.app import open_node
from aigora.node.app import create_app
from tests.node.conftest import PASSPHRASE, make_data_dir

context = open_node(make_data_dir(Path(sys.argv[1])), PASSPHRASE)
with TestClient(create_app(context), raise_server_exceptions=False) as client:
    nested = b"[" * 100_000 + b"]" * 100_000
    body = b'{"manifest": ' + nested + b', "signature": "0x", "body_base64": ""}'
    answer = client.post("/content", content=body, headers={"content-type": "application/json"})
    print(answer.status_code, client.get("/health").status_code)
context.close()
"""


def test_a_request_nested_past_the_c_stack_is_refused_not_a_crash(tmp_path):
    """py_ecc raises Python's recursion limit to 100,000 on import, past what the C stack holds:
    anyone could then kill a node with one 200 KB POST of brackets (and a peer could kill every
    importer with such a page). The node must answer it with an error and keep serving."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", NESTED_POST, str(tmp_path / "node")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == 0, f"the node died ({done.returncode}): {done.stderr[-2000:]}"
    status, health = (int(word) for word in done.stdout.split()[-2:])
    assert 400 <= status < 500
    assert health == 200


def test_a_body_sent_inline_that_is_not_its_cid_is_refused_and_nothing_is_stored(node):
    """Pages may carry their content items' bodies inline; a forged one is checked like any."""
    body = b"the passage as its author wrote it"
    item = manifest(body)
    found = anchored([item], batch_id=1, kind=CONTENT)

    def respond(handler, path, query):
        if path.startswith("/batches/"):
            page = json.loads(page_of([item], query))
            forged = b"the passage as a liar rewrote it"
            page["bodies"] = {cid_of(body): base64.b64encode(forged).decode()}
            send_json(handler, liar, json.dumps(page).encode())
        else:
            send_json(handler, liar, body)  # the honest body, by CID: never asked for

    liar = start(respond)
    source = PeerSource(liar.url)
    try:
        with pytest.raises(BadBatch, match="has CID"):
            import_batch(node.db, node.blobs, DOMAIN, found, source, now=int(time.time()))
    finally:
        source.close()
        liar.server.shutdown()
    assert liar.requests == 1  # the inline body was used, and refused
    with session_scope(node.db) as session:
        assert session.scalar(select(func.count()).select_from(ContentItem)) == 0
    assert not node.blobs.has(cid_of(body))
