"""What a public node refuses before any route runs: bodies past their cap (413) and clients past
their rate (429 with `Retry-After`). Who a client is comes from the socket, or from
`X-Forwarded-For` when the socket is a configured proxy (`[node] trusted_proxies`, applied by
uvicorn's `ProxyHeadersMiddleware` outside these two); the operator's credential is never limited.

The rules are small pure functions (`client_key`, `rate_class`, `body_cap`); the two ASGI
middlewares only apply them. Rates are counted in a moving window per client and class by the
`limits` library, in memory: a node is one process, and a restart forgets the counts.
"""

import ipaddress
import json
import math
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Literal

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from aigora.app import MAX_BODY_BYTES, LimitsConfig
from aigora.node.deps import SAFE_METHODS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RateClass = Literal["ask", "write"]
ASK_PATHS = ("/ask", "/ui/ask", "/verify")
"""Requests that run the engine (an ask embeds the query; a verification re-executes it)."""
IPV6_CLIENT_PREFIX = 64
"""An IPv6 client is its /64: one subscriber commonly holds a whole /64, so counting single
addresses would give each of them 2**64 rate limits."""

CONTENT_BODY_BYTES = (MAX_BODY_BYTES + 2) // 3 * 4 + 64 * 1024
"""`POST /content` carries the body base64 (4 bytes per 3) beside its manifest."""
JOB_BODY_BYTES = 16 * 1024 * 1024
"""A labeling job spec carries its items."""
BODY_CAPS = {
    "/content": CONTENT_BODY_BYTES,
    "/content/batch": CONTENT_BODY_BYTES,
    "/jobs": JOB_BODY_BYTES,
}


def client_key(host: str | None) -> str:
    """The client a rate limit counts: its IPv4 address, or its IPv6 /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def rate_class(method: str, path: str) -> RateClass | None:
    """Which limit a request counts against: asks and verifications (`ask`), every other
    request that changes something, and task assignment (`write`); reads are free."""
    if method == "POST" and (path in ASK_PATHS or _is_receipt_verification(path)):
        return "ask"
    if method not in SAFE_METHODS or path == "/tasks/next":
        return "write"
    return None


def _is_receipt_verification(path: str) -> bool:
    return path.startswith("/ui/receipts/") and path.endswith("/verify")


def body_cap(path: str, default: int) -> int:
    """The most bytes a request body to `path` may have."""
    return BODY_CAPS.get(path, default)


def retry_after(reset_at: float, now: float) -> int:
    """Whole seconds until the window frees a request (at least 1)."""
    return max(1, math.ceil(reset_at - now))


async def _refuse(
    send: Send, status: int, kind: str, detail: str, headers: list[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps({"error": kind, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse a body past `body_cap` with 413 before the route reads it: at once from its
    `Content-Length`, else while it streams in (the part read is dropped, never parsed)."""

    def __init__(self, app: ASGIApp, default_cap: int) -> None:
        self.app = app
        self.default_cap = default_cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        cap = body_cap(scope["path"], self.default_cap)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            await _too_large(send, cap)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > cap:
                await _too_large(send, cap)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _too_large(send: Send, cap: int) -> None:
    await _refuse(
        send, 413, "PayloadTooLarge", f"a request body here is at most {cap} bytes; send less"
    )


class RateLimit:
    """Refuse a client past its class's rate with 429 and `Retry-After`. `is_operator` tells
    the operator's requests apart (by their credential), which are never limited."""

    def __init__(
        self, app: ASGIApp, limits: LimitsConfig, is_operator: Callable[[Scope], bool]
    ) -> None:
        self.app = app
        self.is_operator = is_operator
        self.items: dict[RateClass, RateLimitItem] = {
            "ask": RateLimitItemPerMinute(limits.asks_per_minute),
            "write": RateLimitItemPerMinute(limits.writes_per_minute),
        }
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = rate_class(scope.get("method", ""), scope.get("path", ""))
        if scope["type"] != "http" or kind is None or self.is_operator(scope):
            await self.app(scope, receive, send)
            return
        item = self.items[kind]
        client = scope.get("client")
        key = client_key(client[0] if client else None)
        if not self.limiter.hit(item, kind, key):
            reset_at, _ = self.limiter.get_window_stats(item, kind, key)
            wait = retry_after(reset_at, time.time())
            detail = (
                f"too many {'asks' if kind == 'ask' else 'writes'} from your address "
                f"(at most {item.amount} a minute); try again in {wait} s"
            )
            await _refuse(send, 429, "RateLimited", detail, [(b"retry-after", str(wait).encode())])
            return
        await self.app(scope, receive, send)
