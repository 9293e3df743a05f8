"""Challenge a receipt on-chain with this node's account; look up and close disputes."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from aigora.core.errors import AigoraError
from aigora.node.deps import Context
from aigora.node.disputes import dispute_state, file_claim, require, resolve
from aigora.node.games import remember_challenge
from aigora.node.routers.answers import MAX_RECEIPT_BYTES, answers_of
from aigora.verify import loads_document

router = APIRouter(tags=["disputes"])


@router.post("/challenges")
async def challenge(request: Request, context: Context, source: str | None = None) -> dict:
    """Verify a receipt and, if it is wrong in a way the contract can recompute, file the claim
    with this node's operator account (which pays the challenger bond). An embedding claim opens
    a game the node then plays on its anchoring interval."""
    raw = await request.body()
    if len(raw) > MAX_RECEIPT_BYTES:
        raise AigoraError(f"a receipt document is at most {MAX_RECEIPT_BYTES} bytes")
    document = loads_document(raw)
    disputes = require(context.deployment.disputes)
    verdict, claim = await asyncio.to_thread(answers_of(request).plan, document, source)
    state = await asyncio.to_thread(
        file_claim,
        context.chain,
        disputes,
        context.deployment.token,
        context.operator,
        document,
        claim,
    )
    if claim.kind == "embedding":
        remember_challenge(context.db, context.chain, disputes, state.dispute_id, document)
    return {"verdict": verdict.to_json(), "claim": claim.kind, "dispute": state.__dict__}


@router.get("/disputes/{dispute_id}")
def show(dispute_id: int, context: Context) -> dict[str, Any]:
    disputes = require(context.deployment.disputes)
    return dispute_state(context.chain, disputes, dispute_id).__dict__


@router.post("/disputes/{dispute_id}/resolve")
def close(dispute_id: int, context: Context) -> dict[str, Any]:
    """Close a dispute whose mover let its deadline pass (an unrebutted omission claim, or an
    embedding game: the silent side loses)."""
    disputes = require(context.deployment.disputes)
    return resolve(context.chain, disputes, context.operator, dispute_id).__dict__
