"""`aigora label ...` from the shell: a requester posts and escrows a job in one command, a new
labeler gets an account on first use, takes a task, answers it, and the labels are exported."""

import json
import re

from aigora.app import open_node
from aigora.core.keystore import Keystore

from .conftest import PASSPHRASE

CLI_IN_PROCESS = True  # the commands' behaviour is under test here, not their process


def _started(data_dir) -> tuple[str, int]:
    """A node that has run once (contracts deployed); its operator's address and chain time."""
    data_dir.mkdir(parents=True)
    Keystore(data_dir / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    context = open_node(data_dir, PASSPHRASE)
    try:
        return context.operator.address, context.chain.now()
    finally:
        context.close()


def test_post_take_answer_export(aigora, tmp_path):
    operator, now = _started(aigora.data_dir)
    spec = {
        "requester": operator,
        "title": "sentiment",
        "instructions": "Is the sentence positive or negative?",
        "labels": ["negative", "positive"],
        "overlap": 2,
        "price": "100",
        "ends_at": now + 7200,
        "items": [
            {"text": "I love it", "gold": 1},
            {"text": "Awful", "gold": 0},
            {"text": "Great stuff"},
            {"text": "Terrible service"},
        ],
    }
    spec_file = tmp_path / "job.json"
    spec_file.write_text(json.dumps(spec))
    posted = aigora.run("label", "post", str(spec_file), "--account", "operator")
    assert posted.returncode == 0, posted.stderr
    assert "escrow 400, funded: True" in posted.stdout
    job_id = re.search(r"job (0x[0-9a-f]{64})", posted.stdout).group(1)

    taken = aigora.run("label", "next", "--account", "alice")
    assert taken.returncode == 0, taken.stderr
    assert "created account alice" in taken.stdout
    task = json.loads(taken.stdout[taken.stdout.index("{") : taken.stdout.rindex("}") + 1])
    assert task["job_id"] == job_id
    label = 1 if task["text"] in ("I love it", "Great stuff") else 0
    answered = aigora.run(
        "label", "answer", job_id, str(task["item"]), str(label), "--account", "alice"
    )
    assert answered.returncode == 0, answered.stderr
    twice = aigora.run(
        "label", "answer", job_id, str(task["item"]), str(label), "--account", "alice"
    )
    assert twice.returncode == 1
    assert "already answered" in twice.stderr
    early = aigora.run("label", "export", job_id, "-o", str(tmp_path / "early.jsonl"))
    assert early.returncode == 1
    assert "exported after it ends" in early.stderr
    context = open_node(aigora.data_dir, PASSPHRASE)
    try:
        context.chain.advance_time(7201)
    finally:
        context.close()
    out = tmp_path / "valid.jsonl"
    exported = aigora.run("label", "export", job_id, "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {"text": "I love it", "label": 1} in rows
