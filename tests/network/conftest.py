"""Fixtures: two empty stores ("nodes") for the importer's rules, which need no chain, and a
single node's API for serving."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aigora.app import open_node
from aigora.node.app import create_app
from tests.network.kit import Node, make_node
from tests.node.conftest import PASSPHRASE, make_data_dir


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    made = make_node(tmp_path / "a")
    yield made
    made.db.dispose()


@pytest.fixture
def other(tmp_path: Path) -> Iterator[Node]:
    made = make_node(tmp_path / "b")
    yield made
    made.db.dispose()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """A single node on the embedded chain, its own contracts, over its HTTP API."""
    context = open_node(make_data_dir(tmp_path / "single"), PASSPHRASE)
    try:
        with TestClient(create_app(context), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        context.close()
