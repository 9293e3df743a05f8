"""Published reputation runs: what was computed, from which inputs, and how to recompute it."""

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from aigora.core.errors import NotFound
from aigora.node.deps import Context
from aigora.store.content_models import ReputationRun
from aigora.store.db import session_scope

router = APIRouter(prefix="/reputation", tags=["reputation"])


@router.get("/runs")
def runs(context: Context, limit: int = 20) -> dict[str, Any]:
    with session_scope(context.db) as session:
        rows = session.scalars(
            select(ReputationRun).order_by(ReputationRun.id.desc()).limit(min(limit, 200))
        )
        return {"runs": [_summary(run) for run in rows]}


@router.get("/runs/{run_id}/document")
def document(run_id: int, context: Context) -> Response:
    """The published inputs and result (canonical JSON): everything needed to recompute the run."""
    with session_scope(context.db) as session:
        run = session.get(ReputationRun, run_id)
        if run is None:
            raise NotFound(f"no reputation run {run_id}")
        cid = run.result_cid
    return Response(context.blobs.get(cid), media_type="application/json")


def _summary(run: ReputationRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "algorithm_version": run.algorithm_version,
        "attestation_root": run.attestation_root,
        "attestation_count": run.attestation_count,
        "params": run.params_json,
        "result_cid": run.result_cid,
        "result_digest": run.result_digest,
        "computed_at": run.computed_at.isoformat(),
    }
