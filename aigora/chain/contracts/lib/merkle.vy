# pragma version ~=0.4.3
"""
@title OpenZeppelin Merkle proofs
@notice `MerkleProof.processProof`: the root reached from a leaf by hashing in each sibling of
        the proof, every pair sorted (the smaller word first). It verifies the proofs of an
        OpenZeppelin `StandardMerkleTree` (leaf = keccak256(keccak256(abi.encode(value)))) and of
        `aigora.core.merkle.StandardMerkleTree`, which `aigora.core.merkle.process_proof`
        mirrors.
@dev snekmate's `utils/merkle_proof_verification.vy` computes the same roots, but under Vyper
     0.4.3's default codegen its proof argument (255 words) and its `_hash_pair` call per level
     cost a claim on the Distributor about 4,200 gas more with a 20-sibling proof (71,600 instead
     of 67,400, above the claim gas target). Here the pair is hashed in the loop, and abi_encode
     of two words (the same 64 bytes as concat) is about 50 gas a level cheaper.
"""

MAX_DEPTH: constant(uint256) = 64
# The longest proof any contract accepts (a registry batch of up to 2**64 leaves); a contract's
# own, shorter bound converts to this one when it passes its proof.


@pure
@internal
def _process_proof(_leaf: bytes32, _proof: DynArray[bytes32, MAX_DEPTH]) -> bytes32:
    """The root a proof reaches from `_leaf`."""
    computed: bytes32 = _leaf
    for sibling: bytes32 in _proof:
        if convert(computed, uint256) < convert(sibling, uint256):
            computed = keccak256(abi_encode(computed, sibling))
        else:
            computed = keccak256(abi_encode(sibling, computed))
    return computed

