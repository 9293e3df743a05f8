"""The governance API, played through on a real network (anvil, the compiled Governor): a seed
proposes, seeds vote with signed ballots the node relays, the proposal is executed after its
timelock and becomes the policy in force. Every route is public, and every refusal is a 4xx
with its reason: an unknown proposal, a bad or someone else's signature, a voter without
standing, a double vote, a vote after the end, an early execution, a malformed document. The
CLI's flows run over this HTTP API too (`RemoteNode`), and a node that asks a person to sign
other terms than they mean gets no signature."""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from aigora.app import App, open_node
from aigora.chain import Anvil
from aigora.cli import policy
from aigora.cli._local import RemoteNode
from aigora.core.canonical import canonical_json
from aigora.governance import policy_from_data
from tests.governance_kit import (
    SEEDS,
    STRANGER,
    TIMELOCK_S,
    VOTING_PERIOD_S,
    advance,
    deploy_governed,
    edited,
    joined_dir,
    propose_over_http,
    signature_over,
    vote_over_http,
)
from tests.node.conftest import PASSPHRASE
from tests.operator import operator_app, public_client

CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Iterator[SimpleNamespace]:
    with Anvil() as rpc:
        base = tmp_path_factory.mktemp("governance")
        governed = deploy_governed(rpc, base)
        context = open_node(joined_dir(base / "node", governed, 18610), PASSPHRASE)
        app = operator_app(context)
        try:
            with public_client(app) as client:
                yield SimpleNamespace(rpc=rpc, context=context, client=client)
        finally:
            context.close()


def current(client) -> dict:
    response = client.get("/governance")
    assert response.status_code == 200, response.text
    return response.json()


def policy_now(client):
    return policy_from_data(current(client)["in_force"]["policy"])


def refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    assert words in response.json()["detail"], response.json()


def test_the_genesis_policy_is_in_force_and_read_from_the_chain(net):
    state = current(net.client)
    assert state["proposals"] == []
    assert state["in_force"]["proposal_id"] == 0
    assert (state["voting_period_s"], state["timelock_s"]) == (VOTING_PERIOD_S, TIMELOCK_S)
    policy = policy_from_data(state["in_force"]["policy"])
    assert policy.hash_hex == state["in_force"]["policy_hash"]
    assert sorted(policy.standing.powers) == sorted(s.address for s in SEEDS)


def test_a_proposal_passes_by_relayed_ballots_and_is_enacted_after_its_timelock(net):
    client = net.client
    before = policy_now(client)
    proposed = edited(before, min_score=0.3)
    made = propose_over_http(client, SEEDS[0], proposed.document())
    assert made.status_code == 200, made.text
    proposal_id = made.json()["proposal_id"]

    (info,) = [p for p in current(client)["proposals"] if p["id"] == proposal_id]
    assert info["state"] == "active"
    assert info["changes"] == ["admission.min_score: None -> 0.3"]

    assert vote_over_http(client, proposal_id, SEEDS[0], "for").status_code == 200
    again = client.get(
        f"/governance/proposals/{proposal_id}/ballot",
        params={"voter": SEEDS[0].address, "support": "against"},
    )
    refused(again, 409, "already voted")
    refused(
        vote_over_http(client, proposal_id, SEEDS[1], "for", signed_by=SEEDS[2]),
        409,
        "signature is not the voter's",
    )
    assert vote_over_http(client, proposal_id, SEEDS[1], "abstain").status_code == 200
    (info,) = [p for p in current(client)["proposals"] if p["id"] == proposal_id]
    power = int(before.standing.powers[SEEDS[0].address])
    assert (int(info["for_power"]), int(info["abstain_power"])) == (power, power)
    assert int(info["for_power"]) + int(info["abstain_power"]) >= int(info["quorum"])

    refused(client.post(f"/governance/proposals/{proposal_id}/execute"), 409, "still open")
    advance(net.rpc, VOTING_PERIOD_S)
    refused(vote_over_http(client, proposal_id, SEEDS[2], "against"), 409, "voting has ended")
    refused(client.post(f"/governance/proposals/{proposal_id}/execute"), 409, "timelock")
    advance(net.rpc, TIMELOCK_S)
    done = client.post(f"/governance/proposals/{proposal_id}/execute")
    assert done.status_code == 200, done.text
    state = current(client)
    assert state["in_force"]["proposal_id"] == proposal_id
    assert state["in_force"]["policy"]["admission"]["min_score"] == 0.3
    refused(client.post(f"/governance/proposals/{proposal_id}/execute"), 409, "already executed")


def test_an_account_without_standing_cannot_vote_or_propose_whatever_it_signs(net):
    client = net.client
    document = edited(policy_now(client), admit_unscored=False).document()
    terms = client.post(
        "/governance/propose-terms",
        json={"document": document.decode(), "proposer": STRANGER.address},
    )
    refused(terms, 404, "has no standing")
    made = propose_over_http(client, SEEDS[2], document)
    assert made.status_code == 200, made.text
    proposal_id = made.json()["proposal_id"]
    ballot = client.get(
        f"/governance/proposals/{proposal_id}/ballot",
        params={"voter": STRANGER.address, "support": "for"},
    )
    refused(ballot, 404, "has no standing")
    # a stranger's ballot sent anyway, with a seed's power and proof, is refused by the contract
    seed_terms = client.get(
        f"/governance/proposals/{proposal_id}/ballot",
        params={"voter": SEEDS[0].address, "support": "for"},
    ).json()
    forged = client.post(
        f"/governance/proposals/{proposal_id}/votes",
        json={
            "voter": STRANGER.address,
            "support": "for",
            "signature": signature_over(STRANGER, seed_terms),
        },
    )
    assert forged.status_code == 404  # no standing: the node sends nothing
    (info,) = [p for p in current(client)["proposals"] if p["id"] == proposal_id]
    assert info["for_power"] == "0"


def test_bad_input_is_a_clear_4xx(net):
    client = net.client
    refused(
        client.get("/governance/proposals/99/ballot?voter=" + SEEDS[0].address + "&support=for"),
        404,
        "no proposal 99",
    )
    refused(client.post("/governance/proposals/99/execute"), 404, "no proposal 99")
    wrong = client.get(f"/governance/proposals/1/ballot?voter={SEEDS[0].address}&support=maybe")
    assert wrong.status_code == 422
    malformed = client.post(
        "/governance/propose-terms",
        json={"document": '{"format": 1}', "proposer": SEEDS[0].address},
    )
    refused(malformed, 400, "not a policy")
    spaced = policy_now(client).model_dump(mode="json")
    loose = client.post(
        "/governance/propose-terms",
        json={"document": canonical_json(spaced).decode() + " ", "proposer": SEEDS[0].address},
    )
    refused(loose, 400, "canonical")
    same = client.post(
        "/governance/propose-terms",
        json={"document": policy_now(client).document().decode(), "proposer": SEEDS[0].address},
    )
    refused(same, 400, "nothing to change")
    short = client.post(
        "/governance/proposals/1/votes",
        json={"voter": SEEDS[0].address, "support": "for", "signature": "0x1234"},
    )
    assert short.status_code == 422
    bad_cid = policy_now(client).model_dump(mode="json")
    bad_cid["admission"]["removed"] = [{"cid": "not-a-cid", "reason": "spam"}]
    refused(
        client.post(
            "/governance/propose-terms",
            json={"document": canonical_json(bad_cid).decode(), "proposer": SEEDS[0].address},
        ),
        400,
        "admission.removed.0.cid",
    )


def test_the_cli_flows_over_http_and_a_node_that_lies_about_the_terms(net):
    node = RemoteNode("http://testserver", net.client)
    document = edited(policy_now(net.client), licenses=["CC0-1.0"])
    made = policy.propose_flow(
        lambda case: case.remote(node), SEEDS[1], lambda _: document, lambda: True
    )
    assert made is not None
    done = policy.vote_flow(lambda case: case.remote(node), SEEDS[0], made.proposal_id, "for")
    assert done.proposal_id == made.proposal_id

    def lying(case):
        result = case.remote(node)
        if hasattr(result, "typed_data"):
            result.typed_data["message"]["support"] = "1"  # asks to sign "for"
        return result

    with pytest.raises(policy.TermsMismatch):
        policy.vote_flow(lying, SEEDS[2], made.proposal_id, "against")
    (info,) = [p for p in current(net.client)["proposals"] if p["id"] == made.proposal_id]
    assert info["against_power"] == "0"
    local = App(net.context)
    assert local.governance.state().proposals[0].for_power == info["for_power"]


def test_the_policy_reads_the_same_from_the_cli_both_ways(net):
    case = policy.state_case()
    local = case.local(App(net.context))
    remote = case.remote(RemoteNode("http://testserver", net.client))
    assert local == remote
    assert policy.in_force(local).hash_hex == local.in_force.policy_hash
