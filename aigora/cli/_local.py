"""How a command reaches a use case: on the node opened here, or, while `aigora up` holds the
data directory's chain, on that node over HTTP; either way it gets the same typed result.

Commands that need no chain open the store alone (`open_store`: safe beside a running node).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from aigora.app import (
    App,
    NodeContext,
    NoNode,
    open_chain_view,
    open_node,
    operator_token,
    running_node_url,
)
from aigora.cli.options import passphrase
from aigora.core.errors import AigoraError, DataDirInUse
from aigora.verify import ReceiptDocument, loads_document

R = TypeVar("R")


class RemoteNode:
    """A running node's HTTP API, answering with the application layer's typed results; with
    `token` (the node's `node.token`), every request proves it comes from the operator."""

    def __init__(
        self, url: str, client: httpx.Client | None = None, token: str | None = None
    ) -> None:
        self.url = url
        self._client = client
        self._token = token

    def __repr__(self) -> str:
        return f"RemoteNode({self.url!r})"

    @classmethod
    def holding(cls, directory: Path) -> "RemoteNode":
        """The node that holds a data directory's embedded chain (its lock keeps us out); whoever
        can read the directory is its operator, and sends the token found there."""
        url = running_node_url(directory)
        if url is None:
            raise DataDirInUse(
                f"the chain in {directory} is locked by another process that serves no API"
            )
        return cls(url, token=operator_token(directory))

    def call(
        self,
        method: str,
        path: str,
        result: Any,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send the request and read the answer as `result` (a type pydantic validates); one
        line of error when no node answers, and the node's own message on a refusal (4xx)."""
        send = self._client.request if self._client is not None else httpx.request
        try:
            response = send(
                method,
                f"{self.url}{path}",
                json=json,
                content=content,
                params={k: v for k, v in (params or {}).items() if v is not None},
                headers={"Authorization": f"Bearer {self._token}"} if self._token else None,
                **({} if self._client is not None else {"timeout": 600}),
            )
        except httpx.HTTPError as exc:
            raise AigoraError(
                f"the running node at {self.url} did not answer {path}: {exc}"
            ) from None
        if 400 <= response.status_code < 500:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise AigoraError(str(detail))
        if response.status_code != 200 and response.status_code != 201:
            raise AigoraError(
                f"the running node at {self.url} failed on {path} ({response.status_code})"
            )
        try:
            return TypeAdapter(result).validate_python(response.json())
        except (ValueError, ValidationError) as exc:
            raise AigoraError(f"the node at {self.url} answered {path} unreadably: {exc}") from None


@dataclass(frozen=True)
class UseCase(Generic[R]):
    """One use case as a command runs it: `local` on the services of a node opened here, or the
    same request to a running node, whose answer is read back as `result` (the same type)."""

    local: Callable[[App], R]
    method: str
    path: str
    result: Any
    json: Any = None
    content: bytes | None = None
    params: dict[str, Any] | None = None

    def remote(self, node: RemoteNode) -> R:
        return node.call(
            self.method,
            self.path,
            self.result,
            json=self.json,
            content=self.content,
            params=self.params,
        )


def run_case(directory: Path, case: UseCase[R], *, key: bool = True) -> R:
    """Run `case` on the node opened here, or on the node that holds the data directory;
    `key=False` opens the chain without unlocking the operator key."""
    opener = on_node if key else on_chain_view
    return opener(directory, case.local, case.remote)


def require_dir(directory: Path) -> None:
    if not directory.is_dir():
        raise NoNode(f"no node in {directory}; start one with `aigora up`")


def on_node(directory: Path, local: Callable[[App], R], remote: Callable[[RemoteNode], R]) -> R:
    """Run `local` on the node opened here (the operator key unlocked), or `remote` against the
    node that holds the data directory."""
    require_dir(directory)
    try:
        context = open_node(directory, passphrase())
    except DataDirInUse:
        return remote(RemoteNode.holding(directory))
    return _run(context, local)


def on_chain_view(
    directory: Path, local: Callable[[App], R], remote: Callable[[RemoteNode], R]
) -> R:
    """Like `on_node`, but opening the chain without unlocking any key or deploying anything."""
    require_dir(directory)
    try:
        context = open_chain_view(directory)
    except DataDirInUse:
        return remote(RemoteNode.holding(directory))
    return _run(context, local)


def _run(context: NodeContext, local: Callable[[App], R]) -> R:
    try:
        return local(App(context))
    finally:
        context.close()


def read_receipt(path: Path) -> ReceiptDocument:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AigoraError(f"cannot read {path}: {exc.strerror}") from None
    return loads_document(data)
