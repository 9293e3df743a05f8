"""Compile the Vyper sources shipped in `aigora/chain/contracts/`, cached by source hash.

The compiler runs in-process through vyper's Python API (no compiler download at run time). The
cache key is the SHA-256 of the source plus the compiler version, so an edited contract or a new
compiler never reuses a stale artifact.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import vyper
from vyper.compiler import compile_code

from aigora.core.errors import AigoraError

CONTRACTS_DIR = Path(__file__).parent / "contracts"


class UnknownContract(AigoraError):
    """No Vyper source of that name ships with Aigora."""


@dataclass(frozen=True)
class CompiledContract:
    """What deploying and calling a contract needs, plus the hash that names its source."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    source_hash: str


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aigora" / "vyper"


def source_path(name: str) -> Path:
    path = CONTRACTS_DIR / f"{name}.vy"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONTRACTS_DIR.glob("*.vy")))
        raise UnknownContract(f"no contract named {name!r} (known: {known})")
    return path


@cache
def compile_contract(name: str, cache_dir: Path | None = None) -> CompiledContract:
    """Compile `contracts/<name>.vy`, reusing the cached artifact when the source is unchanged."""
    source = source_path(name).read_text(encoding="utf-8")
    key = hashlib.sha256(f"{vyper.__version__}\0{source}".encode()).hexdigest()
    cache_file = (cache_dir or default_cache_dir()) / f"{name}-{key[:24]}.json"
    try:
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        return CompiledContract(name, cached["abi"], bytes.fromhex(cached["bytecode"]), key)
    except (OSError, ValueError, KeyError):
        pass
    out = compile_code(source, contract_path=f"{name}.vy", output_formats=["abi", "bytecode"])
    bytecode = bytes.fromhex(out["bytecode"].removeprefix("0x"))
    _write_atomically(cache_file, json.dumps({"abi": out["abi"], "bytecode": bytecode.hex()}))
    return CompiledContract(name, out["abi"], bytecode, key)


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs a recompile next time
