"""Run anvil (the JSON-RPC dev node from the npm package `@foundry-rs/anvil`) as a child process.

Used by the integration tests and the benchmarks. We start the platform binary the npm package
ships, not its node.js wrapper, so the PID we stop is anvil's own.
"""

import os
import platform
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from aigora.chain.client import Chain
from aigora.core.errors import AigoraError

REPO_ROOT = Path(__file__).resolve().parents[2]


class AnvilNotFound(AigoraError):
    """anvil is not installed where we look for it."""


def find_anvil(search_from: Path | None = None) -> Path:
    """$AIGORA_ANVIL, else the npm package's binary under node_modules, else `anvil` on PATH."""
    if env := os.environ.get("AIGORA_ANVIL"):
        return Path(env)
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), "")
    package = f"anvil-{platform.system().lower()}-{arch}"
    for root in (search_from or Path.cwd(), REPO_ROOT):
        candidate = root / "node_modules" / "@foundry-rs" / package / "bin" / "anvil"
        if candidate.is_file():
            return candidate
    if found := shutil.which("anvil"):
        return Path(found)
    raise AnvilNotFound(f"anvil is not installed: run `npm install` in {REPO_ROOT}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Anvil:
    """`with Anvil() as url:` runs anvil on 127.0.0.1 for the block, then stops it by PID."""

    def __init__(self, binary: Path | None = None, startup_timeout_s: float = 30.0) -> None:
        self.binary = binary or find_anvil()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        self.process = subprocess.Popen(
            [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--silent"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while True:
            try:
                Chain.connect(self.url, timeout_s=1).close()
                return self.url
            except AigoraError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AigoraError(f"anvil did not start on {self.url}") from None
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
