"""The node's FastAPI application: routers per area over one `App` (the node's services)."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from aigora import __version__
from aigora.app import Answers, App, NodeContext
from aigora.node.deps import scope_is_operator
from aigora.node.errors import ERROR_RESPONSES, install_error_handlers
from aigora.node.guard import BodyLimit, RateLimit
from aigora.node.routers import (
    anchors,
    answers,
    asks,
    chain,
    content,
    disputes,
    governance,
    health,
    labels,
    network,
    pages,
    payouts,
    reputation,
)

DESCRIPTION = """\
An Aigora node: verifiable answers, signed provenance, community reputation and on-chain payouts.
Every amount is a decimal string in the token's smallest unit. Every error is a JSON `Error`
(`error`: its kind, `detail`: what went wrong and what to do) with a 4xx status when the request
can be fixed, 5xx when the node or its chain failed.
"""


def create_app(
    context: NodeContext, answering: Answers | None = None, operator_token: str | None = None
) -> FastAPI:
    """The app over an open node; `answering` is the answer service (made here unless given);
    a request carrying `operator_token` comes from the operator (none: nobody over HTTP is).
    Every request passes `aigora.node.guard` first: trusted proxies, rate limits, body caps."""
    app = FastAPI(
        title="Aigora node",
        version=__version__,
        description=DESCRIPTION,
        responses=ERROR_RESPONSES,
    )
    services = App(context, answering)
    app.state.services = services
    app.state.context = context
    app.state.operator_token = operator_token
    install_error_handlers(app)
    for router in (
        health.router,
        chain.router,
        content.router,
        anchors.router,
        reputation.router,
        answers.router,
        asks.router,
        disputes.router,
        payouts.router,
        labels.router,
        network.router,
        governance.router,
        pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    # The outermost runs first: the client's address, then its rate, then the body's size.
    config = context.config
    app.add_middleware(BodyLimit, default_cap=config.limits.max_body_bytes)
    app.add_middleware(RateLimit, limits=config.limits, is_operator=scope_is_operator)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=config.node.trusted_proxies)
    return app
