"""Content-addressed blob files: bytes stored under their CID, checked against it on every read.

Layout: `root/<shard>/<cid>`, where the shard is the two characters before the CID's last one
(IPFS flatfs's "next-to-last/2" scheme). Every CID starts with the same `bafkrei` prefix and its
last character carries only two bits, so those two characters are what spreads files evenly over
1024 folders.

Writes are atomic: bytes go to a temporary file in the shard folder, are fsynced, then renamed
over the final name, so a reader (or a crash) never sees a partial blob under a CID. Only the
canonical spelling of a CID is accepted, so every blob has exactly one path and no string can
name a path outside the store.
"""

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from aigora.core.cid import InvalidCID, cid_of, digest_of, matches
from aigora.core.errors import BlobIntegrityError, NotFound

_TEMP_PREFIX = ".tmp-"


def _canonical(cid: str) -> str:
    """`cid` itself if it is a CID of our kind in its one canonical spelling, else InvalidCID
    (`digest_of` refuses aliases, which as file names would be different files)."""
    digest_of(cid)
    return cid


class BlobStore:
    """Blobs on the local file system, named by CID.

    Safe for several threads and processes at once: writers of the same CID write the same bytes,
    and each rename is atomic.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, cid: str) -> Path:
        """Where the blob named `cid` lives, stored or not; InvalidCID if `cid` is malformed."""
        cid = _canonical(cid)
        return self.root / cid[-3:-1] / cid

    def put(self, data: bytes) -> str:
        """Store `data` and return its CID; storing bytes already present changes nothing.

        A file that is present but corrupt is replaced, so putting the right bytes heals it.
        """
        data = bytes(data)
        cid = cid_of(data)
        path = self.path_for(cid)
        if self._holds(path, data):
            return cid
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as temp:
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        return cid

    def get(self, cid: str) -> bytes:
        """The bytes named `cid`; NotFound if absent, BlobIntegrityError if they no longer match."""
        path = self.path_for(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no blob {cid} in {self.root}") from None
        if not matches(cid, data):
            raise BlobIntegrityError(
                f"blob {cid} at {path} does not match its CID; the file was altered or "
                "corrupted: delete it and fetch or put the content again"
            )
        return data

    def has(self, cid: str) -> bool:
        """Whether a blob named `cid` is stored (its content is checked by `get`, not here)."""
        return self.path_for(cid).is_file()

    def size(self, cid: str) -> int:
        """The stored blob's length in bytes; NotFound if absent."""
        try:
            return self.path_for(cid).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no blob {cid} in {self.root}") from None

    def __iter__(self) -> Iterator[str]:
        """Stored CIDs in a stable order (by shard, then name), skipping temp files and strays."""
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if not shard.is_dir():
                continue
            for entry in sorted(shard.iterdir()):
                if _is_blob_name(entry.name, shard.name) and entry.is_file():
                    yield entry.name

    @staticmethod
    def _holds(path: Path, data: bytes) -> bool:
        try:
            return path.read_bytes() == data
        except FileNotFoundError:
            return False


def _is_blob_name(name: str, shard: str) -> bool:
    try:
        _canonical(name)
    except InvalidCID:
        return False
    return name[-3:-1] == shard


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
