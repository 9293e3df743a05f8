"""The node's FastAPI application: routers per area over one open `NodeContext`."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from aigora import __version__
from aigora.node.answers import Answers
from aigora.node.context import NodeContext
from aigora.node.errors import install_error_handlers
from aigora.node.labels import Labels
from aigora.node.payouts import Payouts
from aigora.node.routers import (
    anchors,
    answers,
    chain,
    content,
    disputes,
    health,
    labels,
    pages,
    payouts,
    reputation,
)

DESCRIPTION = """\
An Aigora node: verifiable answers, signed provenance, community reputation and on-chain payouts.
Every amount is a decimal string in the token's smallest unit.
"""


def create_app(context: NodeContext, answering: Answers | None = None) -> FastAPI:
    """The app over an open node; `answering` is the answer service (made here unless given)."""
    app = FastAPI(title="Aigora node", version=__version__, description=DESCRIPTION)
    app.state.context = context
    app.state.answers = answering or Answers(context)
    app.state.payouts = Payouts(app.state.answers)
    app.state.labels = Labels(context)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(chain.router)
    app.include_router(content.router)
    app.include_router(anchors.router)
    app.include_router(reputation.router)
    app.include_router(answers.router)
    app.include_router(disputes.router)
    app.include_router(payouts.router)
    app.include_router(labels.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app
