"""Every typed record has the fields of the struct its getter returns, by name and in order, so
decoding a tuple positionally once (in `aigora.chain.records`) is safe."""

import pytest

from aigora.chain import (
    EnactmentRecord,
    ProposalRecord,
    check_layout,
    compile_contract,
    read_enactment,
    read_operator,
    read_proposal,
)
from aigora.chain.records import LAYOUTS, ZERO_ADDRESS, OperatorRecord
from aigora.core.hashing import keccak


@pytest.mark.parametrize(("contract", "getter"), sorted(LAYOUTS))
def test_record_fields_match_the_contract_struct(contract, getter):
    check_layout(LAYOUTS[(contract, getter)], compile_contract(contract).abi, getter)


def test_a_reordered_record_is_caught():
    abi = compile_contract("Registry").abi
    with pytest.raises(AssertionError, match="OperatorRecord"):
        check_layout(OperatorRecord, abi, "batches")


def test_an_unknown_operator_reads_as_unregistered(chain):
    from aigora.chain import RegistryParams, deploy_foundation

    deployer = chain.dev_signers()[0]
    deployment = deploy_foundation(chain, deployer, RegistryParams())
    record = read_operator(chain, deployment.registry, deployer.address)
    assert record == OperatorRecord(0, 0, 0, 0, "", False)
    assert not record.registered


def test_the_governor_records_read_back_from_a_real_chain(chain):
    """Genesis as proposal 0 and enactment 0, and an unknown id as all zeros, through the
    readers on py-evm and anvil alike (over JSON-RPC the getters return bare tuples)."""
    deployer = chain.dev_signers()[0]
    document, root, total = b'{"policy":"genesis"}', keccak(b"standing"), 10**18
    governor, result = chain.deploy(deployer, "Governor", document, root, total, 60, 30, 2000, 0)
    genesis = read_proposal(chain, governor, 0)
    assert genesis.proposer == deployer.address
    assert (genesis.policy_hash, genesis.standing_root, genesis.standing_total) == (
        keccak(document),
        root,
        total,
    )
    assert genesis.exists
    assert genesis.executed
    assert genesis.vote_end == genesis.eta == chain.now()
    assert read_enactment(chain, governor, 0) == EnactmentRecord(
        0, keccak(document), root, total, result.block_number, chain.now()
    )
    unknown = read_proposal(chain, governor, 1)
    assert unknown == ProposalRecord(
        ZERO_ADDRESS, *[bytes(32)] * 3, 0, bytes(32), 0, 0, 0, 0, 0, 0, False
    )
    assert not unknown.exists
