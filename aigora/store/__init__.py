"""Where a node keeps its state: a SQL database (SQLite or PostgreSQL) and content-addressed blobs.

`store` imports only `core`; feature packages add their tables as new models plus a new Alembic
revision, and reach the database through `session_scope`.
"""

from aigora.store.agent_models import AgentApproval, AgentWallet
from aigora.store.answer_models import (
    FiledChallenge,
    ReceiptRecord,
    SeenReceipt,
    SnapshotRecord,
)
from aigora.store.ask_models import ChannelVoucher, PaidReceipt
from aigora.store.blobs import BlobStore
from aigora.store.content_models import (
    AttestationRecord,
    ContentItem,
    ContentParent,
    ContentScoreRecord,
    ReputationRun,
    TrustRecord,
)
from aigora.store.db import make_engine, migrate, session_factory, session_scope, sqlite_url
from aigora.store.label_models import (
    LabelAnswer,
    LabelAssignment,
    LabelItem,
    LabelJob,
    LabelRelease,
)
from aigora.store.models import Anchor, AnchorKind, Base, Deployment, NodeSetting
from aigora.store.network_models import (
    PEER_BATCH_STATES,
    BatchItem,
    NetworkPeer,
    PeerBatch,
    peer_batch,
)
from aigora.store.payout_models import Epoch, EpochBalance, EpochLine
from aigora.store.scan_models import (
    ScanCursor,
    WatchedDispute,
    move_cursor,
    read_cursor,
    scan_start,
)

__all__ = [
    "PEER_BATCH_STATES",
    "AgentApproval",
    "AgentWallet",
    "Anchor",
    "AnchorKind",
    "AttestationRecord",
    "Base",
    "BatchItem",
    "BlobStore",
    "ChannelVoucher",
    "ContentItem",
    "ContentParent",
    "ContentScoreRecord",
    "Deployment",
    "Epoch",
    "EpochBalance",
    "EpochLine",
    "FiledChallenge",
    "LabelAnswer",
    "LabelAssignment",
    "LabelItem",
    "LabelJob",
    "LabelRelease",
    "NetworkPeer",
    "NodeSetting",
    "PaidReceipt",
    "PeerBatch",
    "ReceiptRecord",
    "ReputationRun",
    "ScanCursor",
    "SeenReceipt",
    "SnapshotRecord",
    "TrustRecord",
    "WatchedDispute",
    "make_engine",
    "migrate",
    "move_cursor",
    "peer_batch",
    "read_cursor",
    "scan_start",
    "session_factory",
    "session_scope",
    "sqlite_url",
]
