"""What CLI commands open locally: the store (safe beside a running node: SQLite WAL), keys, the
whole node when its chain is free, and receipt files."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from aigora.cli.options import passphrase
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError, DataDirInUse
from aigora.core.keystore import Signer
from aigora.node.answers import Answers
from aigora.node.config import Config, database_url, load_config
from aigora.node.context import keystore_for, open_node, signing_domain
from aigora.node.runner import running_node_url
from aigora.store.blobs import BlobStore
from aigora.store.db import make_engine, migrate
from aigora.verify import ReceiptDocument, loads_document


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


def ask_running_node(
    directory: Path, method: str, path: str, json: Any = None, content: bytes | None = None
) -> Any:
    """Call the node that holds `directory`'s embedded chain (its lock keeps us out) and return
    its JSON answer; one-line errors when no node serves or it does not answer. A refusal (4xx)
    comes back as the node's own message."""
    url = running_node_url(directory)
    if url is None:
        raise DataDirInUse(
            f"the chain in {directory} is locked by another process that serves no API"
        )
    try:
        response = httpx.request(method, f"{url}{path}", json=json, content=content, timeout=600)
    except httpx.HTTPError as exc:
        raise AigoraError(f"the running node at {url} did not answer {path}: {exc}") from None
    if 400 <= response.status_code < 500:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text
        raise AigoraError(str(detail))
    if response.status_code != 200:
        raise AigoraError(f"the running node at {url} failed on {path} ({response.status_code})")
    return response.json()


def open_store(directory: Path) -> LocalStore:
    if not directory.is_dir():
        raise AigoraError(f"no node in {directory}; start one with `aigora up`")
    config = load_config(directory)
    db = make_engine(database_url(config, directory))
    migrate(db)
    return LocalStore(directory, config, db, BlobStore(directory / "blobs"))


def with_node(directory: Path, local: Callable[[Answers], Any], remote: Callable[[], Any]) -> Any:
    """Run `local` on the node opened here, or `remote` against the node that holds it."""
    if not directory.is_dir():
        raise AigoraError(f"no node in {directory}; start one with `aigora up`")
    try:
        context = open_node(directory, passphrase())
    except DataDirInUse:
        return remote()
    try:
        return local(Answers(context))
    finally:
        context.close()


def read_receipt(path: Path) -> ReceiptDocument:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AigoraError(f"cannot read {path}: {exc.strerror}") from None
    return loads_document(data)
