"""End to end on anvil: `aigora devnet --nodes 3`, then what makes it one network. Content
published on A and attested on B is answered on C; a fourth party with no data directory
verifies C's receipt from the chain and public URLs alone; the author on A is paid for C's
answer, which an asker paid for through the network's Channels; a peer serving a tampered
batch is refused and the batch comes from another peer; a node stopped during traffic catches
up with nothing lost and nothing twice; reputation digests are equal on every node; Ctrl-C
stops every node by PID.

All tests share one devnet (`xdist_group`: they run on one worker, in file order). Its nodes'
background passes are an hour apart: each test anchors, snapshots and syncs when it means to,
so no background pass can race it."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from aigora.app import keystore_for, open_store
from aigora.asks import Payment, deposit, sign_voucher
from aigora.chain import Chain
from aigora.core.eip712 import Domain
from aigora.core.keystore import Signer
from aigora.store import Anchor, BatchItem, ContentItem, PeerBatch, session_scope
from tests.network.devnet_kit import Devnet, DevnetNode, LyingPeer, attest, publish, vouch

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("devnet")]

FEE = 1_000_000
AUTHOR = Signer.dev(bytes([0x11]) * 32)
ATTESTER = Signer.dev(bytes([0x22]) * 32)
OTHER_ATTESTER = Signer.dev(bytes([0x33]) * 32)
PASSAGES = (
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "Bananas are rich in potassium and easy to carry on a long walk.",
    "The Kia Telluride is a spacious three-row SUV with a long warranty.",
)


@pytest.fixture(scope="module")
def devnet(tmp_path_factory):
    net = Devnet(tmp_path_factory.mktemp("devnet") / "net", nodes=3, fee=FEE)
    try:
        yield net
    finally:
        net.stop()


def wait_until(condition, timeout_s: float = 120, what: str = "condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def anchored(node: DevnetNode) -> list[dict]:
    return node.post("/anchor", operator=True)["batches"]


def content_on(node: DevnetNode) -> dict[str, str]:
    """CID: author of every manifest the node holds (read from its store, beside the node)."""
    store = open_store(node.data_dir)
    try:
        with session_scope(store.db) as session:
            return {row.cid: row.author for row in session.scalars(select(ContentItem))}
    finally:
        store.close()


def pay_for_an_ask(devnet, node: DevnetNode) -> Payment:
    """An anvil account deposits one fee into its channel with `node`'s operator, in the
    network's Channels, and signs the voucher the node's terms and channel state ask for."""
    terms = node.get("/asks/terms")
    assert terms["channels"] == devnet.network["contracts"]["Channels"]["address"]
    with Chain.connect(devnet.rpc) as chain:
        minter, asker = chain.dev_signers()[0], chain.dev_signers()[5]
        token = chain.contract("Token", devnet.network["contracts"]["Token"]["address"])
        channels = chain.contract("Channels", terms["channels"])
        chain.transact(minter, token.functions.mint(asker.address, FEE))
        operator = terms["operator"]
        deposit(chain, token, channels, asker, asker=asker.address, operator=operator, amount=FEE)
    state = node.get(f"/asks/channels/{asker.address}")
    assert state["available"] == str(FEE)
    return sign_voucher(
        asker,
        Domain.from_dict(terms["domain"]),
        asker=asker.address,
        operator=terms["operator"],
        cumulative=int(state["next_cumulative"]),
    )


@pytest.fixture(scope="module")
def answered(devnet):
    """Publish on A, attest on B, answer on C (an asker pays its fee), and anchor C's receipt."""
    a, b, c = devnet.nodes
    cids = [publish(a, devnet.domain, AUTHOR, text) for text in PASSAGES]
    content_batches = anchored(a)
    assert [batch["kind"] for batch in content_batches] == ["content"]
    assert b.sync()["imported"]
    assert set(cids) <= set(content_on(b))
    attest(b, devnet.domain, ATTESTER, cids[0], "accurate")
    vouch(b, devnet.domain, ATTESTER, OTHER_ATTESTER.address)
    assert [batch["kind"] for batch in anchored(b)] == ["attestations"]
    c.sync()
    view = c.get(f"/content/{cids[0]}")
    assert view["manifest"]["author"] == AUTHOR.address
    assert view["anchor"] is not None  # its proof against the batch A anchored
    assert [att["attester"] for att in view["attestations"]] == [ATTESTER.address]
    c.post("/snapshots", operator=True)
    payment = pay_for_an_ask(devnet, c)
    question = {"query": "which car has room for eight?", "k": 2}
    answer = c.post("/ask", {**question, "payment": payment.to_json()})
    assert answer["receipt"]["receipt"]["fee"] == str(FEE)
    anchored(c)
    return {"cids": cids, "answer": answer, "content_batch": content_batches[0]}


def test_content_from_a_attested_on_b_is_answered_on_c(devnet, answered):
    answer = answered["answer"]
    top = answer["results"][0]
    assert top["cid"] == answered["cids"][0]
    assert top["author"] == AUTHOR.address
    operator = devnet.nodes[2]
    assert (
        answer["receipt"]["receipt"]["operator"].lower()
        == operator.get("/chain/status")["operator"]["address"].lower()
    )


def test_a_fourth_party_with_no_data_directory_verifies_the_receipt(devnet, answered, tmp_path):
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps(answered["answer"]["receipt"]))
    nobody = tmp_path / "nobody"  # no data directory of any node
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
    env["AIGORA_HOME"] = str(nobody)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "aigora",
            "verify",
            str(receipt),
            "--rpc",
            devnet.rpc,
            "--network",
            str(devnet.network_file),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["verdict"] == "VALID"
    assert not nobody.exists()
    # The same receipt with its top score raised is caught the same way, from anywhere.
    forged = json.loads(receipt.read_text())
    score = forged["results"][0]["score"]
    forged["results"][0]["score"] = type(score)(int(score) + 1)
    receipt.write_text(json.dumps(forged))
    caught = subprocess.run(done.args, env=env, capture_output=True, text=True, timeout=600)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert json.loads(caught.stdout)["verdict"] == "INVALID"


def test_an_author_on_a_is_paid_for_answers_served_by_c(devnet, answered):
    c = devnet.nodes[2]
    epoch = c.post("/epochs", operator=True)
    assert epoch["receipts"] == 1, epoch
    assert int(epoch["usage_total"]) == FEE - int(epoch["operator_total"]), epoch
    earned = c.get(f"/earnings/{AUTHOR.address}")
    assert int(earned["total"]) > 0, earned
    with Chain.connect(devnet.rpc) as chain:
        token = chain.contract("Token", devnet.network["contracts"]["Token"]["address"])
        before = chain.call(token.functions.balanceOf(AUTHOR.address))
        claim = c.post(f"/claims/{AUTHOR.address}")
        after = chain.call(token.functions.balanceOf(AUTHOR.address))
    assert before == 0  # the author holds no crypto: C relays the claim and pays its gas
    assert after - before == int(claim["paid"]) == int(earned["total"])
    assert claim["poster"] == c.get("/chain/status")["operator"]["address"]


def test_a_peer_serving_a_tampered_batch_is_refused_and_another_peer_supplies_it(devnet, answered):
    a, _, c = devnet.nodes
    batch = answered["content_batch"]
    liar = LyingPeer(a.url)
    try:
        with Chain.connect(devnet.rpc) as chain:
            registry = chain.contract(
                "Registry", devnet.network["contracts"]["Registry"]["address"]
            )
            token = chain.contract("Token", devnet.network["contracts"]["Token"]["address"])
            deployer, signer = chain.dev_signers()[0], chain.dev_signers()[7]
            bond = int(devnet.network["params"]["min_bond"])
            chain.transact(deployer, token.functions.mint(signer.address, bond))
            chain.transact(signer, token.functions.approve(registry.address, bond))
            chain.transact(signer, registry.functions.register_operator(bond, liar.url))
            # The liar anchors a real batch's root as its own: importers ask it first.
            root = bytes.fromhex(batch["root"][2:])
            chain.transact(signer, registry.functions.anchor(0, root, batch["item_count"]))
        result = c.sync()
    finally:
        liar.close()
    assert liar.served >= 1
    assert any(refusal.startswith(liar.url) for refusal in result["refused"]), result
    assert "signed by" in " ".join(result["refused"])
    assert result["pending"] == 0
    assert f"from {liar.url}" in c.log()
    state = c.get("/network")
    assert state["pending"] == []
    page = httpx.get(f"{c.url}/ui/network", timeout=60)
    assert page.status_code == 200
    assert "joined the network <strong>devnet</strong>" in page.text
    assert f"{state['batches_imported']} imported from peers" in page.text
    liar_batches = [row for row in anchors_on(c) if row["anchored_by"] == signer.address]
    assert [row["root"] for row in liar_batches] == [batch["root"]]


def anchors_on(node: DevnetNode) -> list[dict]:
    return node.get("/anchors", limit=500)["anchors"]


def stored_batches(node: DevnetNode) -> tuple[list[int], int, int]:
    """The node's anchors' batch ids, how many items those anchors should hold, and hold."""
    store = open_store(node.data_dir)
    try:
        with session_scope(store.db) as session:
            ids = list(session.scalars(select(Anchor.batch_id).where(Anchor.kind != "receipts")))
            expected = session.scalar(
                select(func.coalesce(func.sum(Anchor.item_count), 0)).where(
                    Anchor.kind != "receipts"
                )
            )
            held = session.scalar(select(func.count()).select_from(BatchItem))
            pending = session.scalar(
                select(func.count()).select_from(PeerBatch).where(PeerBatch.state == "pending")
            )
            assert pending == 0
            return ids, expected, held
    finally:
        store.close()


def test_a_node_stopped_during_traffic_catches_up_with_nothing_lost_or_twice(devnet, answered):
    a, b, c = devnet.nodes
    os.kill(b.pid, signal.SIGTERM)
    wait_until(lambda: not b.data_dir.joinpath("node.json").exists(), what="B to stop")
    written = []
    for round_ in range(3):  # traffic on the others while B is down
        written.append(publish(a, devnet.domain, AUTHOR, f"Round {round_}: a note on tyres."))
        attest(c, devnet.domain, OTHER_ATTESTER, written[-1], "accurate")
        anchored(a)
        anchored(c)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
    env["AIGORA_PASSPHRASE"] = "devnet"
    with (b.data_dir / "node.log").open("ab") as log:
        restarted = subprocess.Popen(
            [sys.executable, "-m", "aigora", "up", "--data-dir", str(b.data_dir)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until(
            lambda: _answers(b.url), timeout_s=180, what="B to answer again after its restart"
        )
        b.sync()
        b.sync()  # a second pass finds nothing new and records nothing twice
        a.sync()
        assert set(written) <= set(content_on(b))
        assert content_on(b) == content_on(a)
        ids, expected, held = stored_batches(b)
        assert len(ids) == len(set(ids))
        assert held == expected
        assert sorted(ids) == sorted(stored_batches(a)[0])
        test_reputation_digests_are_equal_on_every_node(devnet, answered)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(timeout=60)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_reputation_digests_are_equal_on_every_node(devnet, answered):
    for node in devnet.nodes:
        if _answers(node.url):
            node.sync()
    digests = {}
    for node in devnet.nodes:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "aigora",
                "reputation",
                "compute",
                "--data-dir",
                str(node.data_dir),
                "--json",
            ],
            env={**devnet.env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        digests[node.name] = json.loads(done.stdout)
    assert len({d["result_digest"] for d in digests.values()}) == 1, digests
    assert all(d["ratings"] >= 1 and d["trust_edges"] >= 1 for d in digests.values()), digests


def test_the_nodes_operators_are_the_seeds_and_vote_on_the_policy(devnet, answered):
    """`aigora devnet` makes each node's key before it deploys: the operators are the seeds,
    the genesis policy's voters, each with an equal share of the standing."""
    operators = sorted(  # from each node's keystore: an earlier test leaves one node stopped
        next(k.address for k in keystore_for(Path(node.data_dir)).list() if k.name == "operator")
        for node in devnet.nodes
    )
    assert sorted(devnet.network["reputation"]["seeds"]) == operators
    state = devnet.nodes[0].get("/governance")
    powers = state["in_force"]["policy"]["standing"]["powers"]
    assert sorted(powers) == operators
    assert len(set(powers.values())) == 1


def test_ctrl_c_stops_every_node_and_anvil(devnet, answered):
    pids = [node.pid for node in devnet.nodes]
    output = devnet.stop()
    assert "devnet stopped" in output
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(httpx.HTTPError):
        httpx.post(devnet.rpc, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"})
