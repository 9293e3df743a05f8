"""`aigora challenge` from the shell: a valid receipt has nothing to challenge; a tilted one is
filed as the claim that proves it wrong and decided on-chain; one whose token ids are not the
query's is INVALID to `aigora verify` but never filed, since no claim about it can win."""

from pathlib import Path

from aigora.content.anchoring import anchor_all
from aigora.core.cid import cid_of
from aigora.verify import stored_receipt

CLI_IN_PROCESS = True  # the commands' behaviour is under test here, not their process

PASSPHRASE = "correct horse battery staple"


def _receipts(example, data_dir: Path, out: Path) -> tuple[Path, Path, Path, Path]:
    """An honest, a score-tilted, an edited-model and a sponsor-tokens receipt, all anchored,
    written as files."""
    from aigora.app import open_node

    context = open_node(data_dir, PASSPHRASE)
    try:
        author = context.operator
        for text in example.CORPUS:
            example.publish(context, author, text)
        tilted = example.TiltedAnswers(context)
        tilted.sponsor_cid = cid_of(example.SPONSOR.encode())
        tilted.refresh()
        honest = tilted.ask(example.QUESTION, 3)
        tilted.tilt = example.hidden_bonus
        bent = tilted.ask(example.QUESTION, 3)
        tilted.tilt = example.edited_model
        edited = tilted.ask(example.QUESTION, 3)
        tilted.tilt = example.sponsor_tokens
        tokens = tilted.ask(example.QUESTION, 3)
        anchor_all(context.db, context.chain, context.deployment.registry, context.operator)
        paths = []
        for name, document in (
            ("honest.json", honest),
            ("bent.json", bent),
            ("edited.json", edited),
            ("tokens.json", tokens),
        ):
            path = out / name
            path.write_text(stored_receipt(context.db, "0x" + document.digest().hex()).dumps())
            paths.append(path)
        return paths[0], paths[1], paths[2], paths[3]
    finally:
        context.close()


def test_challenge_files_the_claim_that_proves_a_receipt_wrong(aigora, tmp_path, sponsored):
    honest, bent, edited, tokens = _receipts(sponsored, aigora.data_dir, tmp_path)
    nothing = aigora.run("challenge", str(honest))
    assert nothing.returncode == 1
    assert "VALID: there is nothing to challenge" in nothing.stderr
    planned = aigora.run("challenge", str(bent), "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "claim: score" in planned.stdout
    assert "dispute" not in planned.stdout
    game = aigora.run("challenge", str(edited), "--dry-run")
    assert game.returncode == 0, game.stderr
    assert "claim: embedding" in game.stdout
    caught = aigora.run("verify", str(tokens))
    assert caught.returncode == 1
    assert "tokens" in caught.stdout
    assert "'sponsor'" in caught.stdout
    for flags in (("--dry-run",), ()):
        refused = aigora.run("challenge", str(tokens), *flags)
        assert refused.returncode == 1
        assert "contract cannot check tokenization" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    opened = aigora.run("challenge", str(edited), "--no-wait")
    assert opened.returncode == 0, opened.stderr
    assert "dispute 1: open" in opened.stdout  # the refused challenges opened none
    filed = aigora.run("challenge", str(bent))
    assert filed.returncode == 0, filed.stderr
    assert "challenger won" in filed.stdout
    assert "slashed" in filed.stdout
    again = aigora.run("challenge", str(bent))
    assert again.returncode == 1
    assert "slashed" in again.stderr or "already judged" in again.stderr
