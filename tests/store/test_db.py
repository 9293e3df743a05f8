"""Engines, SQLite tuning, and the all-or-nothing guarantee of `session_scope`."""

import threading
from importlib.util import find_spec
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aigora.core.errors import ConfigError
from aigora.store import (
    Anchor,
    Deployment,
    NodeSetting,
    make_engine,
    session_factory,
    session_scope,
    sqlite_url,
)

from .factories import anchor, deployment


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_file_is_tuned_for_a_node(sqlite_engine: Engine) -> None:
    assert _pragma(sqlite_engine, "journal_mode") == "wal"
    assert _pragma(sqlite_engine, "foreign_keys") == 1
    assert _pragma(sqlite_engine, "synchronous") == 1  # NORMAL
    assert _pragma(sqlite_engine, "busy_timeout") == 10_000


def test_busy_timeout_is_configurable(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "a.db"), busy_timeout_ms=1234)
    assert _pragma(engine, "busy_timeout") == 1234
    engine.dispose()


def test_parent_folder_of_a_sqlite_file_is_created(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "aigora.db"
    engine = make_engine(sqlite_url(path))
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    assert path.is_file()


def test_in_memory_sqlite_works_without_wal() -> None:
    engine = make_engine("sqlite://")
    assert _pragma(engine, "foreign_keys") == 1
    assert _pragma(engine, "journal_mode") == "memory"


@pytest.mark.parametrize("name", ["a b.db", "x?y#z@w:1.db", "%41.db", "ünï.db"])
def test_sqlite_url_round_trips_odd_file_names(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert make_url(sqlite_url(path)).database == str(path)


def test_sqlite_url_is_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert make_url(sqlite_url(Path("rel.db"))).database == str(tmp_path / "rel.db")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "malformed database URL"),
        ("", "malformed database URL"),
        ("nosuchdb://host/db", "unknown database driver"),
        ("postgresql+nosuchdriver://host/db", "unknown database driver"),
    ],
)
def test_bad_urls_raise_config_error(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as info:
        make_engine(url)
    assert "\n" not in str(info.value)


@pytest.mark.skipif(find_spec("MySQLdb") is not None, reason="needs a missing driver")
def test_missing_driver_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="not installed"):
        make_engine("mysql+mysqldb://alice@host/db")


def test_config_error_does_not_echo_a_password() -> None:
    with pytest.raises(ConfigError) as info:
        make_engine("nosuchdb://alice:s3cret@host/db")
    assert "s3cret" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        make_engine("bad url://alice:s3cret@host/db")
    assert "s3cret" not in str(info.value)


def test_session_scope_commits_on_success(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(deployment())
        session.add(NodeSetting(key="node_version", value="0.1.0"))
    with session_scope(engine) as session:
        stored = session.scalars(select(Deployment)).one()
        assert session.get_one(NodeSetting, "node_version").value == "0.1.0"
    # Rows stay readable after the scope closes.
    assert stored.name == "Registry"


def _write_two_rows_then_crash(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(deployment())
        session.flush()  # the row reached the database inside the transaction
        session.add(anchor())
        session.flush()
        raise RuntimeError("crash mid-operation")


def test_session_scope_rolls_back_everything_on_error(engine: Engine) -> None:
    with pytest.raises(RuntimeError, match="crash"):
        _write_two_rows_then_crash(engine)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Deployment)) == 0
        assert session.scalar(select(func.count()).select_from(Anchor)) == 0


def test_failed_constraint_rolls_back_the_rest_of_the_scope(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(deployment(name="Token"))

    def add_setting_and_duplicate() -> None:
        with session_scope(engine) as session:
            session.add(NodeSetting(key="k", value="v"))
            session.add(deployment(name="Token"))

    with pytest.raises(IntegrityError):
        add_setting_and_duplicate()
    with session_scope(engine) as session:
        assert session.get(NodeSetting, "k") is None


def test_savepoints_roll_back_only_their_part(engine: Engine) -> None:

    def add_duplicates(session: Session) -> None:
        with session.begin_nested():
            session.add_all([deployment(), deployment()])

    with session_scope(engine) as session:
        session.add(NodeSetting(key="kept", value="1"))
        with pytest.raises(IntegrityError):
            add_duplicates(session)
    with session_scope(engine) as session:
        assert session.get(NodeSetting, "kept") is not None
        assert session.scalar(select(func.count()).select_from(Deployment)) == 0


def test_concurrent_writers_queue_instead_of_failing(engine: Engine) -> None:
    """Read-then-write transactions in several threads: none fails with 'database is locked'."""
    errors: list[BaseException] = []

    def bump(worker: int) -> None:
        try:
            for i in range(10):
                with session_scope(engine) as session:
                    count = session.scalar(select(func.count()).select_from(NodeSetting))
                    session.add(NodeSetting(key=f"{worker}-{i}", value=str(count)))
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(engine) as session:
        values = sorted(int(v) for v in session.scalars(select(NodeSetting.value)))
    # Serialised writers: each saw every earlier row, so the counts are exactly 0..39.
    assert values == list(range(40))


def test_session_factory_shares_the_scope_settings(engine: Engine) -> None:
    factory = session_factory(engine)
    with factory.begin() as session:
        session.add(NodeSetting(key="a", value="b"))
    with factory() as session:
        assert session.get_one(NodeSetting, "a").value == "b"
