"""Fixtures: two empty stores ("nodes") for the importer's rules, which need no chain."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.network.kit import Node, make_node


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
