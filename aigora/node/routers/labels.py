"""The labeling marketplace over HTTP: post and fund jobs, fetch tasks, submit signed answers,
export accepted labels."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from aigora.labels import LabelingError, parse_spec
from aigora.node.deps import Context

router = APIRouter(tags=["labeling"])

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
JOB_ID = r"^0x[0-9a-fA-F]{64}$"
MAX_JOB_BYTES = 16 * 1024 * 1024


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(pattern=JOB_ID)
    item: int = Field(ge=0)
    labeler: str = Field(pattern=ADDRESS)
    label: int = Field(ge=0)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


def labels_of(request: Request):
    return request.app.state.labels


@router.post("/jobs")
async def post_job(request: Request) -> dict[str, Any]:
    """Record a job spec; answers `job_id` and the escrow to put in `Bounties.open_job`."""
    raw = await request.body()
    if len(raw) > MAX_JOB_BYTES:
        raise LabelingError(f"a job spec is at most {MAX_JOB_BYTES} bytes")
    return await asyncio.to_thread(labels_of(request).post, parse_spec(raw))


@router.get("/jobs/{job_id}")
def show_job(
    job_id: Annotated[str, Path(pattern=JOB_ID)], request: Request, context: Context
) -> dict[str, Any]:
    """Whether the job's escrow is on-chain, and the EIP-712 domain its answers are signed in."""
    funded = labels_of(request).funded(job_id)
    return {"job_id": job_id, "funded": funded, "domain": context.domain.as_dict()}


@router.get("/tasks/next")
def next_task(
    labeler: Annotated[str, Query(pattern=ADDRESS)], request: Request, context: Context
) -> dict[str, Any]:
    """Assign the labeler its next item; `task` is null when there is nothing to do."""
    task = labels_of(request).next(labeler)
    return {"task": None if task is None else task.__dict__, "domain": context.domain.as_dict()}


@router.post("/answers", status_code=201)
def answer(body: AnswerBody, request: Request) -> dict[str, Any]:
    signature = bytes.fromhex(body.signature[2:])
    labels_of(request).answer(body.job_id, body.item, body.labeler, body.label, signature)
    return {"accepted_for_review": True, "job_id": body.job_id, "item": body.item}


@router.get("/jobs/{job_id}/labels")
def export(job_id: Annotated[str, Path(pattern=JOB_ID)], request: Request) -> dict[str, Any]:
    """Items with a trusted label, as validation rows for training value."""
    return {"job_id": job_id, "rows": labels_of(request).export(job_id)}
