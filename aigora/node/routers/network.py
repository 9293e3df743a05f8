"""The network: the batches this node anchored or imported, served to peers page by page, and
where following the network stands."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from aigora.app import BatchPage, NetworkState, SyncResult
from aigora.network import MAX_PAGE
from aigora.node.deps import OperatorOnly, Services

router = APIRouter(tags=["network"])
ROOT = Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The batch's anchored Merkle root.")


@router.get("/batches/{root}", response_model=BatchPage)
def batch(
    services: Services,
    root: Annotated[str, ROOT],
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> BatchPage:
    """The signed items of a content or attestations batch, in leaf order: rebuild the root
    from their EIP-712 digests to check them. Bodies are at `/content/{cid}/body`."""
    return services.network.batch(root, offset, limit)


@router.get("/network", response_model=NetworkState)
def network_state(services: Services) -> NetworkState:
    """The network this node joined, its peers, and the batches found, imported and pending."""
    return services.network.state()


@router.post("/network/sync", response_model=SyncResult, dependencies=OperatorOnly)
def sync_now(services: Services) -> SyncResult:
    """Scan the registry and import every batch peers anchored that this node lacks."""
    return services.network.sync()
