"""Where a node gets a batch's signed items and bodies: a peer over HTTP, or an export file.

Both are untrusted: whatever they return is checked (`_batches`) before anything is stored.
"""

import base64
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import httpx

from aigora.content import Signed, service
from aigora.core.errors import AigoraError
from aigora.network._batches import MAX_PAGE, BadBatch

MAX_BODY_BYTES = 10 * 1024 * 1024
"""The largest body a peer may send: the largest a node accepts when publishing."""
MAX_PAGE_BYTES = 8 * 1024 * 1024
"""The largest batch page read from a peer: 1,000 of the largest items (a manifest with a
2,048-character URL and 16 parents is under 4 KiB of JSON) with room to spare."""
EXPORT_FORMAT = "aigora-batches/1"
FETCHERS = 8
"""Bodies fetched from one peer at a time."""


class PeerUnavailable(AigoraError):
    """A peer could not be reached, or does not have what was asked for."""


class PeerUnreachable(PeerUnavailable):
    """A peer could not be reached at all (its URL, its connection, its deadline): not worth
    asking again in the same pass."""


class BatchSource(Protocol):
    """Something that serves anchored batches by root and bodies by CID."""

    name: str

    def items(self, root: str, expected: int) -> list[Signed]: ...

    def bodies(self, cids: list[str]) -> dict[str, bytes]: ...


def _items_of(page: Any, where: str) -> list[Signed]:
    if not isinstance(page, dict) or not isinstance(page.get("items"), list):
        raise BadBatch(f"{where} did not serve a batch page")
    try:
        return [service.signed_from_document(document) for document in page["items"]]
    except AigoraError as exc:
        raise BadBatch(f"{where}: {exc}") from None


class PeerSource:
    """A node serving `GET /batches/{root}?offset=&limit=` and `GET /content/{cid}/body`.

    Nothing it sends is held past a limit: a page is read up to `MAX_PAGE_BYTES` and a body up
    to `MAX_BODY_BYTES`, each request ends `timeout_s` after it started however slowly the peer
    trickles, and a whole batch gets `timeout_s` per page it can have. A peer that cannot be
    reached at all raises `PeerUnreachable`, so a pass can stop asking it."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.name = url.rstrip("/")
        self.timeout_s = timeout_s
        try:
            # One connection per request, so the deadline's watchdog always holds its socket.
            self._client = httpx.Client(
                base_url=self.name,
                timeout=timeout_s,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
        except httpx.InvalidURL as exc:
            raise PeerUnreachable(f"{self.name!r} is not a URL: {exc}") from None
        self._inline: dict[str, bytes] = {}

    def close(self) -> None:
        self._client.close()

    def _get(
        self, path: str, limit: int, deadline: float, params: dict[str, int] | None = None
    ) -> bytes:
        """The body of a 200 answer to GET `path`, at most `limit` bytes, by `deadline`."""
        deadline = min(deadline, time.monotonic() + self.timeout_s)
        watchdog = _Watchdog(deadline)
        try:
            with self._client.stream(
                "GET", path, params=params, extensions={"trace": watchdog.trace}
            ) as response:
                if response.status_code == 404:
                    raise PeerUnavailable(f"{self.name} does not have {path}")
                if response.status_code != 200:
                    raise PeerUnavailable(f"{self.name}{path} answered {response.status_code}")
                return _read_bounded(response, limit, deadline, f"{self.name}{path}")
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if watchdog.fired:
                raise PeerUnreachable(f"{self.name}{path} was cut off at its deadline") from None
            raise PeerUnreachable(f"cannot reach {self.name}: {exc}") from None
        finally:
            watchdog.cancel()

    def items(self, root: str, expected: int) -> list[Signed]:
        """Every page of the batch, refusing to read past what the anchor says it holds, and
        refusing a page that does not move the offset on."""
        items: list[Signed] = []
        offset = 0
        deadline = time.monotonic() + self.timeout_s * (1 + expected // MAX_PAGE)
        while True:
            params = {"offset": offset, "limit": MAX_PAGE}
            data = self._get(f"/batches/{root}", MAX_PAGE_BYTES, deadline, params)
            page = _json(data, f"{self.name} served a batch page")
            served = _items_of(page, self.name)
            self._inline.update(_inline_bodies(page, self.name))
            items.extend(served)
            if len(items) > expected:
                raise BadBatch(f"{self.name} served more than the {expected} anchored items")
            following = page.get("next_offset")
            if following is None:
                return items
            if (
                not served
                or isinstance(following, bool)
                or not isinstance(following, int)
                or following != len(items)
            ):
                raise BadBatch(f"{self.name} served a page with a wrong next_offset")
            offset = following

    def body(self, cid: str) -> bytes:
        deadline = time.monotonic() + self.timeout_s
        return self._get(f"/content/{cid}/body", MAX_BODY_BYTES, deadline)

    def bodies(self, cids: list[str]) -> dict[str, bytes]:
        """Each body: from the batch pages when the peer sent it inline (checked against its
        CID by the importer like any other), else by CID, `FETCHERS` requests at a time."""
        found = {cid: self._inline.pop(cid) for cid in cids if cid in self._inline}
        missing = [cid for cid in cids if cid not in found]
        with ThreadPoolExecutor(max_workers=FETCHERS) as pool:
            found.update(zip(missing, pool.map(self.body, missing), strict=True))
        return found


class _Watchdog:
    """Shuts a request's socket down at its deadline. httpx's timeouts bound each read, not the
    request: a peer sending a byte of its headers or body just inside the read timeout would
    hold the pass for as long as it liked. The socket comes from httpcore's trace of the
    connection it opens."""

    def __init__(self, deadline: float) -> None:
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            sock = info["return_value"].get_extra_info("socket")
            with self._lock:
                if sock is not None:
                    self._sockets.append(sock)
                if self.fired:
                    self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _read_bounded(response: httpx.Response, limit: int, deadline: float, where: str) -> bytes:
    """The (decoded) body, refused past `limit` bytes or `deadline`, whatever the peer's
    Content-Length says and however slowly it sends."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadBatch(f"{where} announced {declared} bytes; at most {limit} are read")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limit:
            raise BadBatch(f"{where} sent more than {limit} bytes")
        if time.monotonic() > deadline:
            raise PeerUnreachable(f"{where} was still sending at its deadline")
        chunks.append(chunk)
    return b"".join(chunks)


def _inline_bodies(page: dict[str, Any], where: str) -> dict[str, bytes]:
    """The bodies a page carries inline (`{"bodies": {cid: base64}}`, optional)."""
    bodies = page.get("bodies") or {}
    if not isinstance(bodies, dict):
        raise BadBatch(f"{where} served a page whose bodies are not an object")
    try:
        return {str(cid): base64.b64decode(text, validate=True) for cid, text in bodies.items()}
    except (TypeError, ValueError):
        raise BadBatch(f"{where} served a body that is not base64") from None


def _json(data: bytes, what: str) -> Any:
    """JSON of untrusted bytes: anything unreadable (not UTF-8, not JSON, nested past what the
    parser recurses into) is the sender's fault, a `BadBatch`."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise BadBatch(f"{what} that is not JSON") from None


class FileSource:
    """An export file: `{"format", "batches": [{"root", "items": [...]}], "bodies": {cid: b64}}`
    (what `export_batches` writes). Read once; served from memory."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PeerUnavailable(f"cannot read {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
            raise PeerUnavailable(f"{path} is not an {EXPORT_FORMAT} file")
        self._batches = {str(batch["root"]).lower(): batch for batch in data.get("batches", [])}
        self._bodies: dict[str, str] = data.get("bodies", {})

    def roots(self) -> Iterator[str]:
        return iter(self._batches)

    def items(self, root: str, expected: int) -> list[Signed]:
        batch = self._batches.get(root.lower())
        if batch is None:
            raise PeerUnavailable(f"{self.name} has no batch {root}")
        return _items_of(batch, self.name)

    def bodies(self, cids: list[str]) -> dict[str, bytes]:
        missing = [cid for cid in cids if cid not in self._bodies]
        if missing:
            raise PeerUnavailable(f"{self.name} has no body {missing[0]}")
        return {cid: base64.b64decode(self._bodies[cid]) for cid in cids}


def export_batches(path: Path, batches: list[dict[str, Any]], bodies: dict[str, bytes]) -> None:
    """Write an export file of batches (`{"root", "items": [document, ...]}`) and bodies."""
    data = {
        "format": EXPORT_FORMAT,
        "batches": batches,
        "bodies": {cid: base64.b64encode(body).decode("ascii") for cid, body in bodies.items()},
    }
    path.write_text(json.dumps(data), encoding="utf-8")
