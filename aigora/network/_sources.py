"""Where a node gets a batch's signed items and bodies: a peer over HTTP, or an export file.

Both are untrusted: whatever they return is checked (`_batches`) before anything is stored.
"""

import base64
import json
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
EXPORT_FORMAT = "aigora-batches/1"
FETCHERS = 8
"""Bodies fetched from one peer at a time."""


class PeerUnavailable(AigoraError):
    """A peer could not be reached, or does not have what was asked for."""


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
    """A node serving `GET /batches/{root}?offset=&limit=` and `GET /content/{cid}/body`."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        self.name = url.rstrip("/")
        self._client = httpx.Client(base_url=self.name, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()

    def _get(self, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"cannot reach {self.name}: {exc}") from None
        if response.status_code == 404:
            raise PeerUnavailable(f"{self.name} does not have {path}")
        if response.status_code != 200:
            raise PeerUnavailable(f"{self.name}{path} answered {response.status_code}")
        return response

    def items(self, root: str, expected: int) -> list[Signed]:
        """Every page of the batch, refusing to read past what the anchor says it holds."""
        items: list[Signed] = []
        offset = 0
        while True:
            response = self._get(f"/batches/{root}", {"offset": offset, "limit": MAX_PAGE})
            try:
                page = response.json()
            except json.JSONDecodeError:
                raise BadBatch(f"{self.name} served a batch page that is not JSON") from None
            items.extend(_items_of(page, self.name))
            if len(items) > expected:
                raise BadBatch(f"{self.name} served more than the {expected} anchored items")
            following = page.get("next_offset")
            if following is None:
                return items
            if not isinstance(following, int) or following != len(items):
                raise BadBatch(f"{self.name} served a page with a wrong next_offset")
            offset = following

    def body(self, cid: str) -> bytes:
        response = self._get(f"/content/{cid}/body")
        if len(response.content) > MAX_BODY_BYTES:
            raise BadBatch(f"{self.name} sent more than {MAX_BODY_BYTES} bytes for {cid}")
        return response.content

    def bodies(self, cids: list[str]) -> dict[str, bytes]:
        """Each body, `FETCHERS` requests at a time (a batch of short passages is thousands of
        small requests: one at a time, the round trips dominate)."""
        with ThreadPoolExecutor(max_workers=FETCHERS) as pool:
            return dict(zip(cids, pool.map(self.body, cids), strict=True))


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
