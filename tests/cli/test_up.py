"""`aigora up` end to end: first start creates and deploys, Ctrl-C stops cleanly, a restart finds
every balance, registration and contract again, and `chain status` asks the running node."""

import json
import signal

import httpx

from aigora.chain.anvil import free_port


def stop(proc, sig: int = signal.SIGINT) -> str:
    """Stop the node (SIGINT is what Ctrl-C sends); returns everything it wrote to stderr."""
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return err


def test_up_creates_deploys_serves_and_restarts_with_state(aigora):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = aigora.start("up", "--port", str(port))
    try:
        first = aigora.wait_ready(proc, url)
        assert (aigora.data_dir / "node.json").is_file()
        assert json.loads((aigora.data_dir / "node.json").read_text())["url"] == url
        # The node holds the embedded chain's lock; the CLI asks the node instead.
        status = aigora.run("chain", "status")
        assert status.returncode == 0, status.stderr
        assert first["contracts"]["Registry"] in status.stdout
        assert httpx.get(f"{url}/docs", timeout=5).status_code == 200
    finally:
        err = stop(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert "Error" not in err
    assert not (aigora.data_dir / "node.json").exists()
    for name in ("config.toml", "aigora.db", "keys/operator.json", "chain/chain.sqlite"):
        assert (aigora.data_dir / name).exists(), name
    token = (aigora.data_dir / "node.token").read_text()  # the credential outlives the node

    config = aigora.data_dir / "config.toml"
    text = config.read_text()
    assert "writes_per_minute = 60" in text
    config.write_text(text.replace("writes_per_minute = 60", "writes_per_minute = 2"))
    proc = aigora.start("up", "--port", str(port))
    try:
        second = aigora.wait_ready(proc, url)
        assert (aigora.data_dir / "node.token").read_text() == token
        # No proxy is trusted by default, not even one on loopback: a client naming itself
        # in X-Forwarded-For is still counted by its socket's address.
        codes = [
            httpx.post(
                f"{url}/trust", json={}, headers={"X-Forwarded-For": f"192.0.2.{n}"}, timeout=30
            ).status_code
            for n in range(3)
        ]
        assert codes == [422, 422, 429]
        operator = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{url}/anchor", headers=operator, timeout=60).status_code == 200
    finally:
        err = stop(proc, signal.SIGTERM)  # a service manager's stop is just as clean
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert second["contracts"] == first["contracts"]
    assert second["operator"] == first["operator"]  # same key, balances, bond and registration
    assert second["block_number"] == first["block_number"]

    # Stopped again: the CLI now opens the chain itself and sees the same state.
    offline = aigora.run("chain", "status")
    assert offline.returncode == 0
    assert first["contracts"]["Token"] in offline.stdout


def test_port_in_use_is_one_line(aigora):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = aigora.run("up", "--port", str(port))
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
