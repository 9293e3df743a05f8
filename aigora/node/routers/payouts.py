"""Payout epochs, relayed claims and earnings. Amounts are decimal strings of base units."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, ConfigDict, Field

from aigora.app import ClaimReport, Earnings, EpochReport, FeeTerms
from aigora.node.deps import OperatorOnly, Services
from aigora.payouts import FeeAuthorization

router = APIRouter(tags=["payouts"])

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
Account = Annotated[str, Path(pattern=ADDRESS, description="A 0x-hex account address.")]


class FeeBody(BaseModel):
    """The account's consent to pay the relaying node a fee (EIP-712 `ClaimFee`)."""

    model_config = ConfigDict(extra="forbid")

    fee: str = Field(pattern=r"^[0-9]{1,78}$")
    deadline: int = Field(ge=0, lt=2**64)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")

    def authorization(self) -> FeeAuthorization:
        return FeeAuthorization(int(self.fee), self.deadline, bytes.fromhex(self.signature[2:]))


@router.post("/epochs", response_model=EpochReport, dependencies=OperatorOnly)
async def close(services: Services) -> EpochReport:
    """Close the next payout epoch and post its root (or finish posting an interrupted one)."""
    return await asyncio.to_thread(services.payouts.close)


@router.get("/epochs/{number}", response_model=EpochReport)
def show(number: Annotated[int, Path(ge=1, lt=2**63)], services: Services) -> EpochReport:
    return services.payouts.show(number)


@router.get("/claims/{account}/fee", response_model=FeeTerms)
def fee_terms(account: Account, services: Services) -> FeeTerms:
    """The EIP-712 `ClaimFee` an account signs to let this node send its claim and keep `fee`
    (sign `typed_data`, then POST /claims/{account} with fee, deadline and the signature)."""
    return services.payouts.fee_terms(account)


@router.post("/claims/{account}", response_model=ClaimReport)
async def claim(
    account: Account, services: Services, body: Annotated[FeeBody | None, Body()] = None
) -> ClaimReport:
    """Send `account`'s claim from the newest posted epoch, the node paying the gas. With a
    body, the node keeps `fee` out of the payout, as the account's signature allows."""
    authorization = None if body is None else body.authorization()
    return await asyncio.to_thread(services.payouts.claim, account, authorization)


@router.get("/earnings/{account}", response_model=Earnings)
def earned(account: Account, services: Services) -> Earnings:
    """Every line `account` earned: epoch, source (usage or training), item and amount."""
    return services.payouts.earnings(account)
