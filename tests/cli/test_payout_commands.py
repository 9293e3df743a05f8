"""`aigora asks deposit|status`, `aigora ask --pay`, `aigora epoch close`, `aigora earnings` and
`aigora claim` from the shell, on a node whose answers an asker paid for with vouchers: the
epoch redeems and splits them and is posted, the table shows each author's items, and the claim
pays an author who has never held anything."""

import os
import re
import time

from aigora.app import Answers, EpochReport, LeftOutJob, open_node
from aigora.cli import payouts
from aigora.content import service
from aigora.content.signed import content_message, sign
from aigora.core.keystore import Keystore, Signer
from aigora.store.db import session_scope

from .conftest import PASSPHRASE

CLI_IN_PROCESS = True  # the commands' behaviour is under test here, not their process

TEXTS = (
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "Bananas are rich in potassium and easy to carry.",
    "The Kia Telluride is a spacious three-row SUV with a long warranty.",
)


FEE = 5000


def _paid_answers(aigora) -> str:
    """A node whose answers cost a fee, one author's content, and an asker (`asker` in the
    keystore, given tokens by the operator) who deposits and pays for two answers from the
    shell; returns the author's address (an account with no ether and no token)."""
    data_dir = aigora.data_dir
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text(f'[answers]\nfee = "{FEE}"\n')
    keys = Keystore(data_dir / "keys", kdf_iterations=2**10)
    keys.create("operator", PASSPHRASE)
    asker = keys.create("asker", PASSPHRASE)
    context = open_node(data_dir, PASSPHRASE)
    try:
        author = Signer.dev(os.urandom(32))
        for text in TEXTS:
            body, now = text.encode(), int(time.time())
            message = content_message(author.address, body, "text/plain", "CC-BY-4.0", now)
            signed = sign("content", author, context.domain, message)
            with session_scope(context.db) as session:
                service.publish(session, context.blobs, context.domain, signed, body, now)
        Answers(context).refresh()
        token = context.deployment.token
        context.chain.transact(context.operator, token.functions.mint(asker, 3 * FEE))
    finally:
        context.close()
    deposited = aigora.run("asks", "deposit", "--amount", str(3 * FEE), "--account", "asker")
    assert deposited.returncode == 0, deposited.stderr
    assert re.search(rf"available\s+{3 * FEE}\b", deposited.stdout)
    for question in ("Which car seats eight?", "What is easy to carry?"):
        asked = aigora.run("ask", question, "--k", "2", "--pay", "--account", "asker")
        assert asked.returncode == 0, asked.stderr
    status = aigora.run("asks", "status", "--account", "asker")
    assert status.returncode == 0, status.stderr
    assert re.search(rf"accepted\s+{2 * FEE}\b", status.stdout)
    assert re.search(rf"next cumulative\s+{3 * FEE}\b", status.stdout)
    unpaid = aigora.run("ask", "Which car seats eight?", "--pay")
    assert unpaid.returncode == 1
    assert "--pay and --account go together" in unpaid.stderr
    assert aigora.run("anchor").returncode == 0
    return author.address


def test_close_show_and_claim_from_the_shell(aigora):
    author = _paid_answers(aigora)
    assert "has earned nothing yet" in aigora.run("earnings", author).stdout
    closed = aigora.run("epoch", "close")
    assert closed.returncode == 0, closed.stderr
    assert "epoch 1 (posted)" in closed.stdout
    again = aigora.run("epoch", "close")
    assert again.returncode == 1
    assert "nothing to pay" in again.stderr
    epoch = aigora.run("epoch", "show", "1")
    assert epoch.returncode == 0, epoch.stderr
    assert "epoch 1 (posted)" in epoch.stdout
    assert "left out" not in epoch.stdout  # no labeling job's release reverted
    missing = aigora.run("epoch", "show", "2")
    assert missing.returncode == 1
    assert "there is no epoch 2" in missing.stderr
    shown = aigora.run("earnings", author)
    assert shown.returncode == 0, shown.stderr
    assert "usage" in shown.stdout
    assert "total" in shown.stdout
    claimed = aigora.run("claim", author)
    assert claimed.returncode == 0, claimed.stderr
    assert f"to {author}" in claimed.stdout
    bad = aigora.run("claim", "0x1234")
    assert bad.returncode == 1
    assert "not a 0x-hex account address" in bad.stderr
    half = aigora.run("claim", author, "--fee", "5")
    assert half.returncode == 1
    assert "--deadline and --signature" in half.stderr


def test_an_epoch_lists_the_labeling_jobs_left_out(capsys):
    """What `epoch show` and `epoch close` print when a job's release reverted."""
    report = EpochReport(
        number=3,
        status="posted",
        receipts=0,
        usage_total="0",
        operator_total="0",
        training_total="0",
        labeling_total="1000",
        cumulative_total="5000",
        accounts=2,
        root="0x" + "00" * 32,
        tx_hash=None,
        left_out=[
            LeftOutJob(job_id="0xab", amount="2000", reason="refunded", forfeited=True),
            LeftOutJob(job_id="0xcd", amount="7", reason="other", forfeited=False),
        ],
    )
    payouts.render_epoch(report)
    out = capsys.readouterr().out
    assert "left out" in out
    for shown in ("2,000", "0xab", "refunded", "never paid", "owed, retried"):
        assert shown in out
