"""Engines, schema migrations and transactions for the node's database.

Any SQLAlchemy URL works (PostgreSQL for a shared deployment); the embedded default is a SQLite
file under the node's data directory, tuned here so that one node process with several threads,
plus the occasional CLI process, can use it without "database is locked" errors:

- WAL journal: readers never block the writer and the writer never blocks readers.
- `synchronous=NORMAL`: safe with WAL; a power cut may lose the last commits, never corrupt.
- `foreign_keys=ON`: SQLite ignores foreign keys unless asked, per connection.
- `busy_timeout`: a writer waits for another writer instead of failing at once.
- SQLAlchemy, not the `sqlite3` module, emits BEGIN, so DDL is transactional and SAVEPOINTs work
  (the `sqlite3` module's legacy mode does neither), and sessions begin with BEGIN IMMEDIATE so a
  transaction that reads and then writes cannot fail with SQLITE_BUSY halfway through.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

from aigora.core.errors import ConfigError, StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
"""Where the Alembic environment and revisions live, inside the installed package."""

DEFAULT_BUSY_TIMEOUT_MS = 10_000

_BEGIN_OPTION = "aigora_sqlite_begin"
_IMMEDIATE = {_BEGIN_OPTION: "BEGIN IMMEDIATE"}
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of the SQLite file at `path`, made absolute, with characters escaped."""
    database = str(Path(path).expanduser().resolve())
    return URL.create("sqlite", database=database).render_as_string(hide_password=False)


def make_engine(url: str, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Engine:
    """An engine for `url`; SQLite files get their folder created and the pragmas above.

    Raises ConfigError when `url` is not a database URL or names a driver that is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        masked = _PASSWORD.sub(r"\1***@", url)
        raise ConfigError(
            f"malformed database URL {masked!r}; "
            "expected e.g. sqlite:///path/to/aigora.db or postgresql://user@host/dbname"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    file_path = _sqlite_file(parsed) if is_sqlite else None
    if file_path is not None:
        try:
            file_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create the folder of {shown}: {exc.strerror}") from exc
    try:
        engine = create_engine(parsed, pool_pre_ping=not is_sqlite)
    except ArgumentError as exc:  # includes NoSuchModuleError
        raise ConfigError(f"unknown database driver in {shown}: {exc}") from None
    except ImportError as exc:
        raise ConfigError(
            f"the driver for {shown} is not installed ({exc}); install it or use sqlite:///"
        ) from None
    if is_sqlite:
        _configure_sqlite(engine, wal=file_path is not None, busy_timeout_ms=busy_timeout_ms)
    elif parsed.get_backend_name() == "postgresql":
        _configure_postgresql(engine)
    return engine


def _sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL points at, or None for in-memory and `file:` URI databases."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    if url.query.get("uri"):
        return None
    return Path(database)


def _configure_sqlite(engine: Engine, *, wal: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop sqlite3 from issuing BEGIN itself (it skips DDL and SAVEPOINT); `_on_begin` does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN_OPTION, "BEGIN"))


WRITER_LOCK = 0x416967_6F7261
"""The PostgreSQL advisory lock every session transaction holds (a constant key: "Aigora")."""


def _configure_postgresql(engine: Engine) -> None:
    """Sessions on PostgreSQL are serialised as SQLite's are: each takes one transaction-level
    advisory lock first, released at commit or rollback. The node's use cases read and then
    write (the next receipt nonce, an epoch's new lines, a job's escrow release); at PostgreSQL's
    default READ COMMITTED two of them could interleave and both act on the same read. With the
    lock they queue, exactly as SQLite's BEGIN IMMEDIATE makes them, in every process sharing
    the database."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(_BEGIN_OPTION):
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine` that keep loaded attributes after commit.

    On SQLite their transactions take the write lock up front (BEGIN IMMEDIATE), so concurrent
    writers queue on the busy timeout rather than one failing mid-transaction; on PostgreSQL they
    take one advisory lock up front, to the same effect. Objects stay
    readable after the session closes (`expire_on_commit=False`), which is what callers returning
    rows out of a `session_scope` need.
    """
    return sessionmaker(bind=engine.execution_options(**_IMMEDIATE), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed if the block succeeds, rolled back if it raises.

    Either everything the block wrote is in the database afterwards or none of it is.
    """
    with session_factory(engine).begin() as session:
        yield session


def _alembic_config() -> Config:
    """Alembic's configuration, built in code so no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision this package ships; a no-op when already there.

    The whole upgrade runs in one transaction (see `_migration_connection`), so a failed migration
    leaves the schema as it was and two processes migrating at once take turns.

    Raises StoreError when the database was migrated by a newer Aigora than this one.
    """
    config = _alembic_config()
    try:
        with _migration_connection(engine) as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except CommandError as exc:
        raise StoreError(
            f"cannot migrate {engine.url.render_as_string(hide_password=True)}: {exc}; "
            "was it last used by a newer version of Aigora?"
        ) from exc


@contextmanager
def _migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that commits only if the block succeeds.

    On SQLite the write lock is taken first (BEGIN IMMEDIATE) and foreign keys are off meanwhile,
    as SQLite's procedure for rebuilding tables (what Alembic's batch mode does) requires; they
    are checked before commit and switched back on before the connection returns to the pool.
    """
    is_sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if is_sqlite:
            _pragma_outside_transaction(connection, "PRAGMA foreign_keys = OFF")
        try:
            with connection.execution_options(**_IMMEDIATE).begin():
                yield connection
                if is_sqlite:
                    _check_foreign_keys(connection)
        finally:
            if is_sqlite:
                _pragma_outside_transaction(connection, "PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if violations:
        tables = sorted({str(row[0]) for row in violations})
        raise StoreError(f"migration would leave broken foreign keys in {', '.join(tables)}")


def _pragma_outside_transaction(connection: Connection, sql: str) -> None:
    """Run a PRAGMA that SQLite ignores inside a transaction, bypassing SQLAlchemy's autobegin."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
