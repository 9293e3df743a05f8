"""Public data by root: the model file and the snapshot a receipt names, from wherever they are.

A verifier trusts no source: whatever arrives is loaded and its root recomputed, and anything
that does not hash to the root it was asked for is refused. Sources are tried in order: local
files first (the model cache, a node's snapshot folder), then HTTP (the operator's endpoint from
the registry, or any mirror).
"""

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

import httpx

from aigora.core.errors import AigoraError
from aigora.engine import EngineError, IntModel, default_cache_dir
from aigora.index import Snapshot, SnapshotError

MAX_DOWNLOAD_BYTES = 2 * 2**30


class Unavailable(AigoraError):
    """No source could provide the public data a receipt names."""


class PublicData(Protocol):
    def model(self, root: bytes) -> IntModel: ...
    def snapshot(self, root: bytes) -> Snapshot: ...


def snapshot_file(directory: Path, root: bytes) -> Path:
    """Where a node keeps the snapshot with `root`."""
    return directory / f"0x{root.hex()}.npz"


class LocalFiles:
    """Models in model cache folders and snapshots in snapshot folders on this machine."""

    def __init__(
        self,
        model_dirs: Iterable[Path] | None = None,
        snapshot_dirs: Iterable[Path] = (),
        loaded: Iterable[IntModel | Snapshot] = (),
    ) -> None:
        """`loaded`: models and snapshots already in memory (their roots were checked when
        they were loaded), used before any file."""
        self.model_dirs = list(model_dirs or [Path(default_cache_dir())])
        self.snapshot_dirs = list(snapshot_dirs)
        self._models = {m.root: m for m in loaded if isinstance(m, IntModel)}
        self._snapshots = {s.root: s for s in loaded if isinstance(s, Snapshot)}

    def model(self, root: bytes) -> IntModel:
        if root in self._models:
            return self._models[root]
        for directory in self.model_dirs:
            path = directory / f"0x{root.hex()}.safetensors"
            if path.is_file():
                model = IntModel.load(path, expected_root=root)
                self._models[root] = model
                return model
        raise Unavailable(f"no local copy of model 0x{root.hex()}")

    def snapshot(self, root: bytes) -> Snapshot:
        if root in self._snapshots:
            return self._snapshots[root]
        for directory in self.snapshot_dirs:
            path = snapshot_file(directory, root)
            if path.is_file():
                return Snapshot.load(path, expected_root=root)
        raise Unavailable(f"no local copy of snapshot 0x{root.hex()}")


class HttpSource:
    """A node (or mirror) serving `GET /models/{root}` and `GET /snapshots/{root}/data`."""

    def __init__(self, base_url: str, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def _fetch(self, path: str) -> bytes:
        url = f"{self.base_url}{path}"
        try:
            with httpx.stream("GET", url, timeout=self.timeout_s) as response:
                if response.status_code != 200:
                    raise Unavailable(f"{url} answered {response.status_code}")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD_BYTES:
                        raise Unavailable(f"{url} sent more than {MAX_DOWNLOAD_BYTES} bytes")
                    chunks.append(chunk)
        except httpx.HTTPError as exc:
            raise Unavailable(f"cannot fetch {url}: {exc}") from None
        return b"".join(chunks)

    def model(self, root: bytes) -> IntModel:
        data = self._fetch(f"/models/0x{root.hex()}")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"0x{root.hex()}.safetensors"
            path.write_bytes(data)
            return IntModel.load(path, expected_root=root)

    def snapshot(self, root: bytes) -> Snapshot:
        return Snapshot.from_bytes(self._fetch(f"/snapshots/0x{root.hex()}/data"), root)


class Sources:
    """Try each source in turn; the first that delivers data with the right root wins. Data
    with a wrong root is reported, not used."""

    def __init__(self, sources: Sequence[PublicData]) -> None:
        self.sources = list(sources)
        self._models: dict[bytes, IntModel] = {}
        self._snapshots: dict[bytes, Snapshot] = {}

    def model(self, root: bytes) -> IntModel:
        if root not in self._models:
            self._models[root] = self._first(lambda s: s.model(root), f"model 0x{root.hex()}")
        return self._models[root]

    def snapshot(self, root: bytes) -> Snapshot:
        if root not in self._snapshots:
            self._snapshots[root] = self._first(
                lambda s: s.snapshot(root), f"snapshot 0x{root.hex()}"
            )
        return self._snapshots[root]

    def _first(self, get, what: str):
        problems = []
        for source in self.sources:
            try:
                return get(source)
            except (Unavailable, EngineError, SnapshotError) as exc:
                problems.append(str(exc))
        raise Unavailable(f"cannot get {what}: " + "; ".join(problems or ["no sources"]))
