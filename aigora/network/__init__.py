"""One network, many nodes: the network file, deploying a network, and following its registry to
import every content and attestations batch that any node anchored, checked before it is stored.

Pure rules for a served batch live in `_batches.py`; sources (peers over HTTP, export files) in
`_sources.py`; storing one batch in `_import.py`; the scans and the pass that imports what they
find in `_follow.py`; the network file in `_file.py`, its deployment in `_deploy.py`. The
protocol is described in `docs/network.md`.
"""

from aigora.network._batches import MAX_PAGE, BadBatch, FoundBatch
from aigora.network._deploy import BURN_ADDRESS, NetworkPlan, deploy_network
from aigora.network._file import (
    CONTRACTS,
    NetworkFile,
    NetworkFileError,
    load_network,
    write_network,
)
from aigora.network._follow import (
    Network,
    SyncReport,
    follow_batches,
    follow_operators,
    pending_batches,
    retry_due,
    sources_for,
    sync,
)
from aigora.network._import import KINDS, ImportedBatch, import_batch
from aigora.network._sources import (
    MAX_BODY_BYTES,
    MAX_PAGE_BYTES,
    BatchSource,
    FileSource,
    PeerSource,
    PeerUnavailable,
    PeerUnreachable,
    export_batches,
)

__all__ = [
    "BURN_ADDRESS",
    "CONTRACTS",
    "KINDS",
    "MAX_BODY_BYTES",
    "MAX_PAGE",
    "MAX_PAGE_BYTES",
    "BadBatch",
    "BatchSource",
    "FileSource",
    "FoundBatch",
    "ImportedBatch",
    "Network",
    "NetworkFile",
    "NetworkFileError",
    "NetworkPlan",
    "PeerSource",
    "PeerUnavailable",
    "PeerUnreachable",
    "SyncReport",
    "deploy_network",
    "export_batches",
    "follow_batches",
    "follow_operators",
    "import_batch",
    "load_network",
    "pending_batches",
    "retry_due",
    "sources_for",
    "sync",
    "write_network",
]
