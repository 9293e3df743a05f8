"""An opened node in a temporary data directory, with a cheap-to-derive operator key."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aigora.app import NodeContext, open_node
from aigora.core.keystore import Keystore
from tests.operator import operator_client

PASSPHRASE = "correct horse battery staple"


def make_data_dir(path: Path, config: str | None = None) -> Path:
    """A data directory whose operator key uses a low scrypt cost (tests only)."""
    path.mkdir(parents=True, exist_ok=True)
    Keystore(path / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    if config is not None:
        (path / "config.toml").write_text(config, encoding="utf-8")
    return path


@pytest.fixture
def make_node_dir():
    """The factory above, for tests that write their own config."""
    return make_data_dir


@pytest.fixture
def passphrase() -> str:
    return PASSPHRASE


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Path:
    """A node's data directory, its database on each backend: SQLite, then a real PostgreSQL
    server (`[database] url`)."""
    return make_data_dir(tmp_path / "node", f'[database]\nurl = "{database_url}"\n')


@pytest.fixture
def context(data_dir: Path) -> Iterator[NodeContext]:
    ctx = open_node(data_dir, PASSPHRASE)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def client(context: NodeContext) -> Iterator[TestClient]:
    """The node's API as its operator uses it (`tests.operator`)."""
    with operator_client(context) as test_client:
        yield test_client
