"""`aigora publish PATH...`: files, directories and JSON Lines signed with one unlock, a batch at
a time; an interrupted import resumes where it stopped; bad input publishes nothing. And the
HTTP API's batches: all or none."""

import base64
import json

import pytest
from sqlalchemy import select

from aigora.app import open_node, open_store
from aigora.cli import content as content_cli
from aigora.content import content_message, sign
from aigora.core.cid import cid_of
from aigora.core.keystore import Signer
from aigora.store import ContentItem, session_scope
from tests.cli.conftest import PASSPHRASE
from tests.operator import operator_app, public_client

CLI_IN_PROCESS = True


@pytest.fixture
def started(aigora):
    open_node(aigora.data_dir, PASSPHRASE).close()
    assert aigora.run("account", "new", "writer").returncode == 0
    return aigora


def stored(data_dir) -> dict[str, ContentItem]:
    store = open_store(data_dir)
    try:
        with session_scope(store.db) as session:
            rows = session.scalars(select(ContentItem)).all()
            for row in rows:
                session.expunge(row)
            return {row.cid: row for row in rows}
    finally:
        store.close()


@pytest.fixture
def corpus(tmp_path):
    docs = tmp_path / "docs"
    (docs / "a" / "b").mkdir(parents=True)
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "secret.txt").write_text("not for publishing")
    for i in range(7):
        (docs / ("a" if i % 2 else "a/b") / f"note{i}.md").write_text(f"note {i} on tyres")
    parent = cid_of((docs / "a" / "note1.md").read_bytes())
    lines = tmp_path / "more.jsonl"
    lines.write_text(
        "\n".join(
            [
                json.dumps({"text": "a line about rivers", "license": "CC0-1.0"}),
                "",
                json.dumps({"path": "docs/a/b/note0.md"}),  # already in docs/: one copy
                json.dumps(
                    {"text": "derived from note 1", "parents": [parent], "url": "https://e.org/x"}
                ),
            ]
        )
        + "\n"
    )
    return docs, lines, parent


def test_a_directory_and_json_lines_publish_once_each(started, corpus):
    docs, lines, parent = corpus
    result = started.run("publish", str(docs), str(lines), "--account", "writer")
    assert result.returncode == 0, result.stderr
    assert "published 9 of 10 documents (1 already here)" in result.stdout
    items = stored(started.data_dir)
    assert len(items) == 9
    assert cid_of(b"not for publishing") not in items
    rivers = items[cid_of(b"a line about rivers")]
    assert (rivers.license, rivers.media_type) == ("CC0-1.0", "text/plain")
    derived = items[cid_of(b"derived from note 1")]
    assert derived.url == "https://e.org/x"
    assert derived.license == "CC-BY-4.0"
    assert {row.author for row in items.values()} == {rivers.author}
    again = started.run("publish", str(docs), str(lines), "--account", "writer")
    assert again.returncode == 0, again.stderr
    assert "published 0 of 10 documents (10 already here)" in again.stdout
    assert len(stored(started.data_dir)) == 9
    assert parent in items


def test_an_interrupted_import_resumes_with_what_is_missing(started, corpus, monkeypatch):
    docs, _, _ = corpus
    monkeypatch.setattr(content_cli, "BATCH", 3)
    calls = {"n": 0}  # the second batch is interrupted (Ctrl-C)
    original = content_cli.Content.publish_batch

    def flaky(self, items, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(self, items, **kwargs)

    monkeypatch.setattr(content_cli.Content, "publish_batch", flaky)
    interrupted = started.run("publish", str(docs), "--account", "writer")
    assert interrupted.returncode != 0
    assert len(stored(started.data_dir)) == 3  # the first batch, whole; the second, none
    monkeypatch.setattr(content_cli.Content, "publish_batch", original)
    resumed = started.run("publish", str(docs), "--account", "writer")
    assert resumed.returncode == 0, resumed.stderr
    assert "published 4 of 7 documents (3 already here)" in resumed.stdout
    assert len(stored(started.data_dir)) == 7


def test_a_bad_line_publishes_nothing_and_names_it(started, corpus, tmp_path):
    docs, _, _ = corpus
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fine"}) + "\n" + json.dumps({"txt": "typo"}) + "\n")
    result = started.run("publish", str(docs), str(bad), "--account", "writer")
    assert result.returncode == 1
    assert f"{bad}:2" in result.stderr
    assert "txt" in result.stderr
    assert stored(started.data_dir) == {}
    flags = started.run("publish", str(docs), "--url", "https://x", "--account", "writer")
    assert flags.returncode == 1
    assert "per line" in flags.stderr


def _item(signer: Signer, domain, body: bytes) -> dict:
    message = content_message(signer.address, body, "text/plain", "CC0-1.0", 1_700_000_000)
    signed = sign("content", signer, domain, message)
    return {
        "manifest": signed.message,
        "signature": "0x" + signed.signature.hex(),
        "body_base64": base64.b64encode(body).decode(),
    }


def test_the_api_takes_batches_all_or_none(started):
    context = open_node(started.data_dir, PASSPHRASE)
    try:
        author = Signer.dev(bytes([7]) * 32)
        with public_client(operator_app(context)) as client:
            good = [_item(author, context.domain, b"batch doc %d" % i) for i in range(3)]
            tampered = _item(author, context.domain, b"batch doc 9")
            tampered["manifest"] = {**tampered["manifest"], "license": "MIT"}
            refused = client.post("/content/batch", json={"items": [*good, tampered]})
            assert refused.status_code == 400, refused.text
            assert refused.json()["detail"].startswith("item 3:")
            assert stored(started.data_dir) == {}
            done = client.post("/content/batch", json={"items": good})
            assert done.status_code == 200, done.text
            assert [i["duplicate"] for i in done.json()["items"]] == [False] * 3
            assert client.post("/content/batch", json={"items": []}).status_code == 422
    finally:
        context.close()
    assert len(stored(started.data_dir)) == 3
