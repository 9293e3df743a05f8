"""The one keccak256 every component uses.

Everything that meets the EVM (Merkle leaves, EIP-712 digests, canonical-JSON hashes) hashes with
this function, so a change of backend happens in one place and all hashes stay comparable.
"""

from eth_hash.auto import keccak as _keccak


def keccak(data: bytes) -> bytes:
    """The 32-byte keccak256 digest of `data` (Ethereum's keccak, not NIST SHA3-256).

    Only bytes-like input is accepted: a `str` is refused rather than guessed at, because "0xab"
    could mean two bytes of hex or four characters of text.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"keccak takes bytes, not {type(data).__name__}; encode text first")
    return _keccak(bytes(data))
