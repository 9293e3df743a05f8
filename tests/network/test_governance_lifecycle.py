"""A policy change played through on a real governed network (anvil, the compiled Governor) with
two nodes that each serve their HTTP API on loopback, as `aigora up` does: node 1's users publish,
node 2 imports the batch, both snapshot under the genesis policy; a seed proposes removing one
passage, seeds vote with their own keys through either node, the proposal is queued, executed
after its timelock, and both nodes read the new policy in force from the same block. Their next
snapshots commit to it and leave the passage out, and each node's `verify` holds the other's
answers to it: an operator that keeps answering under the superseded policy past the stale grace,
drops a passage the policy admits (censorship), serves one it removed, or names a policy never in
force, is caught by node 2 from its own store, naming the passage.

A double vote replayed through the other node and a defeated proposal are refused with their
reason here; a vote after the end, an early execution and the other refusals of the governance
routes are played in tests/node/test_governance_routes.py.

The tests share one network and run in file order on one worker (`xdist_group`): the first
plays the change, the later ones build on the policy it enacted."""

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import uvicorn

from aigora.app import Answers, App, ensure_operator_token, open_node
from aigora.chain import Anvil, Chain
from aigora.chain.anvil import free_port
from aigora.core.hashing import keccak
from aigora.core.keystore import Signer
from aigora.engine import IntModel, load_default_model
from aigora.governance import Policy, policy_from_data
from aigora.node import create_app
from aigora.verify import parse_document
from tests.governance_kit import (
    SEEDS,
    TIMELOCK_S,
    VOTING_PERIOD_S,
    Governed,
    advance,
    deploy_governed,
    edited,
    joined_dir,
    propose_over_http,
    signature_over,
    vote_over_http,
)
from tests.network.devnet_kit import DevnetNode, publish
from tests.node.conftest import PASSPHRASE

pytestmark = [pytest.mark.anvil, pytest.mark.xdist_group("governance-lifecycle")]

AUTHOR = Signer.dev(bytes([0x61]) * 32)
PASSAGES = (
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "Bananas are rich in potassium and easy to carry on a long walk.",
    "The Kia Telluride is a spacious three-row SUV with a long warranty.",
    "Sourdough bread rises slowly because wild yeast ferments the dough.",
)
QUESTION = {"query": "which car has room for eight?", "k": 2}
REASON = "a copy of a paywalled article"


@dataclasses.dataclass
class ServedNode:
    """A node opened in-process and served over real HTTP on its registered port, so peers
    import its batches and verifiers fetch its snapshots the way they do from `aigora up`."""

    http: DevnetNode
    app: App
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.app.context.close()


def serve_node(directory: Path, governed: Governed, model: IntModel) -> ServedNode:
    port = free_port()
    context = open_node(joined_dir(directory, governed, port), PASSPHRASE)
    fastapi_app = create_app(
        context,
        Answers(context, load_model=lambda: model),
        operator_token=ensure_operator_token(directory),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            fastapi_app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the node's server did not start"
        time.sleep(0.05)
    http = DevnetNode(directory.name, f"http://127.0.0.1:{port}", directory, 0)
    return ServedNode(http, fastapi_app.state.services, server, thread)


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Iterator[SimpleNamespace]:
    model = load_default_model()
    with Anvil() as rpc:
        base = tmp_path_factory.mktemp("lifecycle")
        governed = deploy_governed(rpc, base)
        nodes = []
        try:
            for name in ("node1", "node2"):
                nodes.append(serve_node(base / name, governed, model))
            yield SimpleNamespace(rpc=rpc, one=nodes[0], two=nodes[1])
        finally:
            for node in nodes:
                node.stop()


def governance(node: ServedNode) -> dict:
    return node.http.get("/governance")


def proposal_info(node: ServedNode, proposal_id: int) -> dict:
    (info,) = [p for p in governance(node)["proposals"] if p["id"] == proposal_id]
    return info


def refused(response: httpx.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["detail"], response.json()


def snapshot_of(node: ServedNode):
    """Snapshot, register it (over the operator's API) and return the node's current one."""
    node.http.post("/snapshots", operator=True)
    return node.app.answers.current()[0]


def ask(node: ServedNode) -> dict:
    """The operator's own (free) ask: an answer with its signed receipt."""
    return node.http.post("/ask", QUESTION, operator=True)


def verified_on(node: ServedNode, answer: dict):
    return node.app.answers.verify(parse_document(answer["receipt"]))


def issued_at(answer: dict) -> int:
    return int(answer["receipt"]["receipt"]["issuedAt"])


@contextlib.contextmanager
def clients(net) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Anyone's HTTP clients of node 1 and node 2 (no operator credential)."""
    with (
        httpx.Client(base_url=net.one.http.url, timeout=300) as one,
        httpx.Client(base_url=net.two.http.url, timeout=300) as two,
    ):
        yield one, two


def proposed_by(client: httpx.Client, signer: Signer, policy: Policy) -> int:
    """`signer` proposes `policy` through the node `client` reaches; the proposal's id."""
    made = propose_over_http(client, signer, policy.document())
    assert made.status_code == 200, made.text
    return made.json()["proposal_id"]


def block_of(rpc: str, tx_hash: str) -> int:
    with Chain.connect(rpc) as chain:
        return int(chain.w3.eth.get_transaction_receipt(tx_hash)["blockNumber"])


@pytest.fixture(scope="module")
def changed(net) -> SimpleNamespace:
    """The whole change, played once: publish on node 1, import on node 2, snapshot both under
    the genesis policy and answer; a seed proposes removing one passage, two seeds vote for it
    (one ballot through each node), the third against; queued, executed after the timelock.
    Node 1 answers from its old snapshot right at the change and again past the stale grace,
    then both nodes snapshot under the new policy and node 1 answers from its new one."""
    one, two = net.one, net.two
    domain = one.app.context.domain
    cids = [publish(one.http, domain, AUTHOR, text) for text in PASSAGES]
    assert [b["kind"] for b in one.http.post("/anchor", operator=True)["batches"]] == ["content"]
    assert two.http.sync()["imported"]
    for cid in cids:
        assert two.http.get(f"/content/{cid}")["anchor"] is not None
    genesis = governance(one)["in_force"]
    before = SimpleNamespace(one=snapshot_of(one), two=snapshot_of(two))
    old_answer = ask(one)

    removed = cids[1]
    policy = policy_from_data(genesis["policy"])
    proposed = edited(policy, removed=[{"cid": removed, "reason": REASON}])
    with clients(net) as (via_one, via_two):
        proposal_id = proposed_by(via_one, SEEDS[0], proposed)
        (change,) = proposal_info(two, proposal_id)["changes"]
        assert change.startswith("admission.removed: [] -> ")
        assert removed in change
        assert REASON in change
        assert vote_over_http(via_one, proposal_id, SEEDS[0], "for").status_code == 200
        terms = via_two.get(
            f"/governance/proposals/{proposal_id}/ballot",
            params={"voter": SEEDS[1].address, "support": "for"},
        ).json()
        ballot = {
            "voter": SEEDS[1].address,
            "support": "for",
            "signature": signature_over(SEEDS[1], terms),
        }
        voted = via_two.post(f"/governance/proposals/{proposal_id}/votes", json=ballot)
        assert voted.status_code == 200, voted.text
        # The same signed ballot replayed through the other node counts nothing twice.
        replayed = via_one.post(f"/governance/proposals/{proposal_id}/votes", json=ballot)
        assert vote_over_http(via_one, proposal_id, SEEDS[2], "against").status_code == 200
        tally = proposal_info(one, proposal_id)
        assert tally["state"] == "active"
        advance(net.rpc, VOTING_PERIOD_S)
        queued = proposal_info(two, proposal_id)
        early = via_two.post(f"/governance/proposals/{proposal_id}/execute")
        advance(net.rpc, TIMELOCK_S)
        executed = via_one.post(f"/governance/proposals/{proposal_id}/execute")
        assert executed.status_code == 200, executed.text
    block = block_of(net.rpc, executed.json()["tx_hash"])
    enacted = SimpleNamespace(
        at={n: node.app.governance.enactment_at(block) for n, node in (("one", one), ("two", two))},
        before={
            n: node.app.governance.enactment_at(block - 1)
            for n, node in (("one", one), ("two", two))
        },
    )
    grace = one.app.context.chain.call(one.app.context.deployment.disputes.functions.stale_grace())
    # From the genesis snapshot (the node has not snapshotted since), dated by the chain's clock:
    # wall time is behind it by the hours the test moved it on.
    at_the_change = ask(one)
    advance(net.rpc, grace)
    at_the_grace = ask(one)
    advance(net.rpc, 1)
    past_the_grace = ask(one)
    after = SimpleNamespace(one=snapshot_of(one), two=snapshot_of(two))
    new_answer = ask(one)
    return SimpleNamespace(
        cids=cids,
        removed=removed,
        genesis=genesis,
        proposed=proposed,
        proposal_id=proposal_id,
        tally=tally,
        replayed=replayed,
        queued=queued,
        early=early,
        block=block,
        enacted=enacted,
        grace=grace,
        before=before,
        after=after,
        old_answer=old_answer,
        at_the_change=at_the_change,
        at_the_grace=at_the_grace,
        past_the_grace=past_the_grace,
        new_answer=new_answer,
    )


def test_a_policy_change_is_read_at_one_block_by_both_nodes_and_governs_their_snapshots(
    net, changed
):
    one, two = net.one, net.two
    genesis_hash = bytes.fromhex(changed.genesis["policy_hash"][2:])
    new_hash = changed.proposed.hash()
    everything = set(changed.cids)
    for snapshot in (changed.before.one, changed.before.two):
        assert snapshot.basis.policy_hash == genesis_hash
        assert set(snapshot.cids) == everything
    assert changed.before.one.basis == changed.before.two.basis

    power = int(policy_from_data(changed.genesis["policy"]).standing.powers[SEEDS[0].address])
    assert (int(changed.tally["for_power"]), int(changed.tally["against_power"])) == (
        2 * power,
        power,
    )
    refused(changed.replayed, 409, "already voted")
    assert changed.queued["state"] == "queued"
    refused(changed.early, 409, "timelock")

    # Both nodes read the change from the chain at the same block, and nothing before it.
    for name in ("one", "two"):
        at, before = changed.enacted.at[name], changed.enacted.before[name]
        assert (at.proposal_id, at.policy_hash, at.block_number) == (
            changed.proposal_id,
            new_hash,
            changed.block,
        )
        assert (before.proposal_id, before.policy_hash) == (0, genesis_hash)
    for node in (one, two):
        enactment, policy = node.app.governance.in_force()
        assert enactment.block_number == changed.block
        assert policy.admission.removal(changed.removed).reason == REASON

    # The next snapshots commit to the new policy and leave the removed passage out, alike.
    for snapshot in (changed.after.one, changed.after.two):
        assert snapshot.basis.policy_hash == new_hash
        assert set(snapshot.cids) == everything - {changed.removed}
    assert changed.after.one.basis == changed.after.two.basis

    # Node 2 holds node 1's answers to the policy that was in force when each was given.
    new = verified_on(two, changed.new_answer)
    assert new.valid, new
    assert changed.new_answer["receipt"]["receipt"]["snapshotRoot"] == (
        "0x" + changed.after.one.root.hex()
    )
    enacted_at = changed.enacted.at["two"].timestamp
    # Given before the change, under the policy then in force: valid however late it is checked.
    assert issued_at(changed.old_answer) < enacted_at
    assert two.app.context.chain.now() > enacted_at + changed.grace
    old = verified_on(two, changed.old_answer)
    assert old.valid, old
    # Given from the old snapshot within the stale grace of the change (the disputes contract's
    # `stale_grace`, its last second included): time to re-snapshot.
    assert issued_at(changed.at_the_change) == enacted_at
    assert issued_at(changed.at_the_grace) == enacted_at + changed.grace
    for within in (changed.at_the_change, changed.at_the_grace):
        verdict = verified_on(two, within)
        assert verdict.valid, verdict
    # Given from the old snapshot a second past the grace: the policy it names was superseded.
    assert issued_at(changed.past_the_grace) == enacted_at + changed.grace + 1
    stale = verified_on(two, changed.past_the_grace)
    assert (stale.valid, stale.check) == (False, "admission"), stale
    assert f"superseded by 0x{new_hash.hex()} (in force since {enacted_at})" in stale.reason
    assert f"policy 0x{genesis_hash.hex()}" in stale.reason


def snapshot_built_by(monkeypatch, node: ServedNode, cheat) -> object:
    """Node 1's operator builds its next snapshot from `cheat(plan)` instead of the honest plan
    (`Answers.snapshot_plan`: the policy in force over the batches found) and registers it."""
    answers = node.app.answers
    honest = answers.snapshot_plan
    with monkeypatch.context() as patched:
        patched.setattr(answers, "snapshot_plan", lambda: cheat(honest()))
        return snapshot_of(node)


def test_an_operator_that_silently_drops_an_admitted_passage_is_caught(net, changed, monkeypatch):
    one, two = net.one, net.two
    dropped = changed.cids[0]  # the top answer to the question, admitted by the policy
    snapshot = snapshot_built_by(
        monkeypatch,
        one,
        lambda plan: dataclasses.replace(
            plan, rule=dataclasses.replace(plan.rule, removed={**plan.rule.removed, dropped: "x"})
        ),
    )
    assert dropped not in snapshot.cids
    assert snapshot.basis.policy_hash == changed.proposed.hash()  # it claims the policy in force
    verdict = verified_on(two, ask(one))
    assert (verdict.valid, verdict.check) == (False, "admission"), verdict
    assert verdict.reason.startswith(f"censorship: {dropped} is admitted by the policy in force")
    assert verdict.difference == {"cid": dropped, "missing": 1}


def test_an_operator_that_serves_a_removed_passage_is_caught(net, changed, monkeypatch):
    one, two = net.one, net.two
    snapshot = snapshot_built_by(
        monkeypatch,
        one,
        lambda plan: dataclasses.replace(plan, rule=dataclasses.replace(plan.rule, removed={})),
    )
    assert changed.removed in snapshot.cids
    assert snapshot.basis.policy_hash == changed.proposed.hash()
    verdict = verified_on(two, ask(one))
    assert (verdict.valid, verdict.check) == (False, "admission"), verdict
    assert verdict.reason == (
        f"{changed.removed} is in the snapshot, but the policy excludes it: "
        f"removed by the community: {REASON}"
    )


def test_a_snapshot_under_a_policy_never_in_force_is_caught(net, changed, monkeypatch):
    one, two = net.one, net.two
    made_up = keccak(b"a policy nobody proposed")
    snapshot = snapshot_built_by(
        monkeypatch,
        one,
        lambda plan: dataclasses.replace(
            plan, basis=dataclasses.replace(plan.basis, policy_hash=made_up)
        ),
    )
    assert set(snapshot.cids) == set(changed.cids) - {changed.removed}  # the right passages
    verdict = verified_on(two, ask(one))
    assert (verdict.valid, verdict.check) == (False, "admission"), verdict
    assert verdict.reason == (
        f"the snapshot was built under policy 0x{made_up.hex()}, never in force"
    )
    # The honest snapshot after it answers validly again.
    snapshot_of(one)
    assert verified_on(two, ask(one)).valid


def test_a_defeated_proposal_cannot_be_executed(net, changed):
    one, two = net.one, net.two
    in_force = governance(two)["in_force"]
    proposed = edited(policy_from_data(in_force["policy"]), min_score=0.5)
    with clients(net) as (via_one, via_two):
        proposal_id = proposed_by(via_two, SEEDS[1], proposed)
        assert vote_over_http(via_two, proposal_id, SEEDS[1], "for").status_code == 200
        assert vote_over_http(via_one, proposal_id, SEEDS[0], "against").status_code == 200
        assert vote_over_http(via_two, proposal_id, SEEDS[2], "against").status_code == 200
        advance(net.rpc, VOTING_PERIOD_S + TIMELOCK_S)
        info = proposal_info(one, proposal_id)
        assert info["state"] == "defeated"
        assert int(info["against_power"]) == 2 * int(info["for_power"])
        refused(via_one.post(f"/governance/proposals/{proposal_id}/execute"), 409, "defeated")
    for node in (one, two):
        assert governance(node)["in_force"]["policy_hash"] == in_force["policy_hash"]
