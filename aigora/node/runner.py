"""Serve an open node over HTTP until Ctrl-C (or SIGTERM), then shut down cleanly.

While it runs, `node.json` in the data directory says where (URL and PID), so CLI commands that
cannot open the embedded chain themselves (the node holds its lock) can ask the node instead;
`node.token` beside it (mode 0600, made at the first start and kept) is the operator's credential
those commands send as a bearer token, and the console pages take at sign-in.
"""

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator

import uvicorn
from fastapi import FastAPI

from aigora.app import (
    NODE_FILE,
    App,
    NodeContext,
    ensure_operator_token,
    log_failure,
    node_url,
)
from aigora.core.errors import AigoraError
from aigora.index import has_text_content
from aigora.node.app import create_app

log = logging.getLogger("aigora.node")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise AigoraError(
                f"port {port} on {host} is already in use; choose another with --port"
            ) from None


class _Server(uvicorn.Server):
    """uvicorn re-raises the stopping signal after its graceful shutdown, which surfaces as a
    KeyboardInterrupt traceback from inside the event loop. Ctrl-C and SIGTERM are how a node is
    meant to stop, so here they only ask the server to exit, and `run` returns normally."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in _STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def background_pass(services: App) -> list[str]:
    """One pass of the node's recurring chain work, as separate steps: anchor pending batches,
    redeem the vouchers of paid asks (in a channel whose asker requested a withdrawal at every
    pass, all of them every `redeem_interval_s`), rebut false omission claims against our
    receipts, move in embedding games (ours to answer, or filed by us), resolve the claims we
    filed that their operator left unanswered, collect the rewards of disputes we won, release
    the escrow of labeling jobs that have ended (before their requesters may refund it). Each
    step runs whatever the others did: a failure is logged with the step named and retried next
    pass (all are idempotent); inside the dispute steps each dispute is tried on its own as
    well. Returns the names of the steps that failed."""
    steps: list[tuple[str, Callable[[], object]]] = [
        ("anchoring", services.content.anchor),
        ("redeeming vouchers", services.asks.background_redeem),
        ("rebutting omission claims", services.disputes.rebut),
        ("moving in embedding games", services.disputes.play),
        ("resolving expired claims we filed", services.disputes.close_expired),
        ("collecting dispute rewards", services.disputes.collect_owed),
        ("releasing the escrow of ended labeling jobs", services.payouts.release_ended),
    ]
    failed = []
    for name, step in steps:
        try:
            step()
        except Exception as exc:  # one failing step must not skip the others
            log_failure(log, name, exc)
            failed.append(name)
    return failed


async def _anchor_periodically(services: App) -> None:
    """Run `background_pass` every `anchor_interval_s`; nothing it raises stops the loop."""
    interval = services.context.config.node.anchor_interval_s
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(background_pass, services)


async def _sync_periodically(services: App) -> None:
    """In a network, import what peers anchored every `[network] sync_interval_s`; a failure
    is logged with what failed and retried next time."""
    interval = services.context.config.network.sync_interval_s
    if interval <= 0 or services.context.network is None:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(services.network.sync)
        except Exception as exc:  # the loop must outlive any one pass
            log_failure(log, "following the network", exc)


async def _snapshot_periodically(services: App) -> None:
    """Snapshot newly admitted content every `refresh_interval_s`; like anchoring, a failure is
    logged and retried, never fatal. Nothing is loaded until there is content to snapshot."""
    interval = services.context.config.answers.refresh_interval_s
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            if await asyncio.to_thread(has_text_content, services.context.db):
                await asyncio.to_thread(services.snapshots.refresh)
        except AigoraError as exc:
            log.warning("snapshot refresh failed, will retry: %s", exc)


def serve(
    context: NodeContext, host: str, port: int, on_ready: Callable[[str], None] | None = None
) -> None:
    """Serve until interrupted; always closes the context (flushing the embedded chain)."""
    check_port_free(host, port)
    url = node_url(host, port)
    node_file = context.data_dir / NODE_FILE

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        node_file.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
        services = app.state.services
        anchoring = asyncio.create_task(_anchor_periodically(services))
        snapshotting = asyncio.create_task(_snapshot_periodically(services))
        syncing = asyncio.create_task(_sync_periodically(services))
        if on_ready is not None:
            on_ready(url)
        try:
            yield
        finally:
            anchoring.cancel()
            snapshotting.cancel()
            syncing.cancel()
            node_file.unlink(missing_ok=True)

    token = ensure_operator_token(context.data_dir)
    try:
        app = create_app(context, operator_token=token)
        app.router.lifespan_context = lifespan
        # Forwarded headers are the app's to judge (`[node] trusted_proxies`): uvicorn's own
        # default would believe them from any loopback client.
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=False)
        _Server(config).run()
    finally:
        context.close()
