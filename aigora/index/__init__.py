"""Corpus snapshots of passages and exact integer top-k retrieval.

A document is cut into passages by one deterministic rule (`_passages`). A snapshot is the
ordered (passage, int8 embedding) list an operator answers from, committed to by
one Merkle root that is registered on-chain with the model root. Retrieval scores every passage
with an exact int8 dot product and ranks by score descending, then passage key ascending: the
same answer on every machine, so anyone can check it.
"""

from aigora.index._build import (
    DEFAULT_DUPLICATE_THRESHOLD,
    AdmissionPolicy,
    BuildResult,
    Candidate,
    Scores,
    admitted,
    build_snapshot,
    candidates,
    group_copies,
    has_text_content,
    newest_scores,
)
from aigora.index._passages import (
    PassageError,
    PassageRef,
    PassageRule,
    Span,
    document_text,
    passage_key,
    passages_of,
    split_passages,
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
    Copy,
    Snapshot,
    SnapshotBasis,
    SnapshotError,
    embedding_hash,
)

__all__ = [
    "DEFAULT_DUPLICATE_THRESHOLD",
    "SNAPSHOT_LEAF",
    "AdmissionPolicy",
    "BuildResult",
    "Candidate",
    "Copy",
    "ExactIndex",
    "PassageError",
    "PassageRef",
    "PassageRule",
    "Scores",
    "SearchError",
    "Snapshot",
    "SnapshotBasis",
    "SnapshotError",
    "SnapshotState",
    "Span",
    "admitted",
    "build_snapshot",
    "candidates",
    "check_int8_matrix",
    "check_positive",
    "current_snapshot",
    "document_text",
    "embedding_hash",
    "ensure_model_registered",
    "float_dtype",
    "group_copies",
    "has_text_content",
    "newest_scores",
    "passage_key",
    "passages_of",
    "refresh_snapshot",
    "snapshot_dir",
    "split_passages",
    "top_k",
]
