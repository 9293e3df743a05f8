# pragma version ~=0.4.3
"""
@title Strict ECDSA recovery
@notice The signer of a 32-byte digest under OpenZeppelin's `ECDSA.recover` rules, which
        `aigora.core.eip712.recover_typed` applies off-chain too: exactly 65 bytes (r, s, v), v 27
        or 28, s in the lower half of the curve order (so a signature has no malleable twin), and
        a signature that recovers no address is refused.
@dev snekmate's `utils/ecdsa.vy` does not fit: `_recover_sig` also accepts 64-byte EIP-2098
     signatures and leaves a bad v to `ecrecover`, and its revert reasons differ from the ones
     Aigora's clients and tests read.
"""

HALF_CURVE_ORDER: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
# secp256k1 n // 2: OpenZeppelin ECDSA refuses a larger s (the malleable twin of a signature).


@pure
@internal
def _recover(_digest: bytes32, _signature: Bytes[65]) -> address:
    """The address whose key signed `_digest`; reverts with a reason for a refused signature."""
    assert len(_signature) == 65, "signature must be 65 bytes (r, s, v)"
    r: uint256 = convert(extract32(_signature, 0), uint256)
    s: uint256 = convert(extract32(_signature, 32), uint256)
    v: uint256 = convert(slice(_signature, 64, 1), uint256)
    assert v == 27 or v == 28, "signature v must be 27 or 28"
    assert s <= HALF_CURVE_ORDER, "signature s must be in the lower half"
    signer: address = ecrecover(_digest, v, r, s)
    assert signer != empty(address), "signature does not recover"
    return signer


@pure
@internal
def _try_recover(_digest: bytes32, _signature: Bytes[65]) -> address:
    """`_recover` without reverting: the zero address wherever `_recover` would refuse (for a
    batch that skips a bad signature rather than failing whole)."""
    if len(_signature) != 65:
        return empty(address)
    r: uint256 = convert(extract32(_signature, 0), uint256)
    s: uint256 = convert(extract32(_signature, 32), uint256)
    v: uint256 = convert(slice(_signature, 64, 1), uint256)
    if (v != 27 and v != 28) or s > HALF_CURVE_ORDER:
        return empty(address)
    return ecrecover(_digest, v, r, s)
