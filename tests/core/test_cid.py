import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.cid import InvalidCID, cid_of, digest_of, is_cid, matches

HELLO_CID = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def _cid(prefix: bytes, digest: bytes) -> str:
    return "b" + base64.b32encode(prefix + digest).decode().lower().rstrip("=")


def test_known_cid_of_hello() -> None:
    # `ipfs add --cid-version 1 --raw-leaves` of the 5 bytes "hello" gives this CID.
    assert cid_of(b"hello") == HELLO_CID
    assert digest_of(HELLO_CID) == hashlib.sha256(b"hello").digest()
    assert matches(HELLO_CID, b"hello")
    assert not matches(HELLO_CID, b"hello!")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_round_trip(data: bytes) -> None:
    cid = cid_of(data)
    assert cid.startswith("bafkrei")
    assert len(cid) == 59
    assert is_cid(cid)
    assert digest_of(cid) == hashlib.sha256(data).digest()
    assert matches(cid, data)


SHA256 = hashlib.sha256(b"hello").digest()
MALFORMED = {
    "upper-case multibase": HELLO_CID.upper(),
    "upper-case body": "b" + HELLO_CID[1:].upper(),
    "dag-pb codec": _cid(bytes([0x01, 0x70, 0x12, 0x20]), SHA256),
    "dag-cbor codec": _cid(bytes([0x01, 0x71, 0x12, 0x20]), SHA256),
    "sha2-512": _cid(bytes([0x01, 0x55, 0x13, 0x40]), hashlib.sha512(b"hello").digest()),
    "wrong digest length": _cid(bytes([0x01, 0x55, 0x12, 0x20]), SHA256[:31]),
    "CIDv0": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
    "CIDv2 prefix": _cid(bytes([0x02, 0x55, 0x12, 0x20]), SHA256),
    "truncated by one": HELLO_CID[:-1],
    "truncated by eight": HELLO_CID[:-8],
    "multibase only": "b",
    "empty": "",
    "base58 multibase": "z" + HELLO_CID[1:],
    "not base32": HELLO_CID[:-1] + "1",
    "extra byte": _cid(bytes([0x01, 0x55, 0x12, 0x20]), SHA256 + b"\x00"),
}


@pytest.mark.parametrize("cid", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_cids_are_refused(cid: str) -> None:
    assert not is_cid(cid)
    with pytest.raises(InvalidCID):
        digest_of(cid)


@pytest.mark.parametrize("value", [None, b"bafkrei", 42])
def test_non_strings_are_refused(value: object) -> None:
    assert not is_cid(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "spelling",
    [
        HELLO_CID[:-1] + "r",  # the unused low bits of the last character set
        HELLO_CID + "=",  # padding
        HELLO_CID.replace("i", "\u0131", 1),  # dotless i: upper-cases to "I"
    ],
)
def test_only_the_canonical_spelling_is_a_cid(spelling: str) -> None:
    # Each spelling decodes to the digest of b"hello" but is a different string, so it would slip
    # past deduplication by CID and sort differently in the (score, CID) tie-break.
    assert spelling != HELLO_CID
    assert not is_cid(spelling)
