# pragma version ~=0.4.3
"""
@title EIP-712 domain separator for any verifying contract
@notice hashStruct(EIP712Domain) with all four fields (name, version, chainId, verifyingContract),
        as `aigora.core.eip712.domain_separator` computes it off-chain.
@dev For a contract that verifies signatures made in another contract's domain: Disputes checks
     receipts signed in the domain of the registry. snekmate's `utils/eip712_domain_separator.vy`
     fixes the verifying contract to `self`, so it serves only contracts that sign in their own
     domain (Distributor uses it). The final 0x1901 digest is snekmate's
     `message_hash_utils._to_typed_data_hash`.
"""

DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)


@pure
@internal
def _domain_separator(
    _name_hash: bytes32, _version_hash: bytes32, _chain_id: uint256, _verifying_contract: address
) -> bytes32:
    """The domain separator of (keccak256(name), keccak256(version), chain id, contract)."""
    return keccak256(
        abi_encode(DOMAIN_TYPEHASH, _name_hash, _version_hash, _chain_id, _verifying_contract)
    )
