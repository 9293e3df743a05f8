"""anvil is started and stopped by PID, and an unreachable URL is one clear error."""

import os

import pytest

from aigora.chain import Chain
from aigora.chain.anvil import Anvil, free_port
from aigora.core.errors import ChainUnreachable, ConfigError


def test_anvil_is_stopped_by_pid():
    node = Anvil()
    with node as url:
        assert Chain.connect(url).chain_id == 31337
        pid = node.process.pid
        os.kill(pid, 0)  # alive
    assert node.process.poll() is not None
    with pytest.raises(ChainUnreachable, match=f"no Ethereum JSON-RPC node answers at {url}"):
        Chain.connect(url, timeout_s=1)


def test_unreachable_and_malformed_urls():
    with pytest.raises(ChainUnreachable, match="no Ethereum JSON-RPC node"):
        Chain.connect(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    with pytest.raises(ConfigError, match="must be http"):
        Chain.connect("ftp://example")
