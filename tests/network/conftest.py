"""Fixtures: two empty stores ("nodes") for the importer's rules, which need no chain, and a
single node's API for serving."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from aigora.app import open_node
from tests.network.kit import Node, make_node
from tests.node.conftest import PASSPHRASE, make_data_dir
from tests.operator import operator_client


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
        with operator_client(context) as test_client:
            yield test_client
    finally:
        context.close()
