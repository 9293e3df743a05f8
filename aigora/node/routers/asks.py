"""Paying for answers: the terms, an asker's channel, relayed withdrawals (an asker with no
ether signs; the node sends and pays the gas) and the operator's gifts into an asker's channel.
Amounts are decimal strings of base units."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from aigora.app import AskTerms, ChannelState, Withdrawn
from aigora.node.deps import OperatorOnly, Services

router = APIRouter(tags=["asks"])

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Asker = Annotated[str, Path(pattern=ADDRESS, description="The asker's 0x-hex address.")]
Deadline = Annotated[int, Query(ge=0, lt=2**64, description="The last block time it is good.")]


class WithdrawalBody(BaseModel):
    """The asker's EIP-712 `Withdrawal` signature (`GET /asks/withdrawals/{asker}` gives what to
    sign) and the deadline it names."""

    model_config = ConfigDict(extra="forbid")

    deadline: int = Field(ge=0, lt=2**64)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class DepositBody(BaseModel):
    """How much of the operator's own tokens to put into the asker's channel."""

    model_config = ConfigDict(extra="forbid")

    amount: str = Field(pattern=r"^[0-9]{1,78}$")


@router.get("/asks/terms", response_model=AskTerms)
def terms(services: Services) -> AskTerms:
    """What an answer costs and how to pay: deposit into `channels` for `operator`, then sign a
    `Voucher` (the `types`, in `domain`) with each ask."""
    return services.asks.terms()


@router.get("/asks/channels/{asker}", response_model=ChannelState)
def channel(asker: Asker, services: Services) -> ChannelState:
    """`asker`'s channel with this node's operator: what is deposited, redeemed, accepted and
    still available, the cumulative amount the next voucher must name, and any pending
    withdrawal."""
    return services.asks.channel(asker)


@router.get("/asks/withdrawals/{asker}", response_model=dict[str, Any])
def withdrawal_request(asker: Asker, deadline: Deadline, services: Services) -> dict[str, Any]:
    """The typed data `asker` signs (`eth_signTypedData_v4`) to have this node request its
    withdrawal, good until `deadline` and once."""
    return services.asks.withdrawal_request(asker, deadline)


@router.post("/asks/withdrawals/{asker}", response_model=ChannelState)
def request_withdrawal(asker: Asker, body: WithdrawalBody, services: Services) -> ChannelState:
    """Send `asker`'s signed withdrawal request; the withdrawal delay starts, and the node
    redeems the vouchers it accepted at once."""
    signature = bytes.fromhex(body.signature[2:])
    return services.asks.request_withdrawal(asker, body.deadline, signature)


@router.post("/asks/withdrawals/{asker}/complete", response_model=Withdrawn)
def complete_withdrawal(asker: Asker, services: Services) -> Withdrawn:
    """Once the delay has passed, pay `asker` its unspent deposit (to the asker only)."""
    return services.asks.complete_withdrawal(asker)


@router.post("/asks/deposits/{asker}", response_model=ChannelState, dependencies=OperatorOnly)
def gift(asker: Asker, body: DepositBody, services: Services) -> ChannelState:
    """The operator deposits `amount` of its own tokens into `asker`'s channel with it: answers
    the asker may ask for without holding any crypto (the operator's gas and tokens)."""
    context = services.context
    return services.asks.deposit(context.operator, asker=asker, amount=int(body.amount))
