"""Attacks on governance that pass today (review of issue 19), on anvil with the compiled Governor.

1. A proposer with the 1% threshold sends `propose` itself (not through a node) with a document
   that reads harmless and a `standing_root` / `standing_total` of its own: a tree where it alone
   holds power. Nothing on chain or in a node compares the proposal's standing with its
   document's table, so voters see one harmless change, vote it through, and the Governor then
   proves every later ballot against the attacker's tree: the honest seeds can no longer vote
   (their node builds proofs from the document's table) and the attacker passes anything alone.
2. A node caches documents by proposal id and never compares the one it holds with the hash an
   enactment names, so after a reorg that replaces proposal 1 it reads the orphaned document as
   the policy in force, while a fresh node reads the real one.
"""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from aigora.app import App, open_node
from aigora.chain import Anvil
from aigora.governance import sign_propose, standing_tree
from tests.governance_kit import (
    SEEDS,
    TIMELOCK_S,
    VOTING_PERIOD_S,
    advance,
    deploy_governed,
    edited,
    joined_dir,
    propose_over_http,
    vote_over_http,
)
from tests.node.conftest import PASSPHRASE
from tests.operator import operator_app, public_client

ATTACKER = SEEDS[0]


@pytest.fixture
def net(tmp_path) -> Iterator[SimpleNamespace]:
    with Anvil() as rpc:
        governed = deploy_governed(rpc, tmp_path)
        context = open_node(joined_dir(tmp_path / "node", governed, 18620), PASSPHRASE)
        try:
            with public_client(operator_app(context)) as client:
                yield SimpleNamespace(rpc=rpc, context=context, client=client)
        finally:
            context.close()


def _info(client, proposal_id: int) -> dict:
    (info,) = [p for p in client.get("/governance").json()["proposals"] if p["id"] == proposal_id]
    return info


def test_a_proposal_whose_standing_is_not_its_documents_table_is_caught(net):
    chain, governor = net.context.chain, net.context.deployment.governor
    governance = App(net.context).governance
    enactment, before = governance.in_force()
    shown = edited(before, min_score=0.3)  # what voters read: one harmless change
    forged = standing_tree({ATTACKER.address: 1})  # what the chain would enact: the attacker alone
    power, proof = governance._proof(enactment.standing_root, ATTACKER.address)
    signature = sign_propose(
        ATTACKER,
        governance.domain(),
        proposer=ATTACKER.address,
        policy_hash=shown.hash(),
        standing_root=forged.root,
        standing_total=1,
        base_policy=enactment.policy_hash,
        nonce=chain.call(governor.functions.nonces(ATTACKER.address)),
    )
    chain.transact(
        chain.dev_signers()[1],
        governor.functions.propose(
            shown.document(), forged.root, 1, ATTACKER.address, power, proof, signature
        ),
    )
    proposal_id = chain.call(governor.functions.proposal_count()) - 1
    info = _info(net.client, proposal_id)
    # The node names the mismatch instead of showing the harmless change, relays no ballot for
    # it (against is still possible) and no execution; the ballot would name the forged root.
    assert info["changes"] == []
    assert "standing" in info["problem"]
    assert info["enacts_standing_root"] == "0x" + forged.root.hex()
    refused = net.client.get(
        f"/governance/proposals/{proposal_id}/ballot",
        params={"voter": SEEDS[1].address, "support": "for"},
    )
    assert 400 <= refused.status_code < 500, refused.text
    assert "vote against" in refused.json()["detail"]
    assert vote_over_http(net.client, proposal_id, SEEDS[1], "against").status_code == 200
    executed = net.client.post(f"/governance/proposals/{proposal_id}/execute")
    assert 400 <= executed.status_code < 500, executed.text


def test_the_policy_in_force_is_the_enacted_hash_after_a_reorg(net):
    client, chain = net.client, net.context.chain
    governance = App(net.context).governance  # one node's reader, kept across the reorg
    before = governance.in_force()[1]
    mark = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    orphan = edited(before, licenses=["CC0-1.0"])
    assert propose_over_http(client, SEEDS[0], orphan.document()).json()["proposal_id"] == 1
    assert governance.state().proposals[0].id == 1  # the node scans and caches proposal 1

    chain.w3.provider.make_request("evm_revert", [mark])  # a reorg drops that proposal
    real = edited(before, min_score=0.3)
    assert propose_over_http(client, SEEDS[1], real.document()).json()["proposal_id"] == 1
    for seed in SEEDS[1:]:
        assert vote_over_http(client, 1, seed, "for").status_code == 200
    advance(net.rpc, VOTING_PERIOD_S + TIMELOCK_S)
    assert client.post("/governance/proposals/1/execute").status_code == 200
    for _ in range(5):  # the chain moves past where the node had scanned to
        advance(net.rpc, 1)

    fresh = App(net.context).governance.in_force()[1]
    assert fresh.hash() == real.hash()  # a node that started after the reorg
    enactment, policy = governance.in_force()
    assert enactment.policy_hash == real.hash()
    assert policy.hash() == enactment.policy_hash, "the node reads an orphaned document"
