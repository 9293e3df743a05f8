import pytest

from aigora.core.hashing import keccak


def test_known_digests() -> None:
    # Ethereum's keccak256, not NIST SHA3-256 (which gives a7ffc6f8... for b"").
    assert keccak(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert (
        keccak(b"cow").hex() == "c85ef7d79691fe79573b1a7064c19c1a9819ebdbd1faaab1a8ec92344438aaf4"
    )


def test_accepts_any_bytes_like() -> None:
    assert keccak(bytearray(b"abc")) == keccak(memoryview(b"abc")) == keccak(b"abc")


def test_refuses_text() -> None:
    with pytest.raises(TypeError, match="encode text first"):
        keccak("0xab")  # type: ignore[arg-type]
