"""EIP-712 typed data: build, hash, sign and recover, always bound to a full domain.

Every signature Aigora asks for (content manifests, attestations, receipts, mandates, claims) is
EIP-712 typed data whose domain names the chain id and the verifying contract. A signature made
for one chain or one contract therefore never verifies for another: the domain is hashed into the
digest, so replaying it elsewhere recovers a different, unrelated address. Uniqueness within one
domain (nonces, ids) is the job of each message type.

The encoding itself is `eth_account`'s (`encode_typed_data`), which implements the spec; this
module only fixes the domain shape so that every component builds the same domain the same way.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import eth_abi
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data

from aigora.core._abi import abi_type, checksum_address, normalize
from aigora.core.errors import EncodingError, SignatureError
from aigora.core.hashing import keccak

Types = Mapping[str, Sequence[Mapping[str, str]]]
"""Struct definitions by name: `{"Mail": [{"name": "from", "type": "Person"}, ...], ...}`."""

DOMAIN_TYPE: list[dict[str, str]] = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
"""The EIP712Domain every Aigora signature uses: all four fields, in the spec's order."""

_DOMAIN_TYPEHASH = keccak(
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class TypedDataSigner(Protocol):
    """Anything that signs a full EIP-712 structure the way `eth_account`'s LocalAccount does.

    Both `LocalAccount` and `aigora.core.keystore.Signer` qualify. The result must carry the
    65-byte signature (r, s, v) in `.signature`.
    """

    def sign_typed_data(self, *, full_message: dict[str, Any]) -> Any: ...


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain: which application, which version, which chain, which contract.

    `verifying_contract` is stored checksummed; `chain_id` must be a positive integer.
    """

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not isinstance(self.version, str):
            raise EncodingError("an EIP-712 domain needs a string name and version")
        if isinstance(self.chain_id, bool) or not isinstance(self.chain_id, int):
            raise EncodingError(f"chain_id must be an int, got {self.chain_id!r}")
        if self.chain_id <= 0:
            raise EncodingError(f"chain_id must be positive, got {self.chain_id}")
        if not isinstance(self.verifying_contract, str):
            raise EncodingError("verifying_contract must be a 0x-hex address string")
        try:
            contract = checksum_address(self.verifying_contract)
        except EncodingError as exc:
            raise EncodingError(f"verifying_contract: {exc}") from exc
        object.__setattr__(self, "verifying_contract", contract)

    def as_dict(self) -> dict[str, Any]:
        """The domain as EIP-712 JSON (`chainId`, `verifyingContract`)."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Domain":
        """The inverse of `as_dict`; `EncodingError` when a field is missing or malformed."""
        try:
            return cls(data["name"], data["version"], data["chainId"], data["verifyingContract"])
        except (KeyError, TypeError) as exc:
            raise EncodingError(f"not an EIP-712 domain: {exc}") from None


def typed_data(
    domain: Domain, types: Types, primary_type: str, message: Mapping[str, Any]
) -> dict[str, Any]:
    """The full EIP-712 structure (`types` with EIP712Domain, `primaryType`, `domain`, `message`),
    as a wallet's `eth_signTypedData_v4` takes it.

    `types` holds the message's structs; it may include `EIP712Domain` only if it is exactly
    `DOMAIN_TYPE`, so a caller cannot silently sign under a narrower domain. The message must have
    exactly the declared fields (at every nesting level) and every value must fit its type; it
    comes back normalized (integers as `int`, bytes as lowercase 0x-hex, addresses checksummed),
    so equal messages give equal structures. Raises `EncodingError` otherwise.
    """
    declared = _declared_types(types)
    if primary_type not in declared or primary_type == "EIP712Domain":
        raise EncodingError(f"primary type {primary_type!r} is not among the declared types")
    return {
        "types": declared,
        "primaryType": primary_type,
        "domain": domain.as_dict(),
        "message": _struct(declared, primary_type, message, primary_type),
    }


def with_decimal_integers(typed: dict[str, Any]) -> dict[str, Any]:
    """Typed data whose message integers are decimal strings, for a browser: its JSON numbers
    lose digits past 2**53, and wallets and eth-account read uint256 from strings alike."""
    message = {k: str(v) if isinstance(v, int) else v for k, v in typed["message"].items()}
    return {**typed, "message": message}


def hash_typed(
    domain: Domain, types: Types, primary_type: str, message: Mapping[str, Any]
) -> bytes:
    """The 32-byte digest keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)).

    This is what `ecrecover` sees on-chain, and what `sign_typed` signs.
    """
    signable = _signable(typed_data(domain, types, primary_type, message))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def domain_separator(domain: Domain) -> bytes:
    """hashStruct(EIP712Domain): the 32 bytes a verifying contract computes for itself."""
    encoded = eth_abi.encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [
            _DOMAIN_TYPEHASH,
            keccak(domain.name.encode("utf-8")),
            keccak(domain.version.encode("utf-8")),
            domain.chain_id,
            domain.verifying_contract,
        ],
    )
    return keccak(encoded)


def sign_typed(
    signer: TypedDataSigner,
    domain: Domain,
    types: Types,
    primary_type: str,
    message: Mapping[str, Any],
) -> bytes:
    """The 65-byte signature (r ‖ s ‖ v, v in {27, 28}) of the typed data by `signer`."""
    full = typed_data(domain, types, primary_type, message)
    _signable(full)  # refuse malformed data before it reaches a signer
    signature = bytes(signer.sign_typed_data(full_message=full).signature)
    if len(signature) != 65:
        raise SignatureError(f"signer returned {len(signature)} bytes, not a 65-byte signature")
    return signature


def recover_typed(
    domain: Domain,
    types: Types,
    primary_type: str,
    message: Mapping[str, Any],
    signature: bytes,
) -> str:
    """The checksum address whose key made `signature` over this typed data.

    Any change to the domain or the message yields a different (unrelated) address, never an
    error, so callers must compare the result with the address they expect. The checks are those
    of OpenZeppelin's `ECDSA.recover`: v must be 27 or 28 and s in the lower half of the curve
    order, so each (message, key) has exactly one accepted signature. Raises `SignatureError`
    for anything else.
    """
    return recover_with_digest(domain, types, primary_type, message, signature)[0]


def recover_with_digest(
    domain: Domain,
    types: Types,
    primary_type: str,
    message: Mapping[str, Any],
    signature: bytes,
) -> tuple[str, bytes]:
    """`recover_typed` and `hash_typed` at the cost of one encoding: (signer, digest). What a
    node importing thousands of signed items runs once per item."""
    signable = _signable(typed_data(domain, types, primary_type, message))
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    if not isinstance(signature, bytes | bytearray) or len(signature) != 65:
        raise SignatureError("an EIP-712 signature must be 65 bytes (r, s, v)")
    r = int.from_bytes(signature[0:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if signature[64] not in (27, 28):
        raise SignatureError(f"signature v must be 27 or 28, got {signature[64]}")
    if not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
        raise SignatureError("signature r or s is out of range (s must be in the lower half)")
    try:
        return str(Account.recover_message(signable, signature=bytes(signature))), digest
    except (ValueError, TypeError) as exc:  # eth_keys: BadSignature, ValidationError
        raise SignatureError(f"not a valid secp256k1 signature: {exc}") from exc


def _declared_types(types: Types) -> dict[str, list[dict[str, str]]]:
    if not isinstance(types, Mapping):
        raise EncodingError("types must map struct names to lists of {name, type} fields")
    declared = {"EIP712Domain": [dict(field) for field in DOMAIN_TYPE]}
    for name, fields in types.items():
        if isinstance(fields, str | bytes) or not isinstance(fields, Sequence):
            raise EncodingError(f"struct {name!r} must be a list of {{name, type}} fields")
        copied = [dict(field) for field in fields]
        if not all(
            set(f) == {"name", "type"} and all(isinstance(v, str) for v in f.values())
            for f in copied
        ):
            raise EncodingError(f"every field of struct {name!r} must be {{name, type}} strings")
        if name == "EIP712Domain" and copied != DOMAIN_TYPE:
            raise EncodingError("types may not redefine EIP712Domain; Aigora's domain has 4 fields")
        declared[name] = copied
    return declared


def _struct(
    declared: Mapping[str, list[dict[str, str]]], name: str, value: Any, path: str
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise EncodingError(f"{path} must be an object with the fields of {name}, got {value!r}")
    fields = [field["name"] for field in declared[name]]
    missing = [field for field in fields if field not in value]
    extra = [key for key in value if key not in fields]
    if missing or extra:
        problems = [f"missing fields {missing}"] if missing else []
        problems += [f"unexpected fields {extra}"] if extra else []
        raise EncodingError(f"{path} ({name}): {'; '.join(problems)}")
    return {
        field["name"]: _field(
            declared, field["type"], value[field["name"]], f"{path}.{field['name']}"
        )
        for field in declared[name]
    }


def _field(
    declared: Mapping[str, list[dict[str, str]]], type_str: str, value: Any, path: str
) -> Any:
    if type_str.endswith("]"):
        inner, size = type_str[: type_str.rindex("[")], type_str[type_str.rindex("[") + 1 : -1]
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise EncodingError(f"{path} must be a list ({type_str}), got {value!r}")
        if size and (not size.isdigit() or len(value) != int(size)):
            raise EncodingError(f"{path} must have {size} items ({type_str}), got {len(value)}")
        return [_field(declared, inner, item, f"{path}[{i}]") for i, item in enumerate(value)]
    if type_str in declared:
        return _struct(declared, type_str, value, path)
    try:
        normalized = normalize(abi_type(type_str), value)
    except EncodingError as exc:
        raise EncodingError(f"{path}: {exc}") from exc
    return "0x" + normalized.hex() if isinstance(normalized, bytes) else normalized


def _signable(full: dict[str, Any]) -> SignableMessage:
    try:
        return encode_typed_data(full_message=full)
    except (ValueError, TypeError, KeyError) as exc:
        raise EncodingError(f"the message does not match its EIP-712 types: {exc}") from exc
