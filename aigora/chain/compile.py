"""Compile the Vyper sources shipped in `aigora/chain/contracts/`, cached by source hash.

The compiler runs in-process through vyper's Python API (no compiler download at run time).
Contracts import shared modules: our own from `contracts/lib/` (`from .lib import ecdsa`) and
snekmate's from the installed `snekmate` package (`from snekmate.utils import ...`). The cache key
is the SHA-256 of the compiler version and vyper's integrity sum, which hashes the contract's
source and, recursively, the source of every module and interface it imports; so an edited
contract, an edited module, another snekmate release or a new compiler never reuses a stale
artifact.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import vyper
from vyper.compiler import outputs_from_compiler_data
from vyper.compiler.input_bundle import FileInput, FilesystemInputBundle
from vyper.compiler.phases import CompilerData

from aigora.core.errors import AigoraError

CONTRACTS_DIR = Path(__file__).parent / "contracts"


class UnknownContract(AigoraError):
    """No Vyper source of that name ships with Aigora."""


@dataclass(frozen=True)
class CompiledContract:
    """What deploying and calling a contract needs, plus the hash that names its sources.

    `runtime` is the code the deployment leaves on chain: EIP-170 caps it at 24,576 bytes.
    """

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime: bytes
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


def search_paths() -> list[Path]:
    """Where the compiler looks up absolute imports: the folder holding the installed `snekmate`
    package. Relative imports (`from .lib import ecdsa`) resolve next to the importing file."""
    spec = find_spec("snekmate")
    found = spec.submodule_search_locations if spec is not None else None
    return [Path(location).parent for location in found or ()]


def compiler_data(name: str) -> CompilerData:
    """The compiler's handle on `contracts/<name>.vy` with its imports resolvable; nothing is
    parsed or compiled until an output is asked for."""
    path = source_path(name).resolve()
    source = FileInput(
        source_id=0,
        path=Path(path.name),
        resolved_path=path,
        contents=path.read_text(encoding="utf-8"),
    )
    return CompilerData(source, FilesystemInputBundle(search_paths()))


def source_hash(name: str) -> str:
    """The hex SHA-256 naming what `contracts/<name>.vy` compiles from: the compiler version and
    the source of the contract and of every module and interface it imports."""
    return _source_hash(compiler_data(name))


def _source_hash(data: CompilerData) -> str:
    return hashlib.sha256(f"{vyper.__version__}\0{data.integrity_sum}".encode()).hexdigest()


@cache
def compile_contract(name: str, cache_dir: Path | None = None) -> CompiledContract:
    """Compile `contracts/<name>.vy`, reusing the cached artifact when no source it is built from
    (its own or an imported module's) changed."""
    data = compiler_data(name)
    key = _source_hash(data)
    cache_file = (cache_dir or default_cache_dir()) / f"{name}-{key[:24]}.json"
    try:
        cached = json.loads(cache_file.read_text(encoding="utf-8"))
        return CompiledContract(
            name,
            cached["abi"],
            bytes.fromhex(cached["bytecode"]),
            bytes.fromhex(cached["runtime"]),
            key,
        )
    except (OSError, ValueError, KeyError):
        pass
    out = outputs_from_compiler_data(data, ["abi", "bytecode", "bytecode_runtime"])
    bytecode = bytes.fromhex(out["bytecode"].removeprefix("0x"))
    runtime = bytes.fromhex(out["bytecode_runtime"].removeprefix("0x"))
    artifact = {"abi": out["abi"], "bytecode": bytecode.hex(), "runtime": runtime.hex()}
    _write_atomically(cache_file, json.dumps(artifact))
    return CompiledContract(name, out["abi"], bytecode, runtime, key)


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only costs a recompile next time
