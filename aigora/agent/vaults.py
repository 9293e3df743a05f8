"""The ERC-4626 calls a `PolicyWallet` reads: whom deposits, withdrawals and redemptions name.

These mirror the contract's vault branch of `execute` rule for rule: `deposit(assets, receiver)`
must be 68 bytes and name the wallet; `withdraw(assets, receiver, owner)` and `redeem(shares,
receiver, owner)` must be 100 bytes and name the wallet twice; a word with high bits set is
unreadable, not masked. `mint(shares, receiver)` is never allowed (the wallet does not read it).
Selectors are tied to `PolicyWallet.vy` by `tests/chain/test_constants.py`.
"""

from dataclasses import dataclass

from aigora.agent.swaps import address_word

DEPOSIT = bytes.fromhex("6e553f65")  # deposit(uint256,address)
WITHDRAW = bytes.fromhex("b460af94")  # withdraw(uint256,address,address)
REDEEM = bytes.fromhex("ba087652")  # redeem(uint256,address,address)
MINT = bytes.fromhex("94bf804d")  # mint(uint256,address): never allowed
VAULT_CALLS = (DEPOSIT, WITHDRAW, REDEEM)


@dataclass(frozen=True)
class VaultCall:
    """What a vault call moves (`amount`: assets, or shares for `redeem`) and whom it names."""

    selector: bytes
    amount: int
    receiver: str
    owner: str | None


def is_vault_call(selector: bytes) -> bool:
    return selector in VAULT_CALLS


def vault_call(data: bytes) -> VaultCall | None:
    """The decoded vault call in canonical encoding; None when the wallet cannot read it."""
    selector = data[:4]
    if selector == DEPOSIT and len(data) == 68:
        receiver, owner = address_word(data, 36), None
    elif selector in (WITHDRAW, REDEEM) and len(data) == 100:
        receiver, owner = address_word(data, 36), address_word(data, 68)
        if owner == "":
            return None
    else:
        return None
    if receiver == "":
        return None
    return VaultCall(selector, int.from_bytes(data[4:36], "big"), receiver, owner)
