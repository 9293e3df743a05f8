"""snapshot, ask, receipt and verify from the shell, with the node stopped and with it running.
`aigora verify`'s exit status is an interface: 0 VALID, 1 INVALID, 2 unusable input."""

import json
import signal

import pytest

from aigora.chain.anvil import free_port

CLI_IN_PROCESS = True  # the commands' behaviour is under test here, not their process

PASSAGES = {
    "cars.txt": "A family of five needs a car with three rows of seats.",
    "minivan.txt": "The Toyota Sienna minivan is the most reliable family car.",
    "fruit.txt": "Bananas are rich in potassium.",
}


@pytest.fixture
def published(aigora, tmp_path):
    """A data directory with a deployed node (stopped) and three published passages."""
    from aigora.app import open_node

    open_node(aigora.data_dir, "correct horse battery staple").close()
    for name, text in PASSAGES.items():
        path = tmp_path / name
        path.write_text(text)
        done = aigora.run("publish", str(path))
        assert done.returncode == 0, done.stderr
    return aigora


def test_snapshot_ask_verify_offline(published, tmp_path):
    aigora = published
    empty_ask = aigora.run("ask", "which car?")
    assert empty_ask.returncode == 1
    assert "no snapshot" in empty_ask.stderr

    snap = aigora.run("snapshot")
    assert snap.returncode == 0, snap.stderr
    assert "3 passages (3 embedded, 0 reused" in snap.stdout
    again = aigora.run("snapshot")
    assert "unchanged" in again.stdout

    receipt = tmp_path / "receipt.json"
    asked = aigora.run("ask", "which car for my family?", "--k", "2", "--receipt-out", str(receipt))
    assert asked.returncode == 0, asked.stderr
    assert "Sienna" in asked.stdout
    document = json.loads(receipt.read_text())
    assert len(document["results"]) == 2

    valid = aigora.run("verify", str(receipt))
    assert valid.returncode == 0, valid.stderr
    assert "VALID" in valid.stdout
    assert "not anchored yet" in valid.stdout

    anchored = aigora.run("anchor")
    assert "anchored 1 receipts" in anchored.stdout
    digest = valid.stdout.split("receipt ")[1].split()[0]
    with_proof = tmp_path / "anchored.json"
    fetched = aigora.run("receipt", digest, "--out", str(with_proof))
    assert fetched.returncode == 0, fetched.stderr
    assert json.loads(with_proof.read_text())["anchor"] is not None
    proven = aigora.run("verify", str(with_proof), "--json")
    assert proven.returncode == 0, proven.stderr
    notes = json.loads(proven.stdout)["notes"]
    assert len(notes) == 1  # anchored: no "not anchored yet" note, only the dispute terms
    assert notes[0].startswith("disputes 0x")

    tampered = dict(document)
    tampered["results"] = list(reversed(document["results"]))
    for rank, result in enumerate(tampered["results"]):
        result["rank"] = rank
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    invalid = aigora.run("verify", str(bad))
    assert invalid.returncode == 1, invalid.stderr
    assert "INVALID" in invalid.stdout

    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    unusable = aigora.run("verify", str(junk))
    assert unusable.returncode == 2
    assert "cannot verify" in unusable.stderr
    assert "Traceback" not in unusable.stderr
    missing = aigora.run("verify", str(tmp_path / "nope.json"))
    assert missing.returncode == 2

    bad_k = aigora.run("ask", "q", "--k", "0")
    assert bad_k.returncode == 1
    assert "--k must be between" in bad_k.stderr


@pytest.mark.subprocess
def test_ask_and_verify_through_a_running_node(published, tmp_path):
    aigora = published
    port = free_port()
    proc = aigora.start("up", "--port", str(port))
    try:
        aigora.wait_ready(proc, f"http://127.0.0.1:{port}")
        snap = aigora.run("snapshot")
        assert snap.returncode == 0, snap.stderr
        receipt = tmp_path / "r.json"
        asked = aigora.run("ask", "potassium", "--k", "1", "--receipt-out", str(receipt))
        assert asked.returncode == 0, asked.stderr
        assert "Bananas" in asked.stdout
        verified = aigora.run("verify", str(receipt))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "VALID" in verified.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
