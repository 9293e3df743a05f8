"""The embedded chain: py-evm through eth-tester, with its state kept in one SQLite file.

eth-tester keeps its chain in memory. We hand py-evm a key-value store backed by SQLite instead and
commit it after every mined block, in one SQLite transaction, so a restart (or a crash between
blocks) finds exactly the blocks that were mined: no lost balances, registrations or anchors.
A file lock keeps a second process from opening the same chain and forking it.
"""

import fcntl
import os
import sqlite3
from pathlib import Path
from typing import Any

from eth.db.atomic import AtomicDB
from eth.db.backends.base import BaseDB
from eth.db.schema import SchemaV1
from eth_tester import EthereumTester, PyEVMBackend

from aigora.core.errors import DataDirInUse


class SqliteKeyValue(BaseDB):
    """py-evm's key-value interface over a SQLite table; writes wait in memory until `commit`."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID"
        )
        self._pending: dict[bytes, bytes | None] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is None:
                raise KeyError(key)
            return value
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[key] = None

    def _exists(self, key: bytes) -> bool:
        try:
            self[key]
        except KeyError:
            return False
        return True

    def commit(self) -> None:
        """Write every pending change in one transaction: all of a block or none of it."""
        if not self._pending:
            return
        upserts = [(k, v) for k, v in self._pending.items() if v is not None]
        deletes = [(k,) for k, v in self._pending.items() if v is None]
        with self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", upserts)
            self._conn.executemany("DELETE FROM kv WHERE k = ?", deletes)
        self._pending.clear()

    def close(self) -> None:
        self._conn.close()


class PersistentPyEVMBackend(PyEVMBackend):
    """eth-tester's py-evm backend whose chain database is a `SqliteKeyValue`."""

    def __init__(self, store: SqliteKeyValue) -> None:
        self._store = store
        super().__init__()
        chain_class = type(self.chain)
        db = AtomicDB(store)
        if SchemaV1.make_canonical_head_hash_lookup_key() in store:
            self.chain = chain_class(db)
        else:
            self.chain = chain_class.from_genesis(
                db, self._generate_genesis_params(), self._generate_genesis_state()
            )
        store.commit()

    def mine_blocks(self, num_blocks: int = 1, coinbase: Any = None) -> Any:
        kwargs = {} if coinbase is None else {"coinbase": coinbase}
        hashes = super().mine_blocks(num_blocks, **kwargs)
        self._store.commit()
        return hashes


class EmbeddedChain:
    """Owns the lock, the SQLite store and the eth-tester instance of one data directory."""

    def __init__(self, directory: Path | None) -> None:
        self._lock_fd: int | None = None
        self._store: SqliteKeyValue | None = None
        if directory is None:
            self.backend: PyEVMBackend = PyEVMBackend()
        else:
            directory.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock(directory / "chain.lock")
            self._store = SqliteKeyValue(directory / "chain.sqlite")
            self.backend = PersistentPyEVMBackend(self._store)
        self.tester = EthereumTester(self.backend)

    @property
    def dev_keys(self) -> list[bytes]:
        """Private keys of the genesis accounts funded on this dev chain (public test keys)."""
        return [key.to_bytes() for key in self.backend.account_keys]

    def time_travel(self, to_timestamp: int) -> None:
        """Mine one block stamped exactly `to_timestamp` (eth-tester's own lands a second early)."""
        chain = self.backend.chain
        chain.header = chain.header.copy(timestamp=to_timestamp)
        self.backend.mine_blocks()

    def close(self) -> None:
        if self._store is not None:
            self._store.commit()
            self._store.close()
            self._store = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirInUse(
            f"the embedded chain in {path.parent} is open in another process "
            "(is `aigora up` running?); stop it or use the node's HTTP API"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd
