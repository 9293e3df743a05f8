"""Payout epochs, relayed claims and earnings. Amounts are decimal strings of base units."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from aigora.node.deps import Context
from aigora.payouts import FeeAuthorization, earnings, epoch_summary

router = APIRouter(tags=["payouts"])

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Account = Annotated[str, Path(pattern=ADDRESS, description="A 0x-hex account address.")]


class FeeBody(BaseModel):
    """The account's consent to pay the relaying node a fee (EIP-712 `ClaimFee`)."""

    model_config = ConfigDict(extra="forbid")

    fee: str = Field(pattern=r"^[0-9]{1,78}$")
    deadline: int = Field(ge=0, lt=2**64)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


def payouts_of(request: Request):
    return request.app.state.payouts


@router.post("/epochs")
async def close(request: Request) -> dict[str, Any]:
    """Close the next payout epoch and post its root (or finish posting an interrupted one)."""
    summary = await asyncio.to_thread(payouts_of(request).close)
    return summary.to_json()


@router.get("/epochs/{number}")
def show(number: Annotated[int, Path(ge=1)], context: Context) -> dict[str, Any]:
    return epoch_summary(context.db, number).to_json()


@router.post("/claims/{account}")
async def claim(
    account: Account, request: Request, body: Annotated[FeeBody | None, Body()] = None
) -> dict[str, Any]:
    """Send `account`'s claim from the newest posted epoch, the node paying the gas. With a
    body, the node keeps `fee` out of the payout, as the account's signature allows."""
    authorization = None
    if body is not None:
        authorization = FeeAuthorization(
            int(body.fee), body.deadline, bytes.fromhex(body.signature[2:])
        )
    result = await asyncio.to_thread(payouts_of(request).claim, account, authorization)
    return result.to_json()


@router.get("/earnings/{account}")
def earned(account: Account, context: Context) -> dict[str, Any]:
    """Every line `account` earned: epoch, source (usage or training), item and amount."""
    lines = earnings(context.db, account)
    return {
        "account": account,
        "total": str(sum(amount for _, _, _, amount, _ in lines)),
        "lines": [
            {"epoch": e, "source": s, "cid": c, "amount": str(a), "status": st}
            for e, s, c, a, st in lines
        ],
    }
