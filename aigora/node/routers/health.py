"""Liveness: is the node up, and on which chain."""

from fastapi import APIRouter
from pydantic import BaseModel

from aigora import __version__
from aigora.node.deps import Services

router = APIRouter(tags=["node"])


class Health(BaseModel):
    status: str
    version: str
    chain_id: int
    block_number: int
    operator: str


@router.get("/health", response_model=Health)
def health(services: Services) -> Health:
    context = services.context
    return Health(
        status="ok",
        version=__version__,
        chain_id=context.chain.chain_id,
        block_number=context.chain.block_number(),
        operator=context.operator.address,
    )
