"""FastAPI dependencies: the node's services every route works on."""

from typing import Annotated

from fastapi import Depends, Request

from aigora.app import App


def get_services(request: Request) -> App:
    return request.app.state.services


Services = Annotated[App, Depends(get_services)]
