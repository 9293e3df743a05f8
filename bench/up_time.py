"""Time from `aigora up` to a node answering /health, on the embedded chain.

Three runs in one go: a first start in an empty data directory (creates the key with the default
scrypt cost, migrates the database, deploys and bonds), a restart of the same directory, and, as the
baseline, the bare start-up of the Python interpreter importing the CLI. Ratios are against it.

    python bench/up_time.py [--repeat 3]
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from aigora.chain.anvil import free_port


def time_to_ready(data_dir: Path) -> float:
    port = free_port()
    env = {**os.environ, "AIGORA_PASSPHRASE": "bench-only-passphrase"}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "aigora", "up", "--data-dir", str(data_dir), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"aigora up failed: {proc.stderr.read().decode()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def time_import() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import aigora.cli.main"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    first, restart, baseline = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            first.append(time_to_ready(Path(tmp) / "node"))
            restart.append(time_to_ready(Path(tmp) / "node"))
        baseline.append(time_import())
    base = statistics.median(baseline)
    table = Table("run", "median s", "min s", "x import baseline")
    for name, values in (("first start", first), ("restart", restart), ("import only", baseline)):
        median = statistics.median(values)
        table.add_row(name, f"{median:.2f}", f"{min(values):.2f}", f"{median / base:.1f}")
    Console().print(table)


if __name__ == "__main__":
    main()
