"""A real PostgreSQL server for the tests, from Debian's `postgresql` package: a throwaway
cluster in a temporary directory (trust authentication, loopback only, fsync off), started once
per test process and stopped by `pg_ctl` at the end; each test gets a fresh database on it.

PostgreSQL refuses to run as root, so when the tests do, the cluster runs as the `postgres`
system account the package creates. A missing server fails the tests that need it (never skips
them): `.ci/run` runs on machines that have it.
"""

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from aigora.chain.anvil import free_port

USER = "aigora"
_counter = itertools.count()


def _binaries() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "pg_ctl").exists():
            return candidate
    raise AssertionError("PostgreSQL is not installed: `apt-get install postgresql`")


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    pwd.getpwnam("postgres")  # the account Debian's package creates
    return ["runuser", "-u", "postgres", "--", *argv]


class PostgresServer:
    """`with PostgresServer() as server:` runs a cluster for the block; `server.database()`
    creates an empty database and returns its SQLAlchemy URL."""

    def __init__(self) -> None:
        self.bin = _binaries()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aigora-pg-"))
        self.data = self.root / "data"

    def __enter__(self) -> "PostgresServer":
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            _as_server_user(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    USER,
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            _as_server_user(
                [
                    str(self.bin / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.root / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            subprocess.run(
                _as_server_user(
                    [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]
                ),
                check=True,
                capture_output=True,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def database(self) -> str:
        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{name}"
