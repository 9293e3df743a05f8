"""The command line as a user meets it: help, accounts, and one-line errors with non-zero exits."""

import json

import pytest

from aigora.chain.anvil import free_port


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_help_lists_the_commands(aigora):
    result = aigora.run("--help")
    assert result.returncode == 0
    for command in ("up", "account", "chain"):
        assert command in result.stdout


def test_account_new_and_list(aigora):
    created = aigora.run("account", "new", "alice")
    assert created.returncode == 0, created.stderr
    address = created.stdout.split()[-1]
    assert address.startswith("0x")
    assert len(address) == 42
    listed = aigora.run("account", "list")
    assert "alice" in listed.stdout
    assert address in listed.stdout
    again = aigora.run("account", "new", "alice")
    assert_one_line_error(again, "already exists")


def test_account_import_of_an_ethers_and_an_eth_account_keystore(aigora, tmp_path):
    """What a node's page exports (ethers, scrypt) and what eth-account writes (pbkdf2) import
    with their passphrase from a file, and unlock as the same address; a wrong one is refused."""
    from eth_account import Account

    from aigora.core.keystore import Keystore
    from tests.core.test_keystore import ETHERS_ADDRESS, ETHERS_KEYSTORE, ETHERS_PASSPHRASE

    page_file, secret = tmp_path / "aigora-key.json", tmp_path / "passphrase.txt"
    page_file.write_text(json.dumps(ETHERS_KEYSTORE))
    secret.write_text(ETHERS_PASSPHRASE + "\n")
    imported = aigora.run("account", "import", str(page_file), "--passphrase-file", str(secret))
    assert imported.returncode == 0, imported.stderr
    assert f"imported account key-4b9f0a2b {ETHERS_ADDRESS}" in imported.stdout
    account = Account.create()
    theirs = tmp_path / "theirs.json"
    theirs.write_text(json.dumps(Account.encrypt(account.key, "theirs", kdf="pbkdf2")))
    wrong = aigora.run(
        "account", "import", str(theirs), "--name", "bob", "--passphrase-file", str(secret)
    )
    assert_one_line_error(wrong, "wrong passphrase")
    secret.write_text("theirs")
    done = aigora.run(
        "account", "import", str(theirs), "--name", "bob", "--passphrase-file", str(secret)
    )
    assert done.returncode == 0, done.stderr
    keys = Keystore(aigora.data_dir / "keys")
    assert keys.unlock("bob", "theirs").address == account.address
    assert keys.unlock("key-4b9f0a2b", ETHERS_PASSPHRASE).address == ETHERS_ADDRESS
    assert account.key.hex() not in done.stdout + done.stderr
    no_terminal = aigora.run("account", "import", str(theirs), "--name", "carol")
    assert_one_line_error(no_terminal, "--passphrase-file")


def test_every_command_takes_data_dir(aigora, tmp_path):
    other = tmp_path / "elsewhere"
    assert aigora.run("account", "new", "bob", "--data-dir", str(other)).returncode == 0
    assert "bob" in aigora.run("account", "list", "--data-dir", str(other)).stdout
    assert "bob" not in aigora.run("account", "list").stdout


def test_no_passphrase_and_no_terminal(aigora):
    result = aigora.run("account", "new", "carol", env={"AIGORA_PASSPHRASE": ""})
    assert_one_line_error(result, "AIGORA_PASSPHRASE")
    env = {k: v for k, v in aigora.env.items() if k != "AIGORA_PASSPHRASE"}
    aigora.env = env
    assert_one_line_error(aigora.run("account", "new", "carol"), "set AIGORA_PASSPHRASE")


def test_wrong_passphrase_on_up(aigora):
    assert aigora.run("account", "new", "operator").returncode == 0
    result = aigora.run("up", env={"AIGORA_PASSPHRASE": "wrong"})
    assert_one_line_error(result, "wrong passphrase")


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("[chain\nurl=1", "not valid TOML"),
        ("[chain]\nurl = 5", "chain.url"),
        ("[node]\nport = 99999", "node.port"),
    ],
)
def test_malformed_config(aigora, config, fragment):
    aigora.data_dir.mkdir(parents=True)
    (aigora.data_dir / "config.toml").write_text(config)
    assert_one_line_error(aigora.run("up"), "config.toml", fragment)


def test_unreachable_rpc_url(aigora):
    aigora.data_dir.mkdir(parents=True)
    url = f"http://127.0.0.1:{free_port()}"
    (aigora.data_dir / "config.toml").write_text(f'[chain]\nurl = "{url}"\n')
    assert_one_line_error(aigora.run("chain", "status"), "no Ethereum JSON-RPC node", url)


def test_chain_status_without_a_node(aigora):
    assert_one_line_error(aigora.run("chain", "status"), "no node in", "aigora up")


def test_bad_option_is_a_usage_error(aigora):
    result = aigora.run("up", "--port", "0")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--port" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("publish", "missing.txt"),
        ("attest", "bafkreiaaaa", "--verdict", "accurate"),
        ("trust", "0x" + "11" * 20),
        ("anchor",),
        ("content", "show", "bafkreiaaaa"),
        ("reputation", "compute"),
        ("snapshot",),
        ("ask", "which car?"),
        ("receipt", "0x" + "ab" * 32),
        ("challenge", "missing.json"),
        ("resolve", "1"),
        ("epoch", "close"),
        ("claim", "0x" + "11" * 20),
        ("earnings", "0x" + "11" * 20),
        ("label", "post", "missing.json"),
        ("label", "export", "0x" + "ab" * 32, "-o", "rows.jsonl"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_each_command_runs_as_its_own_process(aigora, args):
    """The process boundary of the commands whose scenarios run in-process elsewhere: each starts,
    parses its arguments and fails on a missing node (or file) with one line and exit 1."""
    result = aigora.run(*args)
    assert_one_line_error(result)
    assert "no node in" in result.stderr or "cannot read" in result.stderr, result.stderr
