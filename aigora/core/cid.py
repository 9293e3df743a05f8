"""Content identifiers: CIDv1, raw codec, sha2-256 multihash, base32 (the IPFS `bafkrei...` form).

A CID names bytes by their hash, so a body fetched from anyone can be checked against its name.
"""

import base64
import hashlib

from aigora.core.errors import AigoraError

_CID_VERSION = 0x01
_RAW_CODEC = 0x55
_SHA2_256 = 0x12
_DIGEST_LEN = 32
_PREFIX = bytes([_CID_VERSION, _RAW_CODEC, _SHA2_256, _DIGEST_LEN])
_MULTIBASE_BASE32 = "b"


class InvalidCID(AigoraError):
    """A string is not a CIDv1 of the kind Aigora uses (raw, sha2-256, base32)."""


def cid_of(data: bytes) -> str:
    """The CIDv1 (raw, sha2-256, base32 lower, no padding) of `data`."""
    return _encode(hashlib.sha256(data).digest())


def cid_from_digest(digest: bytes) -> str:
    """The CID naming the bytes whose sha2-256 digest is `digest` (the inverse of `digest_of`)."""
    if len(digest) != _DIGEST_LEN:
        raise InvalidCID(f"a sha2-256 digest has {_DIGEST_LEN} bytes, not {len(digest)}")
    return _encode(bytes(digest))


def _encode(digest: bytes) -> str:
    return _MULTIBASE_BASE32 + base64.b32encode(_PREFIX + digest).decode("ascii").lower().rstrip(
        "="
    )


def digest_of(cid: str) -> bytes:
    """The sha2-256 digest a CID names; raises InvalidCID for anything else."""
    if not isinstance(cid, str) or not cid.startswith(_MULTIBASE_BASE32):
        raise InvalidCID(f"not a base32 CIDv1: {cid!r}")
    body = cid[1:]
    if not body.isascii() or body != body.lower() or not body:
        raise InvalidCID(f"not a lower-case base32 CIDv1: {cid!r}")
    try:
        raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
    except ValueError as exc:
        raise InvalidCID(f"not valid base32: {cid!r}") from exc
    if len(raw) != len(_PREFIX) + _DIGEST_LEN or not raw.startswith(_PREFIX):
        raise InvalidCID(f"not a raw sha2-256 CIDv1: {cid!r}")
    digest = raw[len(_PREFIX) :]
    if _encode(digest) != cid:
        # Unused low bits in the last character, or look-alike letters, would give one blob
        # several names; only the canonical spelling is a CID.
        raise InvalidCID(f"not the canonical spelling of a CID: {cid!r}")
    return digest


def is_cid(value: str) -> bool:
    """True when `value` parses as a CID of our kind."""
    try:
        digest_of(value)
    except InvalidCID:
        return False
    return True


def matches(cid: str, data: bytes) -> bool:
    """True when `data` hashes to the digest `cid` names."""
    return digest_of(cid) == hashlib.sha256(data).digest()
