"""The one keccak256 every component uses.

Everything that meets the EVM (Merkle leaves, EIP-712 digests, canonical-JSON hashes) hashes with
this function, so a change of backend happens in one place and all hashes stay comparable.
"""

try:
    # safe-pysha3 is a C extension: about 7x faster per call than eth-hash's pycryptodome
    # backend, which is what Merkle trees of a million leaves are made of.
    from sha3 import keccak_256 as _keccak_256

    def _keccak(data: bytes) -> bytes:
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - the dependency is declared; this keeps a fallback
    from eth_hash.auto import keccak as _keccak


def keccak(data: bytes) -> bytes:
    """The 32-byte keccak256 digest of `data` (Ethereum's keccak, not NIST SHA3-256).

    Only bytes-like input is accepted: a `str` is refused rather than guessed at, because "0xab"
    could mean two bytes of hex or four characters of text.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"keccak takes bytes, not {type(data).__name__}; encode text first")
    return _keccak(bytes(data))
