"""Anchored batches: list them, and anchor what is pending now."""

from typing import Annotated

from fastapi import APIRouter, Query

from aigora.app import AnchoredNow, AnchorList
from aigora.node.deps import OperatorOnly, Services

router = APIRouter(tags=["anchors"])


@router.post("/anchor", response_model=AnchoredNow, dependencies=OperatorOnly)
def anchor_now(services: Services) -> AnchoredNow:
    """Anchor every pending batch of content, attestations and receipts (a transaction each)."""
    return services.content.anchor()


@router.get("/anchors", response_model=AnchorList)
def anchors(services: Services, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> AnchorList:
    return services.content.anchors(limit)
