"""The node's FastAPI application: routers per area over one open `NodeContext`."""

from fastapi import FastAPI

from aigora import __version__
from aigora.node.context import NodeContext
from aigora.node.errors import install_error_handlers
from aigora.node.routers import anchors, chain, content, health, reputation

DESCRIPTION = """\
An Aigora node: verifiable answers, signed provenance, community reputation and on-chain payouts.
Every amount is a decimal string in the token's smallest unit.
"""


def create_app(context: NodeContext) -> FastAPI:
    app = FastAPI(title="Aigora node", version=__version__, description=DESCRIPTION)
    app.state.context = context
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(chain.router)
    app.include_router(content.router)
    app.include_router(anchors.router)
    app.include_router(reputation.router)
    return app
