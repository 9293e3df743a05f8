"""Every typed record has the fields of the struct its getter returns, by name and in order, so
decoding a tuple positionally once (in `aigora.chain.records`) is safe."""

import pytest

from aigora.chain import check_layout, compile_contract, read_operator
from aigora.chain.records import LAYOUTS, OperatorRecord


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
