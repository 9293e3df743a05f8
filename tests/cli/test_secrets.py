"""Private keys never leave their encrypted keystore: not in output, logs, errors, the database or
any other file the node writes."""

import json
import signal
import time

import httpx
from eth_account import Account

from aigora.chain.anvil import free_port


def forms_of(key: bytes) -> list[bytes]:
    hex_key = key.hex()
    return [key, hex_key.encode(), hex_key.upper().encode(), hex_key[:32].encode()]


def test_private_keys_appear_nowhere(aigora):
    passphrase = "correct horse battery staple"
    outputs: list[str] = []

    def run(*args, **kwargs):
        result = aigora.run(*args, **kwargs)
        outputs.extend([result.stdout, result.stderr])
        return result

    assert run("account", "new", "alice").returncode == 0
    port = free_port()
    proc = aigora.start("up", "--port", str(port), env={"AIGORA_DEBUG": "1"})
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                outputs.append(httpx.get(f"http://127.0.0.1:{port}/chain/status", timeout=5).text)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        run("chain", "status")
        run("account", "list")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        outputs.extend([out, err])
    run("up", env={"AIGORA_PASSPHRASE": "wrong"})  # the error path names the key, not its secret
    run("account", "new", "alice")

    keys = {}
    for name in ("operator", "alice"):
        keyfile = json.loads((aigora.data_dir / "keys" / f"{name}.json").read_text())
        keys[name] = bytes(Account.decrypt(keyfile, passphrase))
    text = "\n".join(outputs).encode()
    files = [p for p in aigora.data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "aigora.db" for p in files)
    for name, key in keys.items():
        for form in forms_of(key):
            assert form not in text, f"{name}'s key printed"
            for path in files:
                assert form not in path.read_bytes(), f"{name}'s key in {path}"
