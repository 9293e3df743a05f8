"""Publishing throughput: a bulk import (`aigora publish DIR`) against one command per document.

    python bench/publish.py [--documents 2000] [--single 5]

A fresh data directory (the embedded chain, started once), `--documents` text files of about
200 words in a directory, published by one `aigora publish DIR --account writer` process (one
unlock; manifests signed and stored 200 to a transaction; the progress bar on stderr). The
baseline, in the same run, is `aigora publish FILE` run once per document for `--single` of
them, each a process that imports, unlocks the key and stores one manifest: what publishing
10,000 documents cost before. Both count from process start to exit.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aigora.app import open_node

PASSPHRASE = "bench passphrase"
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "near",
    "rivers",
    "tyres",
    "cars",
    "and",
    "fruit",
]


def _run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aigora", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise SystemExit(f"aigora {' '.join(args)} failed: {done.stderr.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--single", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
        env.update(AIGORA_PASSPHRASE=PASSPHRASE, AIGORA_HOME=str(home))
        open_node(home, PASSPHRASE).close()
        _run(env, "account", "new", "writer")
        docs = root / "docs"
        docs.mkdir()
        for i in range(args.documents):
            words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(200)]
            (docs / f"doc{i:06d}.txt").write_text(f"document {i}: " + " ".join(words))
        start = time.perf_counter()
        _run(env, "publish", str(docs), "--account", "writer")
        bulk = time.perf_counter() - start
        singles = root / "singles"
        singles.mkdir()
        start = time.perf_counter()
        for i in range(args.single):
            path = singles / f"one{i}.txt"
            path.write_text(f"a single document {i}")
            _run(env, "publish", str(path), "--account", "writer")
        single = (time.perf_counter() - start) / args.single
    rate = args.documents / bulk
    print(f"bulk import: {args.documents} documents in {bulk:.1f} s: {rate:.0f} documents/s")
    print(f"one command per document: {single:.2f} s each: {1 / single:.2f} documents/s")
    print(f"ratio bulk / single: {rate * single:.0f}x")


if __name__ == "__main__":
    main()
