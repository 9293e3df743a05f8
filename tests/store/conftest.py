"""Fixtures for the store tests: a migrated database per test, on SQLite and on PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aigora.store import make_engine, migrate, sqlite_url


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "node" / "aigora.db"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database on each backend: a SQLite file, and a real PostgreSQL server."""
    engine = make_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(db_path: Path) -> Iterator[Engine]:
    """A migrated SQLite file, for what only SQLite has (pragmas, its foreign-key switch)."""
    engine = make_engine(sqlite_url(db_path))
    migrate(engine)
    yield engine
    engine.dispose()
