"""Snapshots: refresh the corpus the node answers from, and serve what verifiers fetch by root."""

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy import select

from aigora.app._answers import Answers
from aigora.core.errors import AigoraError, NotFound
from aigora.engine import default_cache_dir
from aigora.index import SnapshotState
from aigora.store import SnapshotRecord, session_scope


class SnapshotInfo(BaseModel):
    root: str
    model_root: str
    item_count: int
    parent_root: str | None
    embedded_count: int
    created_at: str
    registered_tx: str | None
    registered_at: int | None


class SnapshotList(BaseModel):
    snapshots: list[SnapshotInfo]


def _info(record: SnapshotRecord) -> SnapshotInfo:
    return SnapshotInfo(
        root=record.root,
        model_root=record.model_root,
        item_count=record.item_count,
        parent_root=record.parent_root,
        embedded_count=record.embedded_count,
        created_at=record.created_at.isoformat(),
        registered_tx=record.registered_tx,
        registered_at=record.registered_at,
    )


class Snapshots:
    """Use cases of the corpus snapshots, over the answering state they share."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers

    def refresh(self, progress: Callable[[int], None] | None = None) -> SnapshotState:
        """Snapshot newly admitted content (embedding only what is new) and register it."""
        return self.answers.refresh(progress)

    def list(self, limit: int = 50) -> SnapshotList:
        """The newest `limit` snapshots this node made, newest first."""
        with session_scope(self.answers.context.db) as session:
            rows = session.scalars(
                select(SnapshotRecord).order_by(SnapshotRecord.created_at.desc()).limit(limit)
            )
            return SnapshotList(snapshots=[_info(row) for row in rows])

    def _record(self, root: str) -> SnapshotRecord:
        with session_scope(self.answers.context.db) as session:
            record = session.get(SnapshotRecord, root.lower())
            if record is None:
                raise NotFound(f"no snapshot {root} here")
            session.expunge(record)
            return record

    def get(self, root: str) -> SnapshotInfo:
        return _info(self._record(root))

    def data_path(self, root: str) -> Path:
        """The snapshot file (.npz: model root, CID digests, int8 embeddings)."""
        return self.answers.context.data_dir / self._record(root).path

    @staticmethod
    def model_path(root: str) -> Path:
        """The integer model file (safetensors) whose Merkle root is `root`."""
        name = root.lower()
        if len(name) != 66 or not name.startswith("0x"):
            raise AigoraError("a model root is 0x and 64 hex digits")
        try:
            bytes.fromhex(name[2:])
        except ValueError:
            raise AigoraError("a model root is 0x and 64 hex digits") from None
        path = Path(default_cache_dir()) / f"{name}.safetensors"
        if not path.is_file():
            raise NotFound(f"no model {root} here")
        return path
