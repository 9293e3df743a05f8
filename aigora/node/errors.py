"""Map our exceptions to HTTP answers: a user's mistake is a 4xx with a message, never a 500 page
with a traceback. Anything unexpected is logged and answered with a plain 500 message."""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from aigora.content.signed import Replay
from aigora.core.errors import (
    AigoraError,
    ChainUnreachable,
    ContractRevert,
    DataDirInUse,
    NotFound,
)
from aigora.node.answers import NoSnapshot
from aigora.node.disputes import NoDisputes
from aigora.node.labels import NoBounties
from aigora.node.payouts import NoDistributor
from aigora.node.routers.content import PayloadTooLarge
from aigora.payouts import NothingToClaim, NothingToClose, PayoutError
from aigora.verify import Unavailable
from aigora.verify._challenge import NoClaim

log = logging.getLogger("aigora.node")

_STATUS: list[tuple[type[AigoraError], int]] = [
    (NotFound, 404),
    (Replay, 409),
    (PayloadTooLarge, 413),
    (ContractRevert, 409),
    (NoSnapshot, 409),
    (NoClaim, 409),
    (NoDisputes, 409),
    (NoDistributor, 409),
    (NoBounties, 409),
    (NothingToClose, 409),
    (NothingToClaim, 409),
    (PayoutError, 409),
    (Unavailable, 502),
    (ChainUnreachable, 503),
    (DataDirInUse, 503),
]


def status_for(exc: AigoraError) -> int:
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status
    return 400


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AigoraError)
    async def _aigora_error(_request: Request, exc: AigoraError) -> JSONResponse:
        return JSONResponse(
            status_code=status_for(exc), content={"error": type(exc).__name__, "detail": str(exc)}
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return JSONResponse(
            status_code=500,
            content={"error": "InternalError", "detail": "internal error; see the node's log"},
        )
