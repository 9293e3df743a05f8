"""Every use case a command runs gives the same typed result whether the command opens the node
itself (the node stopped) or asks the running node over HTTP: the CLI's `UseCase`s are run both
ways on the same inputs and compared. The drift this closes: a receipt whose file has no anchor
proof yet used to be challengeable from the CLI (which looked the proof up) and a 500 over HTTP.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aigora.app import App, NodeContext, open_node
from aigora.cli import answers, asks, chain, content, disputes, labels, payouts, policy
from aigora.cli._local import RemoteNode, UseCase
from aigora.core.cid import cid_of
from aigora.core.errors import AigoraError
from aigora.core.keystore import Keystore
from aigora.verify import ReceiptDocument
from tests.operator import operator_client

PASSPHRASE = "parity tests"


@dataclass
class Arena:
    context: NodeContext
    app: App
    node: RemoteNode
    honest: ReceiptDocument
    bent: ReceiptDocument
    tokens: ReceiptDocument


@pytest.fixture(scope="module")
def arena(tmp_path_factory, sponsored) -> Iterator[Arena]:
    directory: Path = tmp_path_factory.mktemp("parity") / "node"
    directory.mkdir(parents=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    context = open_node(directory, PASSPHRASE)
    example = sponsored
    for text in example.CORPUS:
        example.publish(context, context.operator, text)
    tilted = example.TiltedAnswers(context)
    tilted.sponsor_cid = cid_of(example.SPONSOR.encode())
    tilted.refresh()
    honest = tilted.ask(example.QUESTION, 3)
    tilted.tilt = example.hidden_bonus
    bent = tilted.ask(example.QUESTION, 3)
    tilted.tilt = example.sponsor_tokens
    tokens = tilted.ask(example.QUESTION, 3)
    tilted.tilt = example.hidden_bonus
    app = App(context, tilted)
    with operator_client(context, tilted) as client:
        yield Arena(context, app, RemoteNode("http://testserver", client), honest, bent, tokens)
    context.close()


def both_ways(arena: Arena, case: UseCase):
    """The case's result (or its error message) run locally and over HTTP."""
    outcomes = []
    for run in (lambda: case.local(arena.app), lambda: case.remote(arena.node)):
        try:
            outcomes.append(("ok", run()))
        except AigoraError as exc:
            outcomes.append(("error", str(exc)))
    return outcomes


def test_the_same_answer_both_ways(arena, sponsored):
    (kind_l, local), (kind_r, remote) = both_ways(arena, answers.ask_case(sponsored.QUESTION, 3))
    assert kind_l == kind_r == "ok"
    assert type(local) is type(remote)
    assert local.results == remote.results  # receipts differ only by nonce
    assert local.query == remote.query


@pytest.mark.parametrize("which", ["honest", "bent"])
def test_the_same_verdict_both_ways(arena, which):
    document = getattr(arena, which)
    (kind_l, local), (kind_r, remote) = both_ways(arena, answers.verify_case(document, None))
    assert kind_l == kind_r == "ok"
    assert local == remote
    assert local.valid is (which == "honest")


@pytest.mark.parametrize("model", ["0x" + "ab" * 32, "0x12"], ids=["other model", "malformed"])
def test_a_pinned_model_is_judged_the_same_both_ways(arena, model):
    local, remote = both_ways(arena, answers.verify_case(arena.honest, None, model))
    assert local == remote
    if model == "0x12":
        assert local == ("error", "a model root is 0x and 64 hex digits, got '0x12'")
    else:
        assert (local[1].verdict, local[1].check) == ("INVALID", "model")
        assert model in local[1].reason


def test_an_unanchored_receipt_fails_the_same_way_then_works_the_same_way(arena):
    document = arena.bent
    assert document.anchor is None
    before = both_ways(arena, disputes.challenge_case(document, None, dry_run=True))
    assert before[0] == before[1]
    assert before[0][0] == "error"
    assert "not anchored yet" in before[0][1]
    arena.app.content.anchor()  # the node anchors its receipts; the file still has no proof
    after = both_ways(arena, disputes.challenge_case(document, None, dry_run=True))
    assert after[0] == after[1]
    kind, result = after[0]
    assert kind == "ok"
    assert result.claim == "score"
    assert result.dispute is None  # a dry run files nothing
    assert result.verdict.verdict == "INVALID"


def test_a_valid_receipt_has_nothing_to_challenge_either_way(arena):
    arena.app.content.anchor()
    outcomes = both_ways(arena, disputes.challenge_case(arena.honest, None, dry_run=True))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == "error"


def test_other_token_ids_are_refused_the_same_way(arena):
    """INVALID (tokens) both ways, and no claim either way: the contract cannot judge them."""
    verdicts = both_ways(arena, answers.verify_case(arena.tokens, None))
    assert verdicts[0] == verdicts[1]
    assert verdicts[0][1].check == "tokens"
    arena.app.content.anchor()
    outcomes = both_ways(arena, disputes.challenge_case(arena.tokens, None, dry_run=True))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == "error"
    assert "contract cannot check tokenization" in outcomes[0][1]


@pytest.mark.parametrize(
    "case",
    [
        answers.snapshot_case(),
        disputes.resolve_case(999),
        payouts.claim_case("0x" + "11" * 20, None),
        payouts.show_case(9),
        labels.next_case("0x" + "22" * 20),
        labels.export_case("0x" + "33" * 32),
        chain.status_case(),
        asks.terms_case(),
        asks.channel_case("0x" + "44" * 20),
        asks.withdrawal_case("0x" + "44" * 20, 2**40),
        asks.complete_case("0x" + "44" * 20),
        policy.state_case(),
        policy.ballot_terms_case(1, "0x" + "55" * 20, "for"),
        policy.execute_case(1),
    ],
    ids=[
        "snapshot",
        "resolve",
        "claim",
        "epoch-show",
        "label-next",
        "label-export",
        "chain-status",
        "asks-terms",
        "asks-channel",
        "asks-withdrawal-request",
        "asks-complete-refused",
        "policy-show-no-network",
        "policy-ballot-no-network",
        "policy-execute-no-network",
    ],
)
def test_reads_and_refusals_are_the_same_both_ways(arena, case):
    local, remote = both_ways(arena, case)
    assert local == remote


def test_closing_an_epoch_refuses_the_same_way(arena):
    local, remote = both_ways(arena, payouts.close_case())
    assert local == remote
    assert local[0] == "error"
    assert "nothing to pay" in local[1]  # the answers carried no fee


def test_anchoring_agrees(arena, sponsored):
    content.anchor_case().local(arena.app)  # what the module's other tests left pending
    for text, runner in (("parity one", "local"), ("parity two", "remote")):
        sponsored.publish(arena.context, arena.context.operator, text)
        case = content.anchor_case()
        done = case.local(arena.app) if runner == "local" else case.remote(arena.node)
        assert [(b.kind, b.item_count, b.sent) for b in done.batches] == [("content", 1, True)]
    local, remote = both_ways(arena, content.anchor_case())
    assert local == remote == ("ok", type(done)(batches=[]))
