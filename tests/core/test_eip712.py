import dataclasses
import json
import re
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from aigora.core.eip712 import (
    DOMAIN_TYPE,
    Domain,
    domain_separator,
    hash_typed,
    recover_typed,
    recover_with_digest,
    sign_typed,
    typed_data,
)
from aigora.core.errors import EncodingError, SignatureError
from aigora.core.hashing import keccak
from aigora.core.keystore import Signer

# The example from the EIP-712 specification (eips.ethereum.org/EIPS/eip-712, Example.js).
MAIL_DOMAIN = Domain("Ether Mail", "1", 1, "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")
MAIL_TYPES = {
    "Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
    "Mail": [
        {"name": "from", "type": "Person"},
        {"name": "to", "type": "Person"},
        {"name": "contents", "type": "string"},
    ],
}
MAIL = {
    "from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
    "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
    "contents": "Hello, Bob!",
}
COW_KEY = keccak(b"cow")
COW = "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
SPEC_DIGEST = "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2"
SPEC_SIGNATURE = (
    "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"  # r
    "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562"  # s
    "1c"  # v = 28
)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

RECEIPT_DOMAIN = Domain("Aigora", "1", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
RECEIPT_TYPES = {
    "Receipt": [
        {"name": "operator", "type": "address"},
        {"name": "queryHash", "type": "bytes32"},
        {"name": "fee", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
    ]
}
RECEIPT = {
    "operator": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "queryHash": "0x" + "11" * 32,
    "fee": 10**18,
    "nonce": 7,
}


def test_spec_example_digest_and_domain_separator() -> None:
    assert hash_typed(MAIL_DOMAIN, MAIL_TYPES, "Mail", MAIL).hex() == SPEC_DIGEST
    assert (
        domain_separator(MAIL_DOMAIN).hex()
        == "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"
    )


def test_spec_example_signature() -> None:
    signature = sign_typed(Signer.dev(COW_KEY), MAIL_DOMAIN, MAIL_TYPES, "Mail", MAIL)
    assert signature.hex() == SPEC_SIGNATURE
    assert recover_typed(MAIL_DOMAIN, MAIL_TYPES, "Mail", MAIL, signature) == COW
    signer, digest = recover_with_digest(MAIL_DOMAIN, MAIL_TYPES, "Mail", MAIL, signature)
    assert (signer, digest.hex()) == (COW, SPEC_DIGEST)


def test_domain_separator_is_what_eth_account_encodes() -> None:
    full = typed_data(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT)
    assert encode_typed_data(full_message=full).header == domain_separator(RECEIPT_DOMAIN)


@pytest.mark.parametrize("signer", [Signer.dev(COW_KEY), Account.from_key(COW_KEY)])
def test_sign_then_recover_with_any_typed_data_signer(signer: Any) -> None:
    signature = sign_typed(signer, RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT)
    assert len(signature) == 65
    assert recover_typed(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT, signature) == COW


def test_signer_method_is_the_same_signature() -> None:
    signer = Signer.dev(COW_KEY)
    assert signer.sign_typed(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT) == sign_typed(
        signer, RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT
    )


@pytest.mark.parametrize(
    "change",
    [
        {"chain_id": 1},
        {"verifying_contract": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"},
        {"name": "Aigora fork"},
        {"version": "2"},
    ],
)
def test_a_signature_does_not_carry_to_another_domain(change: dict[str, Any]) -> None:
    signature = sign_typed(Signer.dev(COW_KEY), RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT)
    other = dataclasses.replace(RECEIPT_DOMAIN, **change)
    assert hash_typed(other, RECEIPT_TYPES, "Receipt", RECEIPT) != hash_typed(
        RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT
    )
    assert recover_typed(other, RECEIPT_TYPES, "Receipt", RECEIPT, signature) != COW


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("operator", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
        ("queryHash", "0x" + "12" * 32),
        ("fee", 10**18 + 1),
        ("nonce", 8),
    ],
)
def test_a_signature_does_not_carry_to_another_message(field: str, value: Any) -> None:
    signature = sign_typed(Signer.dev(COW_KEY), RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT)
    changed = {**RECEIPT, field: value}
    assert recover_typed(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", changed, signature) != COW


def test_typed_data_is_the_full_normalized_structure() -> None:
    message = {**RECEIPT, "queryHash": bytes([0x11] * 32), "fee": str(10**18), "nonce": "0x7"}
    full = typed_data(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", message)
    assert full == {
        "types": {"EIP712Domain": DOMAIN_TYPE, **RECEIPT_TYPES},
        "primaryType": "Receipt",
        "domain": {
            "name": "Aigora",
            "version": "1",
            "chainId": 31337,
            "verifyingContract": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        },
        "message": RECEIPT,
    }
    json.dumps(full)  # a wallet's eth_signTypedData_v4 takes it as JSON
    assert hash_typed(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", message) == hash_typed(
        RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", RECEIPT
    )


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({k: v for k, v in RECEIPT.items() if k != "nonce"}, "missing fields \\['nonce'\\]"),
        ({**RECEIPT, "extra": 1}, "unexpected fields \\['extra'\\]"),
        ({**RECEIPT, "fee": -1}, "Receipt.fee: -1 is out of range"),
        ({**RECEIPT, "fee": True}, "Receipt.fee"),
        ({**RECEIPT, "queryHash": "0x11"}, "exactly 32 bytes"),
        ({**RECEIPT, "queryHash": "hello"}, "0x-hex"),
        ({**RECEIPT, "operator": "0xf39fd6e51aad88F6F4ce6aB8827279cffFb92266"}, "checksum"),
    ],
)
def test_messages_that_do_not_fit_their_types_are_refused(
    message: dict[str, Any], error: str
) -> None:
    with pytest.raises(EncodingError, match=error):
        hash_typed(RECEIPT_DOMAIN, RECEIPT_TYPES, "Receipt", message)


def test_nested_structs_are_checked_too() -> None:
    broken = {**MAIL, "to": {"name": "Bob"}}
    with pytest.raises(
        EncodingError, match=re.escape("Mail.to (Person): missing fields ['wallet']")
    ):
        hash_typed(MAIL_DOMAIN, MAIL_TYPES, "Mail", broken)


def test_types_cannot_narrow_the_domain_or_name_an_unknown_primary_type() -> None:
    narrow = {**RECEIPT_TYPES, "EIP712Domain": [{"name": "name", "type": "string"}]}
    with pytest.raises(EncodingError, match="EIP712Domain"):
        typed_data(RECEIPT_DOMAIN, narrow, "Receipt", RECEIPT)
    same = {**RECEIPT_TYPES, "EIP712Domain": DOMAIN_TYPE}
    assert typed_data(RECEIPT_DOMAIN, same, "Receipt", RECEIPT)["types"]["EIP712Domain"]
    with pytest.raises(EncodingError, match="primary type"):
        typed_data(RECEIPT_DOMAIN, RECEIPT_TYPES, "Mail", RECEIPT)


@pytest.mark.parametrize(
    "fields",
    [
        {"chain_id": 0},
        {"chain_id": True},
        {"verifying_contract": "0x1234"},
        {"verifying_contract": "0x5fbDB2315678afecb367f032d93F642f64180aa3"},  # bad checksum
    ],
)
def test_domain_is_validated(fields: dict[str, Any]) -> None:
    with pytest.raises(EncodingError):
        dataclasses.replace(RECEIPT_DOMAIN, **fields)


def test_domain_checksums_the_contract() -> None:
    lower = dataclasses.replace(
        RECEIPT_DOMAIN, verifying_contract=RECEIPT_DOMAIN.verifying_contract.lower()
    )
    assert lower == RECEIPT_DOMAIN


def _malleated(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda sig: sig[:64], "65 bytes"),
        (lambda sig: sig[:64] + bytes([sig[64] - 27]), "v must be 27 or 28"),
        (_malleated, "lower half"),
        (lambda sig: bytes(32) + sig[32:], "out of range"),
    ],
)
def test_malformed_or_malleated_signatures_are_refused(mutate: Any, error: str) -> None:
    signature = bytes.fromhex(SPEC_SIGNATURE)
    with pytest.raises(SignatureError, match=error):
        recover_typed(MAIL_DOMAIN, MAIL_TYPES, "Mail", MAIL, mutate(signature))


def test_a_signer_that_returns_garbage_is_refused() -> None:
    class Broken:
        def sign_typed_data(self, *, full_message: dict[str, Any]) -> Any:
            return type("Signed", (), {"signature": b"\x00" * 64})()

    with pytest.raises(SignatureError, match="65-byte"):
        sign_typed(Broken(), MAIL_DOMAIN, MAIL_TYPES, "Mail", MAIL)
