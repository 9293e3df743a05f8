"""Run the real `aigora` command in a subprocess, as a user would."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PASSPHRASE = "correct horse battery staple"


class Aigora:
    """Calls `python -m aigora ...` with a clean environment pointing at one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
        self.env["AIGORA_PASSPHRASE"] = PASSPHRASE
        self.env["AIGORA_HOME"] = str(data_dir)

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
        return subprocess.run(
            [sys.executable, "-m", "aigora", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "aigora", *args],
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )

    @staticmethod
    def wait_ready(proc: subprocess.Popen, url: str, timeout_s: float = 120) -> dict:
        """Wait until the node `aigora up` started answers; its `/chain/status`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"aigora up exited early: {proc.stderr.read()}")
            try:
                return httpx.get(f"{url}/chain/status", timeout=5).json()
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("aigora up did not become ready")


@pytest.fixture
def aigora(tmp_path: Path) -> Aigora:
    return Aigora(tmp_path / "home")
