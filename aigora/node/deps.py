"""FastAPI dependencies: the node's services every route works on, and who is asking."""

import hmac
from typing import Annotated

from fastapi import Depends, Request

from aigora.app import App

OPERATOR_COOKIE = "aigora_operator"
"""The web pages' proof of the operator: the operator token, set by `/ui/operator`."""


def get_services(request: Request) -> App:
    return request.app.state.services


def by_operator(request: Request) -> bool:
    """Whether the request carries this node's operator token (`Authorization: Bearer`, as the
    CLI sends it, or the pages' cookie). A node started without a token has no operator over
    HTTP. The token is compared in constant time and never echoed."""
    expected: str | None = request.app.state.operator_token
    if not expected:
        return False
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        presented = request.cookies.get(OPERATOR_COOKIE, "")
    return bool(presented) and hmac.compare_digest(presented.strip().encode(), expected.encode())


Services = Annotated[App, Depends(get_services)]
ByOperator = Annotated[bool, Depends(by_operator)]
