"""What an asker signs: vouchers (one per paid ask) and relayed withdrawal requests, in the
EIP-712 domain of the channels contract.

A voucher `Voucher(asker, operator, cumulative)` says "I owe `operator` `cumulative` in all":
each paid ask signs the previous cumulative plus the node's fee, and the operator redeems only
the newest (`Channels.redeem_many`). A `Withdrawal(asker, operator, nonce, deadline)` lets anyone
send the asker's withdrawal request for it (an asker with no ether); `nonce` is the channel's
current one, so each signature starts one withdrawal.
"""

import re
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from aigora.core.eip712 import Domain, TypedDataSigner, sign_typed, typed_data
from aigora.core.errors import AigoraError

DOMAIN_NAME = "Aigora Channels"
DOMAIN_VERSION = "1"
VOUCHER_TYPES = {
    "Voucher": [
        {"name": "asker", "type": "address"},
        {"name": "operator", "type": "address"},
        {"name": "cumulative", "type": "uint256"},
    ]
}
WITHDRAWAL_TYPES = {
    "Withdrawal": [
        {"name": "asker", "type": "address"},
        {"name": "operator", "type": "address"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
UINT256_MAX = 2**256 - 1
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")


def channels_domain(chain_id: int, channels: str) -> Domain:
    """The domain vouchers are signed in: the channels contract on its chain."""
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, channels)


@dataclass(frozen=True)
class Payment:
    """What a paid ask carries: the asker (checksummed: one account, one channel row), the
    cumulative amount its voucher names and the asker's 65-byte signature over
    `Voucher(asker, operator, cumulative)`."""

    asker: str
    cumulative: int
    signature: bytes

    @classmethod
    def parse(cls, asker: str, cumulative: str, signature: str) -> "Payment":
        """A payment as JSON spells it (`cumulative` a decimal string, `signature` 0x and 130
        hex digits); a clear error for anything else."""
        if not re.fullmatch(r"0x[0-9a-fA-F]{40}", asker):
            raise AigoraError(f"asker {asker!r} is not a 0x-hex address (0x and 40 hex digits)")
        if not re.fullmatch(r"[0-9]{1,78}", cumulative) or int(cumulative) > UINT256_MAX:
            raise AigoraError(f"cumulative {cumulative!r} is not a decimal uint256")
        if not _SIGNATURE.fullmatch(signature):
            raise AigoraError("a voucher signature is 0x and 130 hex digits (65 bytes: r, s, v)")
        return cls(to_checksum_address(asker), int(cumulative), bytes.fromhex(signature[2:]))

    def to_json(self) -> dict[str, str]:
        return {
            "asker": self.asker,
            "cumulative": str(self.cumulative),
            "signature": "0x" + self.signature.hex(),
        }


def voucher_message(asker: str, operator: str, cumulative: int) -> dict[str, Any]:
    return {"asker": asker, "operator": operator, "cumulative": cumulative}


def voucher_typed_data(domain: Domain, asker: str, operator: str, cumulative: int) -> dict:
    """The typed data a wallet signs (`eth_signTypedData_v4`) for one voucher."""
    return typed_data(
        domain, VOUCHER_TYPES, "Voucher", voucher_message(asker, operator, cumulative)
    )


def sign_voucher(
    signer: TypedDataSigner, domain: Domain, *, asker: str, operator: str, cumulative: int
) -> Payment:
    """The asker's voucher owing `operator` `cumulative` in all (`asker`: the signer's address)."""
    message = voucher_message(asker, operator, cumulative)
    signature = sign_typed(signer, domain, VOUCHER_TYPES, "Voucher", message)
    return Payment(to_checksum_address(asker), cumulative, signature)


def withdrawal_message(asker: str, operator: str, nonce: int, deadline: int) -> dict[str, Any]:
    return {"asker": asker, "operator": operator, "nonce": nonce, "deadline": deadline}


def withdrawal_typed_data(
    domain: Domain, *, asker: str, operator: str, nonce: int, deadline: int
) -> dict[str, Any]:
    """The typed data a wallet signs to have its withdrawal requested for it."""
    message = withdrawal_message(asker, operator, nonce, deadline)
    return typed_data(domain, WITHDRAWAL_TYPES, "Withdrawal", message)


def sign_withdrawal(
    signer: TypedDataSigner,
    domain: Domain,
    *,
    asker: str,
    operator: str,
    nonce: int,
    deadline: int,
) -> bytes:
    """The asker's signature letting anyone request its withdrawal (`Channels.
    request_withdrawal_for`) until `deadline`, once (`nonce`: the channel's current nonce)."""
    message = withdrawal_message(asker, operator, nonce, deadline)
    return sign_typed(signer, domain, WITHDRAWAL_TYPES, "Withdrawal", message)
