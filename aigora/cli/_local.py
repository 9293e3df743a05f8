"""What CLI commands open locally: the store (safe beside a running node: SQLite WAL) and keys."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from aigora.cli.options import passphrase
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer
from aigora.node.config import Config, database_url, load_config
from aigora.node.context import keystore_for, signing_domain
from aigora.store.blobs import BlobStore
from aigora.store.db import make_engine, migrate


@dataclass
class LocalStore:
    directory: Path
    config: Config
    db: Engine
    blobs: BlobStore

    @property
    def domain(self) -> Domain:
        return signing_domain(self.db)

    def unlock(self, account: str | None) -> Signer:
        """The named account (default: the node's operator key), unlocked by passphrase."""
        return keystore_for(self.directory).unlock(
            account or self.config.node.operator_key, passphrase()
        )

    def close(self) -> None:
        self.db.dispose()


def open_store(directory: Path) -> LocalStore:
    if not directory.is_dir():
        raise AigoraError(f"no node in {directory}; start one with `aigora up`")
    config = load_config(directory)
    db = make_engine(database_url(config, directory))
    migrate(db)
    return LocalStore(directory, config, db, BlobStore(directory / "blobs"))
