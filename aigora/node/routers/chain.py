"""The chain the node runs on, its contracts and the operator's standing."""

from fastapi import APIRouter

from aigora.node.deps import Context
from aigora.node.status import ChainStatus, chain_status

router = APIRouter(prefix="/chain", tags=["chain"])


@router.get("/status", response_model=ChainStatus)
def status(context: Context) -> ChainStatus:
    return chain_status(context.chain, context.deployment, context.operator.address)
