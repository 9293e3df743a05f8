"""The labeling marketplace over HTTP: post and fund jobs, fetch tasks, submit signed answers,
export accepted labels."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from aigora.app import AnswerAccepted, JobInfo, LabelExport, NextTask, PostedJob
from aigora.labels import LabelingError, parse_spec
from aigora.node.deps import Services

router = APIRouter(tags=["labeling"])

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
JOB_ID = r"^0x[0-9a-fA-F]{64}$"
MAX_JOB_BYTES = 16 * 1024 * 1024
JobId = Annotated[str, Path(pattern=JOB_ID)]
JOB_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A job spec (JSON): requester, items with gold answers, labels, bounty.",
    }
}


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    job_id: str = Field(pattern=JOB_ID)
    item: int = Field(ge=0, lt=2**31)
    labeler: str = Field(pattern=ADDRESS)
    label: int = Field(ge=0, lt=2**31)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


@router.post("/jobs", response_model=PostedJob, openapi_extra=JOB_BODY)
async def post_job(request: Request, services: Services) -> PostedJob:
    """Record a job spec; answers `job_id` and the escrow to put in `Bounties.open_job`."""
    raw = await request.body()
    if len(raw) > MAX_JOB_BYTES:
        raise LabelingError(f"a job spec is at most {MAX_JOB_BYTES} bytes")
    return await asyncio.to_thread(services.labels.post, parse_spec(raw))


@router.get("/jobs/{job_id}", response_model=JobInfo)
def show_job(job_id: JobId, services: Services) -> JobInfo:
    """Whether the job's escrow is on-chain, and the EIP-712 domain its answers are signed in."""
    return services.labels.job(job_id)


@router.get("/tasks/next", response_model=NextTask)
def next_task(labeler: Annotated[str, Query(pattern=ADDRESS)], services: Services) -> NextTask:
    """Assign the labeler its next item; `task` is null when there is nothing to do."""
    return services.labels.next(labeler)


@router.post("/answers", status_code=201, response_model=AnswerAccepted)
def answer(body: AnswerBody, services: Services) -> AnswerAccepted:
    signature = bytes.fromhex(body.signature[2:])
    return services.labels.answer(body.job_id, body.item, body.labeler, body.label, signature)


@router.get("/jobs/{job_id}/labels", response_model=LabelExport)
def export(job_id: JobId, services: Services) -> LabelExport:
    """Items with a trusted label, as validation rows for training value."""
    return services.labels.export(job_id)
