"""From the shell: a node that charges a fee answers its operator's `aigora ask` for free (the CLI
sends the token the running node wrote to `node.token`, mode 0600), an asker's `aigora ask
--pay` against a voucher on the channel it funded with `aigora asks deposit`, and refuses a
plain HTTP ask with 402; the asker withdraws with `aigora asks withdraw` (signed, the running
node relays it). The token appears in no log, error or database, only in its own file, which
outlives the node. A verifier pins the model it accepts with `aigora verify --model` or
`[verify] model`."""

import json
import re
import signal
import stat

import httpx

from aigora.app import OPERATOR_TOKEN_FILE, open_node
from aigora.chain.anvil import free_port
from aigora.core.keystore import Keystore

from .conftest import PASSPHRASE

CLI_IN_PROCESS = True  # the commands' behaviour is under test here, not their process

FEE = 4200
PASSAGES = {
    "minivan.txt": "The Toyota Sienna minivan is the most reliable family car.",
    "fruit.txt": "Bananas are rich in potassium.",
}
OTHER_MODEL = "0x" + "ab" * 32


def test_a_paid_node_answers_its_operator_and_a_verifier_pins_its_model(aigora, tmp_path):
    aigora.data_dir.mkdir(parents=True)
    (aigora.data_dir / "config.toml").write_text(f'[answers]\nfee = "{FEE}"\n')
    asker = Keystore(aigora.data_dir / "keys", kdf_iterations=2**10).create("asker", PASSPHRASE)
    context = open_node(aigora.data_dir, PASSPHRASE)
    try:
        token_contract = context.deployment.token
        context.chain.transact(context.operator, token_contract.functions.mint(asker, 2 * FEE))
    finally:
        context.close()
    deposited = aigora.run("asks", "deposit", "--amount", str(2 * FEE), "--account", "asker")
    assert deposited.returncode == 0, deposited.stderr
    for name, text in PASSAGES.items():
        (tmp_path / name).write_text(text)
        assert aigora.run("publish", str(tmp_path / name)).returncode == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    token_file = aigora.data_dir / OPERATOR_TOKEN_FILE
    receipt = tmp_path / "r.json"
    proc = aigora.start("up", "--port", str(port))
    try:
        aigora.wait_ready(proc, url)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text()
        assert len(token) >= 40

        snap = aigora.run("snapshot")
        assert snap.returncode == 0, snap.stderr
        plain = httpx.post(f"{url}/ask", json={"query": "potassium", "k": 1}, timeout=60)
        assert plain.status_code == 402
        assert "send a signed voucher as `payment`" in plain.json()["detail"]

        asked = aigora.run("ask", "potassium", "--k", "1", "--receipt-out", str(receipt))
        assert asked.returncode == 0, asked.stderr
        assert "Bananas" in asked.stdout
        assert json.loads(receipt.read_text())["receipt"]["fee"] == "0"  # the operator's own

        paid = aigora.run("ask", "potassium", "-k", "1", "--pay", "--account", "asker", "--json")
        assert paid.returncode == 0, paid.stderr
        assert json.loads(paid.stdout)["receipt"]["receipt"]["fee"] == str(FEE)
        status = aigora.run("asks", "status", "--account", "asker")
        assert status.returncode == 0, status.stderr
        assert re.search(rf"accepted\s+{FEE}\b", status.stdout)
        requested = aigora.run("asks", "withdraw", "--account", "asker")
        assert requested.returncode == 0, requested.stderr
        assert "withdrawal requested: it unlocks at" in requested.stdout
        early = aigora.run("asks", "withdraw", "--account", "asker")
        assert early.returncode == 1
        assert "the withdrawal unlocks at" in early.stderr
        redeemed = httpx.get(f"{url}/asks/channels/{asker}", timeout=60).json()
        assert redeemed["redeemed"] == str(FEE)  # the node redeemed on the request
        assert redeemed["deposit"] == str(FEE)

        model_root = json.loads(receipt.read_text())["receipt"]["modelRoot"]
        pinned = aigora.run("verify", str(receipt), "--model", model_root)
        assert pinned.returncode == 0, pinned.stdout + pinned.stderr
        assert "note: disputes 0x" in pinned.stdout
        other = aigora.run("verify", str(receipt), "--model", OTHER_MODEL, "--json")
        assert other.returncode == 1, other.stdout + other.stderr
        verdict = json.loads(other.stdout)
        assert (verdict["verdict"], verdict["check"]) == ("INVALID", "model")
        assert verdict["reason"] == (
            f"the receipt answers under model {model_root}, not the pinned model {OTHER_MODEL}"
        )
        malformed = aigora.run("verify", str(receipt), "--model", "0x12")
        assert malformed.returncode == 2
        assert "a model root is 0x and 64 hex digits" in malformed.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert token_file.read_text() == token, "the credential outlives the node"
    assert token not in out + err
    for outcome in (snap, asked, paid, status, requested, early, pinned, other, malformed):
        assert token not in outcome.stdout + outcome.stderr
    for path in aigora.data_dir.rglob("*"):
        if path.is_file() and path != token_file:  # the credential's own file keeps it
            assert token.encode() not in path.read_bytes(), path

    (aigora.data_dir / "config.toml").write_text(
        f'[answers]\nfee = "{FEE}"\n\n[verify]\nmodel = "{OTHER_MODEL}"\n'
    )
    configured = aigora.run("verify", str(receipt), "--json")
    assert configured.returncode == 1, configured.stdout + configured.stderr
    assert json.loads(configured.stdout)["check"] == "model"
    assert f"not the pinned model {OTHER_MODEL}" in json.loads(configured.stdout)["reason"]
