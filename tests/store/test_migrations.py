"""The Alembic history: it builds the schema the models describe, once, on any database."""

import io
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from aigora.core.errors import StoreError
from aigora.store import Base, NodeSetting, make_engine, migrate, session_scope, sqlite_url
from aigora.store.db import _alembic_config, _migration_connection
from aigora.store.models import ANCHOR_KIND_CHECK

TABLES = {"deployments", "anchors", "node_settings"}


def _head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_history_is_one_straight_line() -> None:
    """Features add revisions in parallel; two heads would make `upgrade head` ambiguous."""
    script = ScriptDirectory.from_config(_alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_fresh_database_gets_every_table(db_path: Path) -> None:
    assert not db_path.exists()
    engine = make_engine(sqlite_url(db_path))
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert _revision(engine) == _head()
    engine.dispose()


def test_migrate_is_idempotent_and_keeps_data(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with session_scope(engine) as session:
        session.add(NodeSetting(key="schema_note", value="kept"))
    migrate(engine)
    engine.dispose()
    reopened = make_engine(database_url)  # an existing database, as after a restart
    migrate(reopened)
    assert _revision(reopened) == _head()
    with session_scope(reopened) as session:
        assert session.get_one(NodeSetting, "schema_note").value == "kept"
    reopened.dispose()


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_check_constraints_match_the_models(engine: Engine) -> None:
    """Alembic does not compare CHECK constraints, so compare them here."""
    checks = inspect(engine).get_check_constraints("anchors")
    assert [c["name"] for c in checks] == ["ck_anchors_kind"]
    if engine.dialect.name == "sqlite":
        assert checks[0]["sqltext"] == ANCHOR_KIND_CHECK
    else:  # PostgreSQL stores the expression in its own normal form
        kinds = re.findall(r"'([a-z]+)'", checks[0]["sqltext"])
        assert kinds == re.findall(r"'([a-z]+)'", ANCHOR_KIND_CHECK)


def test_foreign_keys_are_back_on_after_migrating(sqlite_engine: Engine) -> None:
    migrate(sqlite_engine)
    with sqlite_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_downgrade_to_base_and_back(engine: Engine) -> None:
    config = _alembic_config()
    with _migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES


def test_failed_migration_leaves_the_schema_untouched(engine: Engine) -> None:
    """The migration transaction is real on SQLite: DDL inside it is rolled back too."""

    def crash_mid_migration() -> None:
        with _migration_connection(engine) as connection:
            connection.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
            raise RuntimeError("migration crashed")

    with pytest.raises(RuntimeError):
        crash_mid_migration()
    assert "half_done" not in inspect(engine).get_table_names()


def test_broken_foreign_keys_abort_the_migration(sqlite_engine: Engine) -> None:

    def orphan_a_row() -> None:
        with _migration_connection(sqlite_engine) as connection:
            connection.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            connection.exec_driver_sql(
                "CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent (id))"
            )
            connection.exec_driver_sql("INSERT INTO child (id, p) VALUES (1, 42)")

    with pytest.raises(StoreError, match="broken foreign keys in child"):
        orphan_a_row()
    assert "child" not in inspect(sqlite_engine).get_table_names()


def test_database_from_a_newer_aigora_is_refused(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer version of Aigora"):
        migrate(engine)


def test_migrations_render_for_postgresql() -> None:
    """Offline mode proves the history compiles for PostgreSQL without a server."""
    out = io.StringIO()
    config = _alembic_config()
    config.output_buffer = out
    config.set_main_option("sqlalchemy.url", "postgresql://")
    command.upgrade(config, "head", sql=True)
    sql = out.getvalue()
    assert "TIMESTAMP WITH TIME ZONE" in sql
    assert "CONSTRAINT uq_anchors_chain_id_batch_id UNIQUE (chain_id, batch_id)" in sql
    assert "CONSTRAINT ck_anchors_kind CHECK" in sql
