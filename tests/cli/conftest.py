"""Run the real `aigora` command as a user would: in a subprocess, or, where the process boundary
is not what a module tests (`CLI_IN_PROCESS = True` in it), through the same entry point in this
process (same argument parsing, output, error lines and exit codes; no interpreter start)."""

import contextlib
import io
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

    def __init__(self, data_dir: Path, in_process: bool = False) -> None:
        self.data_dir = data_dir
        self.in_process = in_process
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
        self.env["AIGORA_PASSPHRASE"] = PASSPHRASE
        self.env["AIGORA_HOME"] = str(data_dir)

    def run(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
        if self.in_process:
            return run_in_process(list(args), {**self.env, **(env or {})})
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


def run_in_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python -m aigora ARGS` with environment `env`, run by `aigora.cli.main.main` here: stdin
    empty and not a terminal, stdout and stderr captured, the exit status from `SystemExit`."""
    from aigora.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_argv, saved_stdin = dict(os.environ), sys.argv, sys.stdin
    os.environ.clear()
    os.environ.update(env)
    sys.argv, sys.stdin = ["aigora", *args], io.StringIO("")
    code: int | str | None = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv, sys.stdin = saved_argv, saved_stdin
    if not isinstance(code, int):
        code = 0 if code is None else 1
    return subprocess.CompletedProcess(["aigora", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def aigora(tmp_path: Path, request: pytest.FixtureRequest) -> Aigora:
    in_process = getattr(request.module, "CLI_IN_PROCESS", False)
    if request.node.get_closest_marker("subprocess") is not None:
        in_process = False
    return Aigora(tmp_path / "home", in_process=in_process)
