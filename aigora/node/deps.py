"""FastAPI dependencies: the node's services every route works on, and who is asking.

The operator proves itself with its credential (`node.token` in the data directory): the CLI
sends it as `Authorization: Bearer`; a browser signs in once at `/ui/operator` and then holds a
session cookie derived from it (HttpOnly, SameSite=Strict). A request that changes something
on the strength of that cookie alone must also carry the CSRF value derived from it (the `csrf`
form field the console's forms hold, or an `X-CSRF-Token` header), so no other site can make the
operator's browser act. Operator-only routes declare `OperatorOnly`; without a credential they
answer 401, with a wrong one 403.
"""

import hashlib
import hmac
from http.cookies import SimpleCookie
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from aigora.app import App
from aigora.core.errors import AigoraError

OPERATOR_COOKIE = "aigora_operator"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class OperatorRequired(AigoraError):
    """An operator action asked for without the operator's credential (401)."""


class NotOperator(AigoraError):
    """A credential that is not this node's operator's, or a console form without its CSRF
    value (403)."""


def _derived(token: str, purpose: bytes) -> str:
    return hmac.new(token.encode(), b"aigora operator " + purpose, hashlib.sha256).hexdigest()


def session_value(token: str) -> str:
    """The console's cookie: derived from the credential, so the cookie is no bearer token."""
    return _derived(token, b"session")


def csrf_value(token: str) -> str:
    """The value the console's forms carry beside the cookie."""
    return _derived(token, b"csrf")


def _equal(presented: str, expected: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented.encode(), expected.encode())


def credential_matches(presented: str, token: str | None) -> bool:
    """Whether `presented` is the operator's credential (as sent, or typed at sign-in)."""
    return bool(token) and _equal(presented.strip(), token)


def bearer_matches(authorization: str, token: str | None) -> bool:
    """Whether an `Authorization` header carries the operator's credential."""
    scheme, _, presented = authorization.partition(" ")
    return scheme.lower() == "bearer" and credential_matches(presented, token)


def cookie_matches(cookie: str, token: str | None) -> bool:
    """Whether a session cookie is the operator's."""
    return bool(token) and _equal(cookie, session_value(token))


def scope_is_operator(scope: dict) -> bool:
    """Whether the request carries this node's operator credential (the bearer token, or the
    console's cookie), from its ASGI scope: the middleware has no `Request`. A node started
    without a token has no operator over HTTP."""
    token = scope["app"].state.operator_token if "app" in scope else None
    headers = {k.decode("latin1"): v.decode("latin1") for k, v in scope.get("headers", ())}
    if bearer_matches(headers.get("authorization", ""), token):
        return True
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header proves nothing
        return False
    morsel = jar.get(OPERATOR_COOKIE)
    return morsel is not None and cookie_matches(morsel.value, token)


def get_services(request: Request) -> App:
    return request.app.state.services


def by_operator(request: Request) -> bool:
    """`scope_is_operator` for a route."""
    return scope_is_operator(request.scope)


def check_operator(request: Request, csrf: str = "") -> None:
    """Refuse anyone but the operator: 401 without a credential, 403 with a wrong one, or with
    the cookie alone on a change that carries no CSRF value (`csrf`, else the header)."""
    token: str | None = request.app.state.operator_token
    authorization = request.headers.get("authorization", "")
    if authorization:
        if bearer_matches(authorization, token):
            return
        raise NotOperator("that is not this node's operator credential (node.token)")
    cookie = request.cookies.get(OPERATOR_COOKIE, "")
    if not cookie:
        raise OperatorRequired(
            "this is an operator action: send the token in the node's data directory "
            "(node.token) as `Authorization: Bearer`, or sign in at /ui/operator"
        )
    if not cookie_matches(cookie, token):
        raise NotOperator("this browser's operator session is not valid; sign in again")
    if request.method in SAFE_METHODS or not token:
        return
    presented = csrf or request.headers.get(CSRF_HEADER, "")
    if not _equal(presented, csrf_value(token)):
        raise NotOperator("the form's CSRF value is missing or wrong; reload the page")


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="operator",
    description="The operator's credential: the token in `node.token` in the data directory.",
)


def require_operator(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    check_operator(request)


Services = Annotated[App, Depends(get_services)]
ByOperator = Annotated[bool, Depends(by_operator)]
OperatorOnly = [Depends(require_operator)]
"""`dependencies=` of a route only the operator may call (declared in the OpenAPI document)."""
