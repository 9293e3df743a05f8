"""The embedded chain keeps every mined block across a restart, and only one process opens it."""

import signal
import subprocess
import sys

import pytest

from aigora.chain import Chain
from aigora.chain.deploy import RegistryParams, attach_foundation, deploy_foundation
from aigora.core.errors import DataDirInUse

ROOT = b"\x44" * 32


def test_state_survives_close_and_reopen(tmp_path):
    directory = tmp_path / "chain"
    with Chain.embedded(directory) as chain:
        owner, alice = chain.dev_signers()[:2]
        deployment = deploy_foundation(
            chain, owner, RegistryParams(min_bond=10, unbonding_delay_s=5)
        )
        token, registry = deployment.token, deployment.registry
        chain.transact(owner, token.functions.mint(alice.address, 1_000))
        chain.transact(alice, token.functions.approve(registry.address, 10))
        chain.transact(alice, registry.functions.register_operator(10, "http://alice"))
        chain.transact(alice, registry.functions.anchor(1, ROOT, 3))
        chain.advance_time(1_000)
        before = {
            "block": chain.block_number(),
            "time": chain.now(),
            "ether": chain.balance(alice.address),
            "tokens": chain.call(token.functions.balanceOf(alice.address)),
            "operator": chain.call(registry.functions.operators(alice.address)),
            "batch": chain.call(registry.functions.batches(1)),
        }
        addresses = deployment.addresses()

    with Chain.embedded(directory) as chain:
        deployment = attach_foundation(chain, addresses)
        token, registry = deployment.token, deployment.registry
        after = {
            "block": chain.block_number(),
            "time": chain.now(),
            "ether": chain.balance(alice.address),
            "tokens": chain.call(token.functions.balanceOf(alice.address)),
            "operator": chain.call(registry.functions.operators(alice.address)),
            "batch": chain.call(registry.functions.batches(1)),
        }
        assert after == before
        assert after["tokens"] == 990
        assert after["batch"][0] == ROOT
        # The chain goes on from where it stopped: nonces and ids continue.
        chain.transact(alice, registry.functions.anchor(0, b"\x45" * 32, 1))
        assert chain.call(registry.functions.batch_count()) == 2
        assert chain.block_number() == before["block"] + 1


def test_a_second_process_cannot_open_the_same_chain(tmp_path):
    with Chain.embedded(tmp_path / "chain"), pytest.raises(DataDirInUse, match="aigora up"):
        Chain.embedded(tmp_path / "chain")
    # Released on close: opening again works.
    with Chain.embedded(tmp_path / "chain") as chain:
        assert chain.block_number() == 0


def test_in_memory_chain_is_fresh_each_time():
    with Chain.embedded() as first:
        first.send_ether(first.dev_signers()[0], first.dev_signers()[1].address, 1)
        assert first.block_number() == 1
    with Chain.embedded() as second:
        assert second.block_number() == 0


CRASH_SCRIPT = """
import sys
from pathlib import Path
from aigora.chain import Chain
from aigora.chain.deploy import deploy_foundation

chain = Chain.embedded(Path(sys.argv[1]))
owner, alice = chain.dev_signers()[:2]
token = deploy_foundation(chain, owner).token
print(token.address, chain.block_number(), flush=True)
while True:
    chain.transact(owner, token.functions.mint(alice.address, 1))
    print(chain.block_number(), flush=True)
"""


def test_a_killed_process_leaves_whole_blocks_only(tmp_path):
    """SIGKILL mid-stream: on reopen every block is whole (one mint each), none half-written."""

    directory = tmp_path / "chain"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(directory)], stdout=subprocess.PIPE, text=True
    )
    token_address, setup_blocks = proc.stdout.readline().split()
    last_reported = int(setup_blocks)
    while last_reported < int(setup_blocks) + 25:
        last_reported = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    with Chain.embedded(directory) as chain:
        alice = chain.dev_signers()[1]
        minted = chain.call(
            chain.contract("Token", token_address).functions.balanceOf(alice.address)
        )
        assert chain.block_number() >= last_reported
        assert minted == chain.block_number() - int(setup_blocks)
