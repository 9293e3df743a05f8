"""The blob store: round trips, integrity on read, canonical names only, atomic writes."""

import base64
import contextlib
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.cid import InvalidCID, cid_of
from aigora.core.errors import BlobIntegrityError, NotFound
from aigora.store import BlobStore


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory) -> BlobStore:
    """One store for all hypothesis examples (a function-scoped tmp_path is not reset per example;
    the store's idempotence makes sharing it harmless)."""
    return BlobStore(tmp_path_factory.mktemp("blobs"))


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2048))
def test_put_then_get_returns_the_same_bytes(shared_store: BlobStore, data: bytes) -> None:
    cid = shared_store.put(data)
    assert cid == cid_of(data)
    assert shared_store.get(cid) == data
    assert shared_store.has(cid)
    assert shared_store.size(cid) == len(data)
    assert shared_store.put(data) == cid


def test_round_trip_and_layout(store: BlobStore) -> None:
    cid = store.put(b"hello aigora")
    assert store.get(cid) == b"hello aigora"
    path = store.path_for(cid)
    assert path == store.root / cid[-3:-1] / cid
    assert path.read_bytes() == b"hello aigora"


def test_empty_blob(store: BlobStore) -> None:
    cid = store.put(b"")
    assert store.get(cid) == b""
    assert store.size(cid) == 0


def test_iteration_lists_stored_cids_only(store: BlobStore) -> None:
    assert list(store) == []
    cids = {store.put(f"blob {i}".encode()) for i in range(20)}
    shard = store.path_for(next(iter(cids))).parent
    (shard / ".tmp-leftover").write_bytes(b"partial")
    (shard / "README").write_text("stray")
    (store.root / "notes.txt").write_text("stray")
    misplaced = next(c for c in (cid_of(bytes([i])) for i in range(256)) if c[-3:-1] != shard.name)
    (shard / misplaced).write_bytes(b"misplaced")  # a valid CID in the wrong shard
    listed = list(store)
    assert sorted(listed) == sorted(cids)
    assert listed == list(store)  # a stable order


def test_missing_blob_raises_not_found(store: BlobStore) -> None:
    cid = cid_of(b"never stored")
    assert not store.has(cid)
    with pytest.raises(NotFound, match=cid):
        store.get(cid)
    with pytest.raises(NotFound, match=cid):
        store.size(cid)


def test_corrupted_file_raises_integrity_error(store: BlobStore) -> None:
    cid = store.put(b"original bytes")
    store.path_for(cid).write_bytes(b"tampered bytes")
    with pytest.raises(BlobIntegrityError, match=cid):
        store.get(cid)


def test_putting_the_right_bytes_heals_a_corrupted_file(store: BlobStore) -> None:
    cid = store.put(b"original bytes")
    store.path_for(cid).write_bytes(b"tampered")
    assert store.put(b"original bytes") == cid
    assert store.get(cid) == b"original bytes"


def _aliases_of(cid: str) -> list[str]:
    """Other spellings that base32 decodes to the same bytes: other pad bits at the end."""

    def raw(spelling: str) -> bytes:
        body = spelling[1:].upper()
        return base64.b32decode(body + "=" * (-len(body) % 8))

    candidates = [cid[:-1] + c for c in "abcdefghijklmnopqrstuvwxyz234567"]
    return [a for a in candidates if a != cid and raw(a) == raw(cid)]


BAD_CIDS = [
    "",
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "b../x",
    "bafkrei/../../x",
    "bafkrei\x00",
    "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",  # CIDv0
    cid_of(b"x").upper(),
    cid_of(b"x") + "\n",
    cid_of(b"x")[:-1],
    " " + cid_of(b"x"),
    "bafkreiß" + cid_of(b"x")[8:],  # upper-cases to ASCII
]


@pytest.mark.parametrize("bad", BAD_CIDS)
def test_malformed_cids_are_refused_everywhere(store: BlobStore, bad: str) -> None:
    for method in (store.get, store.has, store.size, store.path_for):
        with pytest.raises(InvalidCID):
            method(bad)


def test_non_canonical_spellings_are_refused(store: BlobStore) -> None:
    """`core.cid` accepts aliases of a CID; as file names they would be separate blobs."""
    cid = store.put(b"x")
    aliases = _aliases_of(cid)
    assert len(aliases) == 3
    for alias in aliases:
        with pytest.raises(InvalidCID, match="canonical"):
            store.path_for(alias)


def test_non_string_cid_is_refused(store: BlobStore) -> None:
    with pytest.raises(InvalidCID):
        store.get(b"bafkrei")  # type: ignore[arg-type]


def test_temp_file_is_never_visible_under_the_final_name(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = b"x" * 100_000
    final = store.path_for(cid_of(data))
    seen: list[list[str]] = []
    real_fsync = os.fsync

    def fsync_and_look(fd: int) -> None:
        if not seen:  # the temp file's fsync: bytes written, not yet renamed
            assert not final.exists()
            seen.append(sorted(p.name for p in final.parent.iterdir()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_and_look)
    store.put(data)
    assert len(seen) == 1
    assert [name[:5] for name in seen[0]] == [".tmp-"]
    assert final.read_bytes() == data
    assert list(final.parent.iterdir()) == [final]


def test_failed_write_leaves_nothing_behind(
    store: BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(_fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        store.put(b"doomed")
    assert list(store.path_for(cid_of(b"doomed")).parent.iterdir()) == []
    assert not store.has(cid_of(b"doomed"))


def test_concurrent_puts_and_reads_never_see_partial_blobs(store: BlobStore) -> None:
    payloads = [bytes([i]) * 200_000 for i in range(4)]
    cids = [cid_of(p) for p in payloads]
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(data: bytes) -> None:
        try:
            for _ in range(5):
                store.path_for(cid_of(data)).unlink(missing_ok=True)
                store.put(data)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                for cid, data in zip(cids, payloads, strict=True):
                    with contextlib.suppress(NotFound):
                        assert store.get(cid) == data  # verified: never partial
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer, args=(p,)) for p in payloads * 2]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    assert sorted(store) == sorted(cids)
    assert all(not p.name.startswith(".tmp-") for p in store.root.rglob("*"))
