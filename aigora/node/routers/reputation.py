"""Published reputation runs: what was computed, from which inputs, and how to recompute it."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from aigora.app import RunList
from aigora.node.deps import Services

router = APIRouter(prefix="/reputation", tags=["reputation"])
JSON_DOCUMENT = {
    200: {
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "The run document, canonical JSON (RFC 8785).",
    }
}


@router.get("/runs", response_model=RunList)
def runs(services: Services, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> RunList:
    return services.reputation.runs(limit)


@router.get("/runs/{run_id}/document", response_class=Response, responses=JSON_DOCUMENT)
def document(run_id: Annotated[int, Path(ge=1, lt=2**63)], services: Services) -> Response:
    """The published inputs and result (canonical JSON): everything needed to recompute the run."""
    return Response(services.reputation.document(run_id), media_type="application/json")
