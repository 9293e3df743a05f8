"""Fixtures shared by the whole suite: chains on both backends, anvil managed by PID."""

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from aigora.chain import Chain
from aigora.chain.anvil import Anvil, AnvilNotFound
from aigora.store import sqlite_url
from tests.postgres import PostgresServer

# Property tests explore the same examples on every run and machine: a failure found once is
# found again, and CI never fails on a draw it did not make before.
settings.register_profile("aigora", derandomize=True, database=None)
settings.load_profile("aigora")

SLOW_MODULES = (
    "agent/test_cli.py",
    "agent/test_red_team.py",
    "app/test_cli_http_parity.py",
    "cli/",
    "engine/test_bitexact.py",
    "engine/test_quality.py",
    "engine/test_trace.py",
    "node/test_openapi.py",
    "verify/test_disputes_e2e.py",
    "verify/test_embedding_game.py",
    "verify/test_liveness.py",
    "verify/test_sponsored_ranking.py",
    "verify/test_step_verifier.py",
    "verify/test_token_disputes.py",
    "web/",
)
"""Modules whose tests take more than a few seconds each (subprocesses, browsers, torch compiles,
whole dispute games, thousands of property examples): `-m "not slow"` leaves them out."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        relative = item.path.relative_to(tests).as_posix()
        if relative.startswith(SLOW_MODULES):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """Warm the caches every worker reads, once, before the workers start: the converted integer
    model (half a minute to convert on a new machine) and the compiled contracts. Without this,
    each xdist worker converts and compiles the same things at the same time."""
    if hasattr(config, "workerinput") or config.option.collectonly:
        return
    if getattr(config.option, "numprocesses", None) in (None, 0):
        return  # one process: whatever a test needs is built once anyway
    from aigora.chain import compile_contract
    from aigora.chain.compile import CONTRACTS_DIR
    from aigora.engine import load_default_model

    for source in sorted(CONTRACTS_DIR.glob("*.vy")):
        compile_contract(source.stem)
    load_default_model()


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    """An anvil node on 127.0.0.1, started for this test session and stopped by its PID.

    A missing anvil fails the tests that need it (never skips them): `npm install` installs it.
    """
    try:
        node = Anvil()
    except AnvilNotFound as exc:
        pytest.fail(str(exc))
    with node as url:
        yield url


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """The same tests run on the embedded py-evm chain and on anvil over JSON-RPC.

    Each test gets a clean state: a fresh in-memory embedded chain, or an anvil snapshot that is
    reverted afterwards.
    """
    if request.param == "embedded":
        with Chain.embedded() as c:
            yield c
        return
    c = Chain.connect(request.getfixturevalue("anvil_url"))
    snapshot = c.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield c
    finally:
        c.w3.provider.make_request("evm_revert", [snapshot])


SPONSORED_EXAMPLE = Path(__file__).parents[1] / "examples" / "sponsored_ranking.py"


@pytest.fixture(scope="session")
def sponsored():
    """`examples/sponsored_ranking.py` as a module: its tilted operators and corpus are what the
    answer, dispute and CLI tests exercise, so the documented example cannot rot."""
    spec = importlib.util.spec_from_file_location("sponsored_ranking", SPONSORED_EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for this test process (see `tests/postgres.py`)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file, then a database on the real PostgreSQL server."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "db" / "aigora.db")
    return request.getfixturevalue("postgres").database()


@pytest.fixture(scope="module", autouse=True)
def _own_titanoboa_env() -> Iterator[None]:
    """Each test module's titanoboa contracts in an `Env` of their own. `boa.env.anchor()` rolls
    state back but keeps the env's storage traces, so a contract a later module deploys at the
    same address was shown the earlier contract's storage, and titanoboa failed decoding it
    when it described a revert (`'IntegerT' object has no attribute 'key_type'`, seen when
    the Channels tests ran before the Distributor's on one worker)."""
    if "boa" not in sys.modules:
        yield
        return
    import boa

    with boa.swap_env(boa.Env()):
        yield
