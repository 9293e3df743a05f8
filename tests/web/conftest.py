"""What the browser tests share: one Chromium (Debian's, driven by Playwright) for the whole
session, and screenshots saved under `test-artifacts/screenshots/` (or $AIGORA_ARTIFACTS)."""

import base64
import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from aigora.chain.anvil import free_port
from aigora.content.signed import content_message, domain_for, sign
from aigora.core.keystore import Signer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("AIGORA_ARTIFACTS", "test-artifacts")) / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        raise AssertionError(f"Chromium is missing at {CHROMIUM}: .ci/run installs it (apt-get)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@contextlib.contextmanager
def serving(aigora) -> Iterator[tuple[str, dict]]:
    """`aigora up` on a free port for the data directory `aigora` (a `tests.cli.conftest.Aigora`)
    names: its URL and `/chain/status`; stopped on the way out."""
    from tests.cli.conftest import Aigora

    port = free_port()
    proc = aigora.start("up", "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    try:
        yield url, Aigora.wait_ready(proc, url)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def publish_signed(url: str, status: dict, author: Signer, text: str) -> None:
    """Publish `text` through the node's API, signed by `author` (who holds nothing)."""
    domain = domain_for(status["chain_id"], status["contracts"]["Registry"])
    message = content_message(author.address, text.encode(), "text/plain", "CC0-1.0", 1)
    signed = sign("content", author, domain, message)
    response = httpx.post(
        f"{url}/content",
        json={
            "manifest": message,
            "signature": "0x" + signed.signature.hex(),
            "body_base64": base64.b64encode(text.encode()).decode(),
        },
    )
    assert response.status_code == 201, response.text
