"""In a network, what an epoch pays for is the community's: the policy in force names the
training pool, the validation set and item labels (content by CID, anchored like any other, in
media types that are never passages), k, the duplicate threshold and the cap on the operator's
share. A change takes effect at the first epoch closed after it is executed, never earlier
(a passed proposal in its timelock changes nothing) and never backwards (a posted epoch keeps its
amounts). The operator's own `[payouts] operator_bps` is held to the cap, and a policy naming a
set this node does not hold stops the epoch before anything is written.

One governed node on anvil (`tests.governance_kit`), its operator funding the pool with the
network's dev token; two authors whose passages the two validation sets value oppositely."""

import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from aigora.app import App, open_node
from aigora.chain import Anvil
from aigora.core.cid import cid_of
from aigora.core.keystore import Signer
from aigora.governance import Policy
from aigora.payouts import PayoutError, earnings, epoch_summary, next_epoch, split_fee
from tests.asks_kit import Asker
from tests.governance_kit import (
    SEEDS,
    TIMELOCK_S,
    VOTING_PERIOD_S,
    advance,
    deploy_governed,
    joined_dir,
    propose_over_http,
    vote_over_http,
    with_objectives,
)
from tests.node.conftest import PASSPHRASE
from tests.operator import operator_app, operator_client, public_client

FEE = 1_000_003  # odd on purpose: the operator's share rounds down, the rest to the authors
OPERATOR_BPS = 5000
"""What this node's operator asks for; every policy below caps it lower."""
POOL = 1_000_000_007
VALIDATION_TYPE = "application/vnd.aigora.validation+jsonl"
LABELS_TYPE = "application/vnd.aigora.item-labels+json"
AUTHOR_A = Signer.dev(bytes([0x61]) * 32)
AUTHOR_B = Signer.dev(bytes([0x62]) * 32)
CARS = (  # by A, labeled 0
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings.",
    "The Toyota Sienna minivan is the most reliable family car of the decade.",
    "Electric cars cost less to run but need a charger at home.",
)
FRUIT = (  # by B, labeled 1
    "Bananas are rich in potassium and easy to carry.",
    "Apples keep for weeks in a cool cellar and make good cider.",
    "Oranges are full of vitamin C and peel easily by hand.",
)
V1 = (  # questions about cars, labeled as A's passages are: A's are the useful neighbours
    ("Which car should I buy for my family?", 0),
    ("Which SUV has the best safety rating?", 0),
    ("How much does it cost to charge an electric car?", 0),
)
V2 = (  # questions about fruit, labeled as B's passages are
    ("What fruit is easy to carry on a hike?", 1),
    ("Which fruit has the most vitamin C?", 1),
    ("How should I store apples over the winter?", 1),
)


def jsonl(rows) -> bytes:
    return "\n".join(json.dumps({"text": t, "label": y}) for t, y in rows).encode()


@pytest.fixture(scope="module")
def net(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The node, its passages snapshotted, the item labels and both validation sets published
    and anchored, and its operator holding the tokens for a few pools."""
    with Anvil() as rpc:
        base = tmp_path_factory.mktemp("objectives")
        governed = deploy_governed(rpc, base)
        directory = joined_dir(base / "node", governed, 18650)
        config = (directory / "config.toml").read_text()
        (directory / "config.toml").write_text(
            config + f'\n[answers]\nfee = "{FEE}"\n\n[payouts]\noperator_bps = {OPERATOR_BPS}\n'
        )
        context = open_node(directory, PASSPHRASE)
        try:
            app = App(context)
            labels = {}
            for author, texts, label in ((AUTHOR_A, CARS, 0), (AUTHOR_B, FRUIT, 1)):
                for text in texts:
                    done = app.content.publish_as(
                        author, text.encode(), media_type="text/plain", license="CC0-1.0"
                    )
                    labels[done.id] = label
            item_labels = json.dumps(labels, sort_keys=True).encode()
            cids = {}
            for name, body, media_type in (
                ("labels", item_labels, LABELS_TYPE),
                ("v1", jsonl(V1), VALIDATION_TYPE),
                ("v2", jsonl(V2), VALIDATION_TYPE),
            ):
                done = app.content.publish_as(
                    SEEDS[0], body, media_type=media_type, license="CC0-1.0"
                )
                cids[name] = done.id
            app.content.anchor()
            app.answers.refresh()
            snapshot, _ = app.answers.current()
            assert sorted(snapshot.cids) == sorted(labels)  # the sets are never passages
            minter = context.chain.dev_signers()[0]  # the network's dev token's minter
            token = context.deployment.token
            context.chain.transact(
                minter, token.functions.mint(context.operator.address, 10 * POOL)
            )
            with (
                public_client(operator_app(context, app.answers)) as client,
                operator_client(context, app.answers) as operator,
            ):
                yield SimpleNamespace(
                    rpc=rpc,
                    context=context,
                    app=app,
                    client=client,
                    operator=operator,
                    minter=minter,
                    **cids,
                )
        finally:
            context.close()


def in_force(net) -> Policy:
    return net.app.governance.in_force()[1]


def propose_and_pass(net, policy: Policy) -> int:
    """Propose `policy`, vote it through with two seeds and wait out the vote: its timelock is
    running, so it is passed but not in force."""
    made = propose_over_http(net.client, SEEDS[0], policy.document())
    assert made.status_code == 200, made.text
    proposal_id = made.json()["proposal_id"]
    for seed in SEEDS[:2]:
        assert vote_over_http(net.client, proposal_id, seed, "for").status_code == 200
    advance(net.rpc, VOTING_PERIOD_S)
    return proposal_id


def execute(net, proposal_id: int) -> None:
    advance(net.rpc, TIMELOCK_S)
    done = net.client.post(f"/governance/proposals/{proposal_id}/execute")
    assert done.status_code == 200, done.text


def enact(net, policy: Policy) -> None:
    execute(net, propose_and_pass(net, policy))
    assert in_force(net) == policy


def training_by_author(net, number: int) -> dict[str, int]:
    """What each author earned from the training pool in epoch `number`."""
    totals = {}
    for author in (AUTHOR_A, AUTHOR_B):
        lines = earnings(net.context.db, author.address)
        totals[author.address] = sum(
            amount
            for epoch, source, _, amount, _ in lines
            if epoch == number and source == "training"
        )
    return totals


def test_a_new_validation_set_pays_from_the_first_epoch_after_its_execution(net):
    a, b = AUTHOR_A.address, AUTHOR_B.address
    goals = {"validation": net.v1, "item_labels": net.labels, "training_pool": str(POOL), "k": 1}
    enact(net, with_objectives(in_force(net), **goals, max_operator_bps=2000))
    operator = net.context.operator.address
    before = net.context.chain.call(net.context.deployment.token.functions.balanceOf(operator))

    first = net.app.payouts.close_summary()
    one = training_by_author(net, first.number)
    assert first.training_total == POOL == one[a] + one[b]
    assert one[a] > one[b]  # cars are what V1 asks about
    lines_of_one = {x: earnings(net.context.db, x) for x in (a, b)}

    proposal_id = propose_and_pass(net, with_objectives(in_force(net), validation=net.v2))
    (info,) = [p for p in net.app.governance.state().proposals if p.id == proposal_id]
    assert info.state == "queued"  # passed, in its timelock
    second = net.app.payouts.close_summary()
    assert second.number == first.number + 1
    assert training_by_author(net, second.number) == one  # still V1's split, to the unit

    execute(net, proposal_id)
    assert in_force(net).objectives.validation == net.v2
    third = net.app.payouts.close_summary()
    three = training_by_author(net, third.number)
    assert third.training_total == POOL == three[a] + three[b]
    assert three[b] > three[a]  # now fruit is what is asked about
    assert three[b] > one[b]
    assert three[a] < one[a]

    posted = epoch_summary(net.context.db, first.number)
    assert posted == first  # epoch 1's amounts and root, as posted
    for account, lines in lines_of_one.items():
        now = earnings(net.context.db, account)
        assert [x for x in now if x[0] == first.number] == [
            x for x in lines if x[0] == first.number
        ]
    distributor = net.context.deployment.distributor
    root = net.context.chain.call(distributor.functions.roots(operator, first.number))
    assert "0x" + bytes(root).hex() == first.root
    paid = before - net.context.chain.call(
        net.context.deployment.token.functions.balanceOf(operator)
    )
    assert paid == 3 * POOL  # the operator funded exactly three pools


def test_the_operators_share_is_held_to_the_policys_cap(net):
    cap = 1500
    enact(net, with_objectives(in_force(net), training_pool="0", max_operator_bps=cap))
    assert net.app.payouts.objectives().operator_bps == cap < OPERATOR_BPS
    asker = Asker.new(net.context).fund(FEE, minter=net.minter)
    paid = net.app.answers.answer(
        "Which car should I buy for my family?", 3, by_operator=False, payment=asker.next_voucher()
    )
    document = net.app.answers.receipt(paid.digest)
    net.app.content.anchor()

    summary = net.app.payouts.close_summary()
    assert summary.receipts == 1
    assert summary.operator_total == FEE * cap // 10_000
    assert summary.operator_total + summary.usage_total == FEE
    split = split_fee(FEE, [r.score for r in document.results], cap)
    usage = {}
    for account in (AUTHOR_A.address, AUTHOR_B.address):
        for epoch, source, cid, amount, _ in earnings(net.context.db, account):
            if epoch == summary.number and source == "usage":
                usage[cid] = amount
    expected = {r.cid: x for r, x in zip(document.results, split.passages, strict=True) if x}
    assert usage == expected
    assert split.operator + sum(usage.values()) == FEE


def test_a_validation_set_the_node_does_not_hold_stops_the_epoch_before_it_is_written(net):
    missing = cid_of(b'{"text": "a validation set nobody sent this node", "label": 0}\n')
    goals = {"validation": missing, "item_labels": net.labels, "training_pool": str(POOL)}
    enact(net, with_objectives(in_force(net), **goals))
    number = next_epoch(net.context.db)
    distributor = net.context.deployment.distributor
    operator = net.context.operator.address
    onchain = net.context.chain.call(distributor.functions.epoch(operator))

    with pytest.raises(PayoutError, match=f"{missing} is not on this node"):
        net.app.payouts.close_summary()
    refused = net.operator.post("/epochs")
    assert refused.status_code == 409, refused.text
    assert missing in refused.json()["detail"]
    assert next_epoch(net.context.db) == number
    assert net.context.chain.call(distributor.functions.epoch(operator)) == onchain
