"""Corpus snapshots and exact integer top-k retrieval.

A snapshot is the ordered (CID, int8 embedding) list an operator answers from, committed to by
one Merkle root that is registered on-chain with the model root. Retrieval scores every passage
with an exact int8 dot product and ranks by score descending, then CID ascending: the same answer
on every machine, so anyone can check it.
"""

from aigora.index._build import (
    AdmissionPolicy,
    BuildResult,
    Scores,
    admitted,
    build_snapshot,
    candidates,
    has_text_content,
    newest_scores,
    passage_text,
)
from aigora.index._search import (
    ExactIndex,
    SearchError,
    check_int8_matrix,
    check_positive,
    float_dtype,
    top_k,
)
from aigora.index._service import (
    SnapshotState,
    current_snapshot,
    ensure_model_registered,
    refresh_snapshot,
    snapshot_dir,
)
from aigora.index._snapshot import (
    SNAPSHOT_LEAF,
    Snapshot,
    SnapshotBasis,
    SnapshotError,
    embedding_hash,
)

__all__ = [
    "SNAPSHOT_LEAF",
    "AdmissionPolicy",
    "BuildResult",
    "ExactIndex",
    "Scores",
    "SearchError",
    "Snapshot",
    "SnapshotBasis",
    "SnapshotError",
    "SnapshotState",
    "admitted",
    "build_snapshot",
    "candidates",
    "check_int8_matrix",
    "check_positive",
    "current_snapshot",
    "embedding_hash",
    "ensure_model_registered",
    "float_dtype",
    "has_text_content",
    "newest_scores",
    "passage_text",
    "refresh_snapshot",
    "snapshot_dir",
    "top_k",
]
