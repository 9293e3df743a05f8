"""The signed objects of content provenance and their validity rules, as pure functions.

Three EIP-712 messages, all in the domain `Aigora`/`1` of the chain and registry they are anchored
in (so a signature never replays on another chain or deployment):

- `Content{author, cid, mediaType, license, url, parents[], createdAt}`: a manifest. `url` is where
  the content lives elsewhere ("" if nowhere); `parents` are the CIDs a derived work builds on.
- `Attestation{attester, cid, verdict, reason, createdAt}`: a community verdict on a CID.
- `Trust{truster, trustee, createdAt}`: a vouch, an edge of the seeded-trust graph.

`createdAt` is unix seconds. A message's EIP-712 digest is its identity: the same signed message
twice is a replay. Anchored batches are StandardMerkleTrees over `["bytes32"]` leaves of digests.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aigora.core.cid import InvalidCID, cid_of, is_cid
from aigora.core.eip712 import Domain, hash_typed, recover_with_digest, sign_typed
from aigora.core.errors import AigoraError
from aigora.core.hashing import keccak

DOMAIN_NAME = "Aigora"
DOMAIN_VERSION = "1"
VERDICTS = ("accurate", "misleading", "spam")
MAX_CLOCK_SKEW_S = 300
MAX_PARENTS = 16
MAX_REASON = 1000
LEAF_ENCODING = ("bytes32",)

CONTENT_TYPES = {
    "Content": [
        {"name": "author", "type": "address"},
        {"name": "cid", "type": "string"},
        {"name": "mediaType", "type": "string"},
        {"name": "license", "type": "string"},
        {"name": "url", "type": "string"},
        {"name": "parents", "type": "string[]"},
        {"name": "createdAt", "type": "uint64"},
    ]
}
ATTESTATION_TYPES = {
    "Attestation": [
        {"name": "attester", "type": "address"},
        {"name": "cid", "type": "string"},
        {"name": "verdict", "type": "string"},
        {"name": "reason", "type": "string"},
        {"name": "createdAt", "type": "uint64"},
    ]
}
TRUST_TYPES = {
    "Trust": [
        {"name": "truster", "type": "address"},
        {"name": "trustee", "type": "address"},
        {"name": "createdAt", "type": "uint64"},
    ]
}
_KINDS: dict[str, tuple[dict[str, Any], str]] = {
    "content": (CONTENT_TYPES, "author"),
    "attestation": (ATTESTATION_TYPES, "attester"),
    "trust": (TRUST_TYPES, "truster"),
}


class InvalidSignedObject(AigoraError):
    """A manifest, attestation or vouch is malformed, badly signed or not yet valid."""


class Replay(AigoraError):
    """This exact signed message was already recorded, or a newer one supersedes it."""


def domain_for(chain_id: int, registry_address: str) -> Domain:
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, registry_address)


@dataclass(frozen=True)
class Signed:
    """A message of one kind ("content", "attestation", "trust") and its 65-byte signature."""

    kind: str
    message: Mapping[str, Any]
    signature: bytes

    @property
    def signer_field(self) -> str:
        return _KINDS[self.kind][1]

    def digest(self, domain: Domain) -> bytes:
        types, _ = _KINDS[self.kind]
        return hash_typed(domain, types, _primary(self.kind), dict(self.message))


def content_message(
    author: str,
    body: bytes,
    media_type: str,
    license: str,
    created_at: int,
    url: str = "",
    parents: Sequence[str] = (),
) -> dict[str, Any]:
    """The `Content` manifest of `body` (its CID computed here), ready to sign."""
    return {
        "author": author,
        "cid": cid_of(body),
        "mediaType": media_type,
        "license": license,
        "url": url,
        "parents": list(parents),
        "createdAt": created_at,
    }


def sign(kind: str, signer: Any, domain: Domain, message: Mapping[str, Any]) -> Signed:
    types, _ = _KINDS[kind]
    signature = sign_typed(signer, domain, types, _primary(kind), dict(message))
    return Signed(kind, dict(message), signature)


def check(signed: Signed, domain: Domain, now: int) -> bytes:
    """Validate fields and signature; returns the digest. Raises InvalidSignedObject."""
    if signed.kind not in _KINDS:
        raise InvalidSignedObject(f"unknown kind {signed.kind!r}")
    _check_fields(signed.kind, signed.message, now)
    types, signer_field = _KINDS[signed.kind]
    try:
        recovered, digest = recover_with_digest(
            domain, types, _primary(signed.kind), dict(signed.message), signed.signature
        )
    except AigoraError as exc:
        raise InvalidSignedObject(f"bad {signed.kind} signature: {exc}") from None
    claimed = str(signed.message[signer_field])
    if recovered.lower() != claimed.lower():
        raise InvalidSignedObject(
            f"the {signed.kind} is signed by {recovered}, not by its {signer_field} {claimed}"
        )
    return digest


def url_hash(url: str) -> str:
    """keccak256 of the URL as given (UTF-8), 0x-hex: how content that lives elsewhere is found."""
    return "0x" + keccak(url.encode("utf-8")).hex()


def _primary(kind: str) -> str:
    return {"content": "Content", "attestation": "Attestation", "trust": "Trust"}[kind]


def _check_fields(kind: str, message: Mapping[str, Any], now: int) -> None:
    types, _ = _KINDS[kind]
    expected = {field["name"] for field in types[_primary(kind)]}
    if set(message) != expected:
        missing, extra = expected - set(message), set(message) - expected
        raise InvalidSignedObject(
            f"{kind} fields wrong: missing {sorted(missing)}, unexpected {sorted(extra)}"
        )
    created = message["createdAt"]
    if not isinstance(created, int) or isinstance(created, bool) or created <= 0:
        raise InvalidSignedObject("createdAt must be a positive integer (unix seconds)")
    if created > now + MAX_CLOCK_SKEW_S:
        raise InvalidSignedObject(f"createdAt {created} is in the future (now {now})")
    if kind == "content":
        _check_cid(message["cid"])
        parents = message["parents"]
        if not isinstance(parents, list | tuple) or len(parents) > MAX_PARENTS:
            raise InvalidSignedObject(f"parents must be a list of at most {MAX_PARENTS} CIDs")
        for parent in parents:
            _check_cid(parent)
        if message["cid"] in parents:
            raise InvalidSignedObject("content cannot be its own parent")
        for name in ("mediaType", "license"):
            if not isinstance(message[name], str) or not message[name] or len(message[name]) > 255:
                raise InvalidSignedObject(f"{name} must be 1 to 255 characters")
        if not isinstance(message["url"], str) or len(message["url"]) > 2048:
            raise InvalidSignedObject("url must be a string of at most 2048 characters")
    elif kind == "attestation":
        _check_cid(message["cid"])
        if message["verdict"] not in VERDICTS:
            raise InvalidSignedObject(
                f"verdict must be one of {', '.join(VERDICTS)}, got {message['verdict']!r}"
            )
        if not isinstance(message["reason"], str) or len(message["reason"]) > MAX_REASON:
            raise InvalidSignedObject(f"reason must be a string of at most {MAX_REASON} chars")
    elif str(message["truster"]).lower() == str(message["trustee"]).lower():
        raise InvalidSignedObject("an account cannot vouch for itself")


def _check_cid(value: Any) -> None:
    if not isinstance(value, str) or not is_cid(value):
        raise InvalidSignedObject(f"not a CID of ours (CIDv1 raw sha2-256 base32): {value!r}")


__all__ = [
    "InvalidCID",
    "InvalidSignedObject",
    "Replay",
    "Signed",
    "check",
    "domain_for",
    "sign",
    "url_hash",
]
