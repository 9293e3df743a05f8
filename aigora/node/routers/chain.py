"""The chain the node runs on, its contracts and the operator's standing."""

from fastapi import APIRouter

from aigora.app import ChainStatus
from aigora.node.deps import Services

router = APIRouter(prefix="/chain", tags=["chain"])


@router.get("/status", response_model=ChainStatus)
def status(services: Services) -> ChainStatus:
    return services.chain_status()
