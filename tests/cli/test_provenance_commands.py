"""publish, attest, trust, anchor, content show and reputation compute/recompute from the shell."""

import pytest

from aigora.core.cid import cid_of

CLI_IN_PROCESS = True  # the commands' behaviour is under test here, not their process


@pytest.fixture
def started(aigora):
    """A data directory a node has started in once (deployed, then stopped)."""
    from aigora.app import open_node

    open_node(aigora.data_dir, "correct horse battery staple").close()
    return aigora


def test_publish_attest_anchor_score_and_recompute(started, tmp_path):
    aigora = started
    original, derived = tmp_path / "a.txt", tmp_path / "b.md"
    original.write_text("an original claim")
    derived.write_text("a translation of it")
    first = aigora.run("publish", str(original))
    assert first.returncode == 0, first.stderr
    cid = cid_of(original.read_bytes())
    assert cid in first.stdout
    second = aigora.run("publish", str(derived), "--parent", cid, "--license", "CC0-1.0")
    assert second.returncode == 0, second.stderr
    assert cid in second.stdout  # the manifest chain is shown
    assert "already published" in aigora.run("publish", str(original)).stdout

    assert aigora.run("account", "new", "alice").returncode == 0
    attested = aigora.run(
        "attest", cid, "--verdict", "accurate", "--reason", "ok", "--account", "alice"
    )
    assert attested.returncode == 0, attested.stderr
    bad = aigora.run("attest", cid, "--verdict", "great")
    assert bad.returncode == 1
    assert "verdict must be one of" in bad.stderr

    anchored = aigora.run("anchor")
    assert anchored.returncode == 0, anchored.stderr
    assert "anchored 2 content" in anchored.stdout
    assert "anchored 1 attestations" in anchored.stdout

    computed = aigora.run("reputation", "compute")
    assert computed.returncode == 0, computed.stderr
    recomputed = aigora.run("reputation", "recompute")
    assert recomputed.returncode == 0, recomputed.stderr
    assert "reproduced to the bit" in recomputed.stdout

    shown = aigora.run("content", "show", cid)
    assert shown.returncode == 0, shown.stderr
    assert "accurate" in shown.stdout
    assert "pending" not in shown.stdout  # anchored above


@pytest.mark.subprocess
def test_publish_before_the_node_ever_started(aigora, tmp_path):
    note = tmp_path / "n.txt"
    note.write_text("x")
    aigora.run("account", "new", "operator")
    result = aigora.run("publish", str(note))
    assert result.returncode == 1
    assert "aigora up" in result.stderr


def test_publish_a_missing_file(started, tmp_path):
    result = started.run("publish", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert "cannot read" in result.stderr
