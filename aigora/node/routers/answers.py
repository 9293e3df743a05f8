"""Ask and verify; the public data verifiers fetch by root (models, snapshots) and receipts."""

import asyncio
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from aigora.content import service
from aigora.core.errors import AigoraError, NotFound
from aigora.engine._encoder import default_cache_dir
from aigora.index._service import SnapshotState
from aigora.node.answers import Answers
from aigora.node.deps import Context
from aigora.store.answer_models import SnapshotRecord
from aigora.store.db import session_scope
from aigora.verify import MAX_K, ReceiptDocument, loads_document, stored_receipt

router = APIRouter(tags=["answers"])
MAX_RECEIPT_BYTES = 256 * 1024


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=MAX_K)


def answers_of(request: Request) -> Answers:
    return request.app.state.answers


def answer_json(context: Any, document: ReceiptDocument) -> dict[str, Any]:
    """The answer as people read it (sources with author and an excerpt) plus its receipt."""
    results = []
    with session_scope(context.db) as session:
        for rank, result in enumerate(document.results):
            item = service.get_content(session, result.cid)
            body = context.blobs.get(result.cid)
            results.append(
                {
                    "rank": rank,
                    "cid": result.cid,
                    "score": result.score,
                    "author": item.author,
                    "url": item.url,
                    "excerpt": body[:280].decode("utf-8", errors="replace"),
                }
            )
    return {
        "query": document.query,
        "results": results,
        "digest": "0x" + document.digest().hex(),
        "receipt": document.to_json(),
    }


@router.post("/ask")
def ask(body: AskRequest, request: Request, context: Context) -> dict[str, Any]:
    """The exact top-k passages for the query, with a signed receipt anyone can verify."""
    document = answers_of(request).ask(body.query, body.k)
    return answer_json(context, document)


@router.post("/verify")
async def verify_receipt(request: Request, source: str | None = None) -> dict[str, Any]:
    """Re-execute a receipt document (the JSON `aigora ask --receipt-out` writes): VALID or
    INVALID with the failed rule and the first point of difference. `source`: a node URL to
    fetch the model and snapshot from, besides this node and the operator's endpoint."""
    raw = await request.body()
    if len(raw) > MAX_RECEIPT_BYTES:
        raise AigoraError(f"a receipt document is at most {MAX_RECEIPT_BYTES} bytes")
    document = loads_document(raw)
    answers = answers_of(request)
    verdict = await asyncio.to_thread(answers.verify, document, source)
    return verdict.to_json()


@router.get("/receipts/{digest}")
def receipt(digest: str, context: Context) -> dict[str, Any]:
    """A receipt this node issued, with its anchor proof once its batch is anchored."""
    return stored_receipt(context.db, digest).to_json()


def _state_json(state: SnapshotState) -> dict[str, Any]:
    return dict(state.__dict__)


@router.post("/snapshots")
def refresh(request: Request) -> dict[str, Any]:
    """Snapshot newly admitted content now and register the snapshot on-chain."""
    return _state_json(answers_of(request).refresh())


@router.get("/snapshots")
def snapshots(context: Context) -> dict[str, Any]:
    with session_scope(context.db) as session:
        rows = session.scalars(select(SnapshotRecord).order_by(SnapshotRecord.created_at.desc()))
        return {"snapshots": [_record_json(r) for r in rows]}


def _record_json(record: SnapshotRecord) -> dict[str, Any]:
    return {
        "root": record.root,
        "model_root": record.model_root,
        "item_count": record.item_count,
        "parent_root": record.parent_root,
        "embedded_count": record.embedded_count,
        "created_at": record.created_at.isoformat(),
        "registered_tx": record.registered_tx,
        "registered_at": record.registered_at,
    }


def _snapshot_record(context: Any, root: str) -> SnapshotRecord:
    with session_scope(context.db) as session:
        record = session.get(SnapshotRecord, root.lower())
        if record is None:
            raise NotFound(f"no snapshot {root} here")
        session.expunge(record)
        return record


@router.get("/snapshots/{root}")
def snapshot(root: str, context: Context) -> dict[str, Any]:
    return _record_json(_snapshot_record(context, root))


@router.get("/snapshots/{root}/data")
def snapshot_data(root: str, context: Context) -> Response:
    """The snapshot file (.npz: model root, CID digests, int8 embeddings); check its root."""
    record = _snapshot_record(context, root)
    return FileResponse(context.data_dir / record.path, media_type="application/octet-stream")


@router.get("/models/{root}")
def model_file(root: str) -> Response:
    """The integer model file (safetensors) whose Merkle root is `root`."""
    name = root.lower()
    if len(name) != 66 or not name.startswith("0x"):
        raise AigoraError("a model root is 0x and 64 hex digits")
    path = Path(default_cache_dir()) / f"{name}.safetensors"
    if not path.is_file():
        raise NotFound(f"no model {root} here")
    return FileResponse(path, media_type="application/octet-stream")
