"""The closed set of things an agent's planner may ask for, and the calldata code builds for them.

A planner (rules or a model) never writes calldata: it emits one of these typed intents as JSON, it
is validated here, and `build_calls` turns it into (target, data) pairs for `PolicyWallet.execute`.
Anything that is not exactly one of these shapes is an `IntentError`.
"""

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from eth_abi import encode
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from aigora.agent.errors import IntentError
from aigora.agent.policy import APPROVE, TRANSFER, Address, Amount, Policy
from aigora.core.hashing import keccak

# ERC-4626: deposit(assets, receiver), withdraw(assets, receiver, owner); both name the wallet
DEPOSIT_SIGNATURE = "deposit(uint256,address)"
WITHDRAW_SIGNATURE = "withdraw(uint256,address,address)"
REDEEM_SIGNATURE = "redeem(uint256,address,address)"
SWAP_SIGNATURE = "swap_exact_in(address,address,uint256,uint256,address)"


def selector_of(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


class _Intent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Pay(_Intent):
    """Send `amount` of the policy token to `to`."""

    kind: Literal["pay"] = "pay"
    to: Address
    amount: Amount
    memo: str = Field(default="", max_length=200)


class Tip(_Intent):
    """Tip the author `to` of the answer `cid`."""

    kind: Literal["tip"] = "tip"
    to: Address
    amount: Amount
    cid: str = Field(default="", max_length=100)


class Stake(_Intent):
    """Put `amount` of the policy token into the ERC-4626 `vault`; its shares go to the wallet."""

    kind: Literal["stake"] = "stake"
    vault: Address
    amount: Amount


class Unstake(_Intent):
    """Take `amount` of the policy token back out of the ERC-4626 `vault`, into the wallet."""

    kind: Literal["unstake"] = "unstake"
    vault: Address
    amount: Amount


class Swap(_Intent):
    """Approve `router` for `amount_in` and swap for at least `min_out` of `token_out`."""

    kind: Literal["swap"] = "swap"
    router: Address
    token_out: Address
    amount_in: Amount
    min_out: Amount

    @field_validator("min_out")
    @classmethod
    def _min_out_positive(cls, value: int) -> int:
        if value == 0:
            raise ValueError("a swap needs a minimum output above zero")
        return value


AnyIntent = Pay | Tip | Stake | Unstake | Swap
INTENT_TYPES: tuple[type[_Intent], ...] = (Pay, Tip, Stake, Unstake, Swap)
"""The closed set, in the order a model's tools list them."""
Intent = Annotated[AnyIntent, Field(discriminator="kind")]
_INTENT = TypeAdapter(Intent)


def parse_intent(data: Any) -> AnyIntent:
    """Validate a planner's output (a dict or JSON text) into exactly one typed intent."""
    try:
        if isinstance(data, str | bytes):
            return _INTENT.validate_json(data)
        return _INTENT.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "intent"
        raise IntentError(f"not a valid intent: {where}: {first['msg']}") from None


def intent_json(intent: AnyIntent) -> str:
    return intent.model_dump_json()


@dataclass(frozen=True)
class Call:
    """One `PolicyWallet.execute(target, data)` and what it moves of the policy token."""

    target: str
    data: bytes
    counterparty: str | None = None
    amount: int = 0

    @property
    def selector(self) -> bytes:
        return self.data[:4]


def transfer_call(token: str, to: str, amount: int) -> Call:
    return Call(token, TRANSFER + encode(["address", "uint256"], [to, amount]), to, amount)


def approve_call(token: str, spender: str, amount: int) -> Call:
    return Call(token, APPROVE + encode(["address", "uint256"], [spender, amount]), spender, amount)


def build_calls(intent: AnyIntent, policy: Policy, wallet: str) -> list[Call]:
    """The deterministic calldata for `intent`; the wallet executes the calls in order."""
    match intent:
        case Pay() | Tip():
            return [transfer_call(policy.token, intent.to, intent.amount)]
        case Stake():
            data = selector_of(DEPOSIT_SIGNATURE) + encode(
                ["uint256", "address"], [intent.amount, wallet]
            )
            return [
                approve_call(policy.token, intent.vault, intent.amount),
                Call(intent.vault, data),
            ]
        case Unstake():
            data = selector_of(WITHDRAW_SIGNATURE) + encode(
                ["uint256", "address", "address"], [intent.amount, wallet, wallet]
            )
            return [Call(intent.vault, data)]
        case Swap():
            if intent.min_out == 0:
                raise IntentError("a swap needs a minimum output above zero")
            data = selector_of(SWAP_SIGNATURE) + encode(
                ["address", "address", "uint256", "uint256", "address"],
                [policy.token, intent.token_out, intent.amount_in, intent.min_out, wallet],
            )
            return [
                approve_call(policy.token, intent.router, intent.amount_in),
                Call(intent.router, data),
            ]
    raise IntentError(f"unknown intent {intent!r}")
