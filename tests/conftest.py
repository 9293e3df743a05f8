"""Fixtures shared by the whole suite: chains on both backends, anvil managed by PID."""

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from aigora.chain import Chain
from aigora.chain.anvil import Anvil, AnvilNotFound

# Property tests explore the same examples on every run and machine: a failure found once is
# found again, and CI never fails on a draw it did not make before.
settings.register_profile("aigora", derandomize=True, database=None)
settings.load_profile("aigora")


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
