"""Fixtures for the store tests: a migrated SQLite file per test."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aigora.store import make_engine, migrate, sqlite_url


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "node" / "aigora.db"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    engine = make_engine(sqlite_url(db_path))
    migrate(engine)
    yield engine
    engine.dispose()
