"""Ask and verify; the public data verifiers fetch by root (models, snapshots) and receipts."""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from aigora.app import Answer, SnapshotInfo, SnapshotList, VerdictReport
from aigora.asks import Payment
from aigora.core.errors import AigoraError
from aigora.index import SnapshotState
from aigora.node.deps import ByOperator, OperatorOnly, Services
from aigora.verify import MAX_K, ReceiptDocument, loads_document

router = APIRouter(tags=["answers"])
MAX_RECEIPT_BYTES = 256 * 1024
BINARY = {200: {"content": {"application/octet-stream": {}}, "description": "The file."}}


class PaymentBody(BaseModel):
    """A voucher paying for this ask: the asker's EIP-712 signature over `Voucher(asker,
    operator, cumulative)` in the domain `GET /asks/terms` gives, `cumulative` being the
    `next_cumulative` of `GET /asks/channels/{asker}`."""

    model_config = ConfigDict(extra="forbid")
    asker: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    cumulative: str = Field(pattern=r"^[0-9]{1,78}$")
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")

    def payment(self) -> Payment:
        return Payment.parse(self.asker, self.cumulative, self.signature)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
    k: int = Field(default=5, ge=1, le=MAX_K)
    payment: PaymentBody | None = None


async def receipt_body(request: Request) -> ReceiptDocument:
    """The request body as a receipt document (at most `MAX_RECEIPT_BYTES`)."""
    raw = await request.body()
    if len(raw) > MAX_RECEIPT_BYTES:
        raise AigoraError(f"a receipt document is at most {MAX_RECEIPT_BYTES} bytes")
    return loads_document(raw)


RECEIPT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
        "description": "A receipt document, as `aigora ask --receipt-out` writes it.",
    }
}


@router.post("/ask", response_model=Answer)
def ask(body: AskRequest, services: Services, operator: ByOperator) -> Answer:
    """The exact top-k passages for the query, with a signed receipt anyone can verify. A node
    that charges a fee answers against `payment`, a voucher on the asker's channel (402 when
    there is none or the channel does not cover it, 409 when its cumulative is not the next
    one, 400 when it is not the asker's signature), and its operator (`Authorization: Bearer`
    and the token in `node.token`) for free."""
    payment = None if body.payment is None else body.payment.payment()
    return services.answers.answer(body.query, body.k, by_operator=operator, payment=payment)


@router.post("/verify", response_model=VerdictReport, openapi_extra=RECEIPT_BODY)
async def verify_receipt(
    request: Request, services: Services, source: str | None = None, model: str | None = None
) -> VerdictReport:
    """Re-execute a receipt document: VALID or INVALID with the failed rule and the first point
    of difference. `source`: a node URL to fetch the model and snapshot from, besides this node
    and the operator's endpoint. `model`: the one model root to accept (default: the node's
    `[verify] model`, else any the operator registered)."""
    document = await receipt_body(request)
    verdict = await asyncio.to_thread(services.answers.verify, document, source, model)
    return VerdictReport.of(verdict)


@router.get("/receipts/{digest}", response_model=dict[str, Any])
def receipt(digest: str, services: Services) -> dict[str, Any]:
    """A receipt this node issued (a receipt document), with its anchor proof once anchored."""
    return services.answers.receipt(digest).to_json()


@router.post("/snapshots", response_model=SnapshotState, dependencies=OperatorOnly)
def refresh(services: Services) -> SnapshotState:
    """Snapshot newly admitted content now and register the snapshot on-chain."""
    return services.snapshots.refresh()


@router.get("/snapshots", response_model=SnapshotList)
def snapshots(services: Services, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> SnapshotList:
    """The newest snapshots, newest first."""
    return services.snapshots.list(limit)


@router.get("/snapshots/{root}", response_model=SnapshotInfo)
def snapshot(root: str, services: Services) -> SnapshotInfo:
    return services.snapshots.get(root)


@router.get("/snapshots/{root}/data", response_class=FileResponse, responses=BINARY)
def snapshot_data(root: str, services: Services) -> Response:
    """The snapshot file (.npz: model root, CID digests, int8 embeddings); check its root."""
    path = services.snapshots.data_path(root)
    return FileResponse(path, media_type="application/octet-stream")


@router.get("/models/{root}", response_class=FileResponse, responses=BINARY)
def model_file(root: str, services: Services) -> Response:
    """The integer model file (safetensors) whose Merkle root is `root`."""
    path = services.snapshots.model_path(root)
    return FileResponse(path, media_type="application/octet-stream")
