"""Map our exceptions to HTTP answers: a user's mistake is a 4xx with a message, never a 500 page
with a traceback. Anything unexpected is logged and answered with a plain 500 message. Every
error body is one schema, `Error`, declared for every route in the OpenAPI document."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from aigora.app import (
    AlreadyVoted,
    NoBounties,
    NoDisputes,
    NoDistributor,
    NoGovernance,
    NoNode,
    NoSnapshot,
    NotInNetwork,
    PayloadTooLarge,
    PaymentRequired,
    PolicyUnreadable,
    QuotaExceeded,
)
from aigora.asks import NoTimeToRedeem, StaleVoucher
from aigora.content import Replay
from aigora.core.errors import (
    AigoraError,
    ChainUnreachable,
    ContractRevert,
    DataDirInUse,
    NotFound,
)
from aigora.node.deps import NotOperator, OperatorRequired
from aigora.payouts import NothingToClaim, NothingToClose, PayoutError
from aigora.verify import NoClaim, Unavailable

log = logging.getLogger("aigora.node")


class Error(BaseModel):
    """What went wrong: `error` names the kind (an exception name, or `InvalidRequest`,
    `NotFound`, `InternalError`), `detail` says what and what to do about it."""

    error: str
    detail: Any


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": Error, "description": "The request cannot be served as sent; see detail."},
    "5XX": {"model": Error, "description": "The node or its chain failed; see the node's log."},
}

_STATUS: list[tuple[type[AigoraError], int]] = [
    (OperatorRequired, 401),
    (NotOperator, 403),
    (NotFound, 404),
    (NoNode, 404),
    (PaymentRequired, 402),
    (Replay, 409),
    (StaleVoucher, 409),
    (PayloadTooLarge, 413),
    (QuotaExceeded, 429),
    (ContractRevert, 409),
    (NoSnapshot, 409),
    (NoClaim, 409),
    (NoDisputes, 409),
    (NoDistributor, 409),
    (NoBounties, 409),
    (NotInNetwork, 409),
    (NoGovernance, 409),
    (AlreadyVoted, 409),
    (PolicyUnreadable, 409),
    (NothingToClose, 409),
    (NothingToClaim, 409),
    (PayoutError, 409),
    (Unavailable, 502),
    (NoTimeToRedeem, 503),
    (ChainUnreachable, 503),
    (DataDirInUse, 503),
]


def status_for(exc: AigoraError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def _error(status: int, kind: str, detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content=Error(error=kind, detail=detail).model_dump())


def context_anchor_interval(request: Request) -> int:
    """When a full pending pool frees room: the node's next anchoring pass."""
    return request.app.state.context.config.node.anchor_interval_s


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AigoraError)
    async def _aigora_error(request: Request, exc: AigoraError) -> JSONResponse:
        response = _error(status_for(exc), type(exc).__name__, str(exc))
        if isinstance(exc, OperatorRequired):
            response.headers["WWW-Authenticate"] = 'Bearer realm="aigora operator"'
        if isinstance(exc, QuotaExceeded):
            response.headers["Retry-After"] = str(max(1, context_anchor_interval(request)))
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return _error(422, "InvalidRequest", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "NotFound" if exc.status_code == 404 else "HTTPError"
        return _error(exc.status_code, kind, exc.detail)

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        """A database too busy to take the write in time (SQLite's lock past its timeout) is
        the node's load, not a bug: 503 and when to try again. Anything else is a 500."""
        if "locked" not in str(exc.orig).lower() and "busy" not in str(exc.orig).lower():
            return await _unexpected(request, exc)
        log.warning("database busy on %s %s", request.method, request.url.path)
        response = _error(503, "Busy", "the node is too busy to record this now; try again")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return _error(500, "InternalError", "internal error; see the node's log")
