"""Anchored batches: list them, and anchor what is pending now."""

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from aigora.content.anchoring import anchor_all
from aigora.node.deps import Context
from aigora.store.db import session_scope
from aigora.store.models import Anchor

router = APIRouter(tags=["anchors"])


@router.post("/anchor")
def anchor_now(context: Context) -> dict[str, Any]:
    """Anchor every pending batch of content, attestations and receipts (a transaction each)."""
    batches = anchor_all(context.db, context.chain, context.deployment.registry, context.operator)
    return {"batches": [batch.__dict__ for batch in batches]}


@router.get("/anchors")
def anchors(context: Context, limit: int = 50) -> dict[str, Any]:
    with session_scope(context.db) as session:
        rows = session.scalars(select(Anchor).order_by(Anchor.id.desc()).limit(min(limit, 500)))
        return {
            "anchors": [
                {
                    "batch_id": a.batch_id,
                    "kind": a.kind,
                    "root": a.root,
                    "item_count": a.item_count,
                    "tx_hash": a.tx_hash,
                    "block_number": a.block_number,
                    "anchored_by": a.anchored_by,
                    "anchored_at": a.anchored_at.isoformat(),
                }
                for a in rows
            ]
        }
