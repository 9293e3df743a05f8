"""`aigora policy`, as a person runs it against a node joined to a governed network on anvil (the
node stopped: the command opens it and its operator key relays): show the genesis policy,
propose a change with --set and --remove (the diff printed, nothing signed without --yes or a
confirmation), vote with seeds' keystore accounts, refuse a double vote and a voter without
standing, execute after the timelock and show the new policy."""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from aigora.app import open_node
from aigora.chain import Anvil
from aigora.core.cid import cid_of
from aigora.core.keystore import Keystore
from tests.cli.conftest import PASSPHRASE, Aigora
from tests.governance_kit import (
    SEED_KEYS,
    STRANGER_KEY,
    TIMELOCK_S,
    VOTING_PERIOD_S,
    advance,
    deploy_governed,
    joined_dir,
)

CLI_IN_PROCESS = True
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> Iterator[SimpleNamespace]:
    with Anvil() as rpc:
        base = tmp_path_factory.mktemp("policy-cli")
        governed = deploy_governed(rpc, base)
        home = joined_dir(base / "home", governed, 18640)
        keys = Keystore(home / "keys", kdf_iterations=2**10)
        named = (("alice", SEED_KEYS[0]), ("bob", SEED_KEYS[1]), ("mallory", STRANGER_KEY))
        for name, key in named:
            keys.import_key(name, key.hex(), PASSPHRASE)
        open_node(home, PASSPHRASE).close()  # joined once, as `aigora up` does
        yield SimpleNamespace(rpc=rpc, aigora=Aigora(home, in_process=True))


def ok(result) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def failed(result, words: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert words in result.stderr, result.stderr


def test_the_whole_round_from_the_command_line(cli):
    aigora = cli.aigora
    shown = ok(aigora.run("policy", "show"))
    assert "Policy in force" in shown
    assert "any score" in shown
    assert "No proposals yet." in shown
    assert "3, from the seeds (genesis)" in shown

    asked = aigora.run(
        "policy", "propose", "--set", "admission.min_score=0.3", "--account", "alice"
    )
    assert "admission.min_score: None -> 0.3" in asked.stdout
    assert asked.returncode != 0  # no terminal to confirm on: nothing signed
    assert "No proposals yet." in ok(aigora.run("policy", "show"))

    made = ok(
        aigora.run(
            "policy",
            "propose",
            "--set",
            "admission.min_score=0.3",
            "--remove",
            CID,
            "--reason",
            "copied from a paywalled site",
            "--account",
            "alice",
            "--yes",
        )
    )
    assert "proposal 1 is open for votes" in made
    shown = ok(aigora.run("policy", "show"))
    assert "Proposal 1 (active)" in shown
    assert "admission.min_score: None -> 0.3" in shown

    ok(aigora.run("policy", "vote", "1", "for", "--account", "alice"))
    failed(aigora.run("policy", "vote", "1", "against", "--account", "alice"), "already voted")
    failed(aigora.run("policy", "vote", "1", "for", "--account", "mallory"), "has no standing")
    ok(aigora.run("policy", "vote", "1", "abstain", "--account", "bob"))
    failed(aigora.run("policy", "execute", "1"), "voting is still open")

    advance(cli.rpc, VOTING_PERIOD_S + TIMELOCK_S)
    assert "is the policy in force" in ok(aigora.run("policy", "execute", "1"))
    shown = ok(aigora.run("policy", "show"))
    assert "at least 0.3" in shown
    assert f"removed {CID}: copied from a paywalled site" in shown
    assert "Proposal 1 (executed)" in shown


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--set", "admission.nope=1"], "admission has no field 'nope'"),
        (["--set", "standing.powers={}"], "a setting is section.field=value"),
        (["--set", "admission.min_score=0.3", "--remove", CID], "--remove needs --reason"),
        (["--restore", cid_of(b"never removed")], "is not removed"),
        (["--set", "objectives.k=0"], "objectives.k"),
        (["--remove", "not-a-cid", "--reason", "spam"], "is not a CID"),
    ],
)
def test_bad_drafts_are_one_line_errors_and_sign_nothing(cli, args, words):
    failed(cli.aigora.run("policy", "propose", *args, "--account", "bob", "--yes"), words)


def test_a_whole_document_that_is_not_a_policy(cli, tmp_path):
    bad = tmp_path / "policy.json"
    bad.write_text('{"format": "aigora-policy/1", "admission": {}}')
    failed(
        cli.aigora.run("policy", "propose", "--file", str(bad), "--account", "bob", "--yes"),
        "not a policy: reputation",
    )
