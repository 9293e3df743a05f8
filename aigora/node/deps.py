"""FastAPI dependencies: the open node every route works on."""

from typing import Annotated

from fastapi import Depends, Request

from aigora.node.context import NodeContext


def get_context(request: Request) -> NodeContext:
    return request.app.state.context


Context = Annotated[NodeContext, Depends(get_context)]
