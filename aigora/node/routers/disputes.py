"""Challenge a receipt on-chain with this node's account; look up and close disputes."""

import asyncio

from fastapi import APIRouter, Request

from aigora.app import ChallengeResult, DisputeState
from aigora.node.deps import OperatorOnly, Services
from aigora.node.routers.answers import RECEIPT_BODY, receipt_body

router = APIRouter(tags=["disputes"])


@router.post(
    "/challenges",
    response_model=ChallengeResult,
    openapi_extra=RECEIPT_BODY,
    dependencies=OperatorOnly,
)
async def challenge(
    request: Request, services: Services, source: str | None = None, dry_run: bool = False
) -> ChallengeResult:
    """Verify a receipt and, if it is wrong in a way the contract can recompute, file the claim
    with this node's operator account (which pays the challenger bond); with `dry_run`, only
    say which claim it would file. An embedding claim opens a game the node then plays on its
    anchoring interval."""
    document = await receipt_body(request)
    return await asyncio.to_thread(services.disputes.challenge, document, source, dry_run)


@router.get("/disputes/{dispute_id}", response_model=DisputeState)
def show(dispute_id: int, services: Services) -> DisputeState:
    return services.disputes.show(dispute_id)


@router.post(
    "/disputes/{dispute_id}/resolve", response_model=DisputeState, dependencies=OperatorOnly
)
def close(dispute_id: int, services: Services) -> DisputeState:
    """Close a dispute whose mover let its deadline pass (an unrebutted omission claim, or an
    embedding game: the silent side loses)."""
    return services.disputes.resolve(dispute_id)


@router.post(
    "/disputes/{dispute_id}/collect", response_model=DisputeState, dependencies=OperatorOnly
)
def collect(dispute_id: int, services: Services) -> DisputeState:
    """Pay a won dispute's challenger its share of the operator's slash, once the share window
    is over and every dispute that may share it is resolved (anyone may send this)."""
    return services.disputes.collect(dispute_id)
