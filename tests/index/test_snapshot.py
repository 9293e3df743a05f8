"""Snapshots: the root commits to every passage and embedding; order never matters; files
round-trip and are checked against their root; a new snapshot embeds only new content."""

import os
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.content import service
from aigora.content.signed import domain_for, sign
from aigora.core.cid import cid_of, digest_of
from aigora.core.keystore import Signer
from aigora.core.merkle import verify_proof
from aigora.engine import Encoder
from aigora.index import (
    SNAPSHOT_LEAF,
    AdmissionPolicy,
    PassageRef,
    Snapshot,
    SnapshotError,
    build_snapshot,
    embedding_hash,
)
from aigora.store import BlobStore, make_engine, migrate, session_scope, sqlite_url

MODEL_ROOT = bytes(range(32))


def vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-127, 128, size=(n, 384), dtype=np.int8)


def items(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    v = vectors(n, seed)
    return {cid_of(f"passage {seed} {i}".encode()): v[i] for i in range(n)}


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_root_depends_only_on_the_set_of_items(n, seed):
    original = items(n, seed)
    shuffled = dict(reversed(list(original.items())))
    a, b = Snapshot.of(MODEL_ROOT, original), Snapshot.of(MODEL_ROOT, shuffled)
    assert a.root == b.root
    wholes = [PassageRef.whole(c) for c in original]
    assert a.passages == tuple(sorted(wholes, key=lambda p: p.key))
    assert a.cids == b.cids


def test_items_are_in_passage_key_order_and_each_leaf_is_provable():
    snapshot = Snapshot.of(MODEL_ROOT, items(50))
    keys = [p.key for p in snapshot.passages]
    assert keys == sorted(keys)
    for position in (0, 17, 49):
        leaf = (position, keys[position], embedding_hash(snapshot.embeddings[position]))
        assert verify_proof(snapshot.root, SNAPSHOT_LEAF, leaf, snapshot.prove(position))


def test_a_passage_key_names_the_document_the_index_and_the_span():
    cid = cid_of(b"a document")
    key = PassageRef(cid, 2, 10, 90).key
    others = [
        PassageRef(cid_of(b"another"), 2, 10, 90),
        PassageRef(cid, 3, 10, 90),
        PassageRef(cid, 2, 11, 90),
        PassageRef(cid, 2, 10, 91),
    ]
    assert key not in {p.key for p in others}
    # keccak256(abi.encode(bytes32 digest, uint256 index, uint256 start, uint256 end))
    from eth_abi import encode

    from aigora.core.hashing import keccak

    encoded = encode(["bytes32", "uint256", "uint256", "uint256"], [digest_of(cid), 2, 10, 90])
    assert key == keccak(encoded)


def test_root_commits_to_every_embedding_byte_and_every_cid():
    base = items(10)
    root = Snapshot.of(MODEL_ROOT, base).root
    cid = next(iter(base))
    changed = dict(base)
    changed[cid] = base[cid].copy()
    changed[cid][383] ^= 1
    assert Snapshot.of(MODEL_ROOT, changed).root != root
    renamed = dict(base)
    renamed[cid_of(b"another body")] = renamed.pop(cid)
    assert Snapshot.of(MODEL_ROOT, renamed).root != root


def test_file_round_trip_and_a_doctored_file_is_refused(tmp_path):
    snapshot = Snapshot.of(MODEL_ROOT, items(30))
    path = tmp_path / "s.npz"
    snapshot.save(path)
    loaded = Snapshot.load(path, expected_root=snapshot.root)
    assert loaded.cids == snapshot.cids
    assert np.array_equal(loaded.embeddings, snapshot.embeddings)
    other = Snapshot.of(MODEL_ROOT, items(30, seed=1))
    with pytest.raises(SnapshotError, match="root"):
        Snapshot.from_bytes(other.to_bytes(), expected_root=snapshot.root)
    with pytest.raises(SnapshotError, match="not a snapshot"):
        Snapshot.from_bytes(b"junk", expected_root=snapshot.root)


def test_malformed_snapshots_are_refused():
    v = vectors(2)
    a, b = sorted(
        [PassageRef.whole(cid_of(b"a")), PassageRef.whole(cid_of(b"b"))], key=lambda p: p.key
    )
    with pytest.raises(SnapshotError):
        Snapshot(MODEL_ROOT, (), v[:0])
    with pytest.raises(SnapshotError):
        Snapshot(MODEL_ROOT, (a,), v)
    with pytest.raises(SnapshotError):
        Snapshot(MODEL_ROOT, (a, a), v)
    with pytest.raises(SnapshotError):
        Snapshot(MODEL_ROOT, (a, b), v.astype(np.int16))
    with pytest.raises(SnapshotError, match="nothing to snapshot"):
        Snapshot.of(MODEL_ROOT, {})


def test_embeddings_are_read_only():
    snapshot = Snapshot.of(MODEL_ROOT, items(3))
    with pytest.raises(ValueError, match="read-only"):
        snapshot.embeddings[0, 0] = 1


def test_changed_keeps_old_embeddings_and_applies_additions_and_removals():
    base = Snapshot.of(MODEL_ROOT, items(5))
    extra = items(2, seed=9)
    gone = base.cids[0]
    after = base.changed(extra, [gone])
    assert gone not in after.documents
    assert len(after) == 6
    for passage in base.passages[1:]:
        assert np.array_equal(
            after.embeddings[after.position_of(passage)], base.embeddings[base.position_of(passage)]
        )


class CountingEncoder:
    """The real integer engine, counting how many passages it is asked to embed."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.embedded: list[str] = []

        self.passage_tokens = encoder.passage_tokens
        self.passage_overlap = encoder.passage_overlap
        self.token_count = encoder.token_count

    def embed(self, sentences, progress=None):
        self.embedded.extend(sentences)
        return self.encoder.embed(sentences, progress=progress)


def _publish(session, blobs, domain, author, body: bytes, media_type="text/plain") -> str:
    now = int(time.time())
    message = {
        "author": author.address,
        "cid": cid_of(body),
        "mediaType": media_type,
        "license": "CC0-1.0",
        "url": "",
        "parents": [],
        "createdAt": now,
    }
    service.publish(session, blobs, domain, sign("content", author, domain, message), body, now)
    return cid_of(body)


def test_incremental_build_embeds_only_new_content_and_matches_a_full_rebuild(tmp_path, encoder):
    db = make_engine(sqlite_url(tmp_path / "db.sqlite"))
    migrate(db)
    blobs = BlobStore(tmp_path / "blobs")
    domain = domain_for(1, "0x" + "11" * 20)
    author = Signer.dev(os.urandom(32))
    model_root = encoder.model.root
    counting = CountingEncoder(encoder)
    with session_scope(db) as session:
        for text in ("first passage about cars", "second passage about trains"):
            _publish(session, blobs, domain, author, text.encode())
        image = _publish(session, blobs, domain, author, b"\x89PNG...", media_type="image/png")
        first = build_snapshot(session, blobs, counting, model_root, AdmissionPolicy())
    assert first.embedded == 2
    assert image in first.skipped
    assert len(first.snapshot) == 2
    with session_scope(db) as session:
        _publish(session, blobs, domain, author, b"third passage about boats")
        second = build_snapshot(
            session, blobs, counting, model_root, AdmissionPolicy(), first.snapshot
        )
    assert sorted(counting.embedded[:2]) == [
        "first passage about cars",
        "second passage about trains",
    ]
    assert counting.embedded[2:] == ["third passage about boats"]
    assert (second.embedded, second.reused, second.removed) == (1, 2, 0)
    with session_scope(db) as session:
        full = build_snapshot(session, blobs, encoder, model_root, AdmissionPolicy())
    # Same items; the incremental one is the next generation (so its root differs).
    assert full.snapshot.cids == second.snapshot.cids
    assert np.array_equal(full.snapshot.embeddings, second.snapshot.embeddings)
    assert (full.snapshot.generation, second.snapshot.generation) == (0, 1)


def test_admission_policy():
    everything = AdmissionPolicy()
    assert everything.admits(None, None)
    assert everything.admits(-1.0, "not helpful")
    strict = AdmissionPolicy(min_score=0.2, admit_unscored=False, exclude_statuses=("not helpful",))
    assert strict.admits(0.3, "helpful")
    assert not strict.admits(0.1, "needs more ratings")
    assert not strict.admits(None, None)
    assert not strict.admits(0.9, "not helpful")


def test_shrinking_back_to_an_older_set_makes_a_new_root():
    """Content removed until the set equals an older snapshot's: the node's next snapshot is a
    new generation with a new root (registered after the one it replaces), never the old root
    whose registration would make it look stale, nor the newer one still holding what was
    removed."""
    base = Snapshot.of(MODEL_ROOT, items(4))
    extra = items(1, seed=9)
    grown = base.changed(extra, [])
    shrunk = grown.changed({}, list(extra))
    assert shrunk.cids == base.cids
    assert np.array_equal(shrunk.embeddings, base.embeddings)
    assert [s.generation for s in (base, grown, shrunk)] == [0, 1, 2]
    assert len({base.root, grown.root, shrunk.root}) == 3
    assert grown.changed({}, []) is grown  # no change, no new generation


def test_the_generation_leaf_proves_no_passage():
    snapshot = Snapshot.of(MODEL_ROOT, items(3), generation=7)
    position, tag, value = snapshot.generation_leaf()
    assert (position, int.from_bytes(value, "big")) == (3, 7)
    assert tag not in {snapshot.leaf(i)[1] for i in range(3)}
    restored = Snapshot.from_bytes(snapshot.to_bytes(), expected_root=snapshot.root)
    assert restored.generation == 7


def test_changed_keeps_copies_and_drops_those_of_a_removed_original():
    base = items(3)
    original, other = list(base)[:2]
    copy = PassageRef.whole(cid_of(b"a copy"))
    snapshot = Snapshot.of(
        MODEL_ROOT, base, copies={copy: (PassageRef.whole(original), base[original])}
    )
    assert snapshot.changed({}, []) is snapshot  # same items, same copies: no new generation
    kept = snapshot.changed({}, [other])
    assert [c.passage for c in kept.copies] == [copy]
    assert kept.passages[kept.copies[0].of] == PassageRef.whole(original)
    assert snapshot.changed({}, [original]).copies == ()
    restored = Snapshot.from_bytes(kept.to_bytes(), expected_root=kept.root)
    assert restored.copy_map().keys() == kept.copy_map().keys()
