"""The network: serve this node's anchored batches to peers, import what peers anchored, and say
where following stands. Joining (checking and recording the network's contracts, registering)
happens when the node opens (`open_node`)."""

import base64
import json
import threading
import time
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from aigora.app._context import NodeContext, StoreContext, public_url
from aigora.core.errors import AigoraError, NotFound
from aigora.network import MAX_PAGE, Network, SyncReport, sync
from aigora.store import Anchor, BatchItem, NetworkPeer, PeerBatch, session_scope

SHARED_KINDS = ("content", "attestations")
INLINE_BODY_BYTES = 2 * 1024 * 1024
"""Body bytes a page carries inline: a batch of short passages then costs a request per page,
not one per passage, and a page stays well inside what a peer reads (8 MiB, base64 included)."""


class NotInNetwork(AigoraError):
    """This node runs its own contracts; it has no network to follow."""


class BatchPage(BaseModel):
    """One page of an anchored batch: the signed items whose digests are its leaves, in leaf
    order (`{kind, message, signature}` each), and, inline, the bodies of the page's content
    items (base64, by CID) up to `INLINE_BODY_BYTES` a page; the rest are at
    `/content/{cid}/body`. `next_offset` is null on the last page."""

    root: str
    kind: str
    batch_id: int
    anchorer: str
    item_count: int
    offset: int
    items: list[dict[str, Any]]
    bodies: dict[str, str] = {}
    next_offset: int | None


class PeerState(BaseModel):
    address: str


class NetworkState(BaseModel):
    """Where following the network stands: the network, this node's registered URL, the
    operators found, and the batches found, imported and still pending (with why)."""

    name: str | None
    chain_id: int
    registry: str
    public_url: str | None
    peers: list[str]
    batches_found: int
    batches_imported: int
    batches_ours: int
    pending: list[dict[str, Any]]


class SyncResult(BaseModel):
    found: int
    imported: list[int]
    refused: list[str] = Field(description="source: reason, for each batch a source got wrong")
    pending: int

    @classmethod
    def of(cls, report: SyncReport) -> "SyncResult":
        return cls(
            found=report.found,
            imported=report.imported,
            refused=report.refused,
            pending=report.pending,
        )


class NetworkService:
    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self._syncing = threading.Lock()

    def batch(self, root: str, offset: int = 0, limit: int = MAX_PAGE) -> BatchPage:
        """A page of the content or attestations batch anchored under `root` (the first such
        anchor this node holds with its items)."""
        limit = max(1, min(limit, MAX_PAGE))
        with session_scope(self.context.db) as session:
            anchors = session.scalars(
                select(Anchor)
                .where(Anchor.root == root.lower(), Anchor.kind.in_(SHARED_KINDS))
                .order_by(Anchor.batch_id)
            ).all()
            for anchor in anchors:
                count = session.scalar(
                    select(func.count())
                    .select_from(BatchItem)
                    .where(BatchItem.anchor_id == anchor.id)
                )
                if count != anchor.item_count:
                    continue
                rows = session.scalars(
                    select(BatchItem.document)
                    .where(BatchItem.anchor_id == anchor.id, BatchItem.position >= offset)
                    .order_by(BatchItem.position)
                    .limit(limit)
                ).all()
                following = offset + len(rows)
                items = [json.loads(document) for document in rows]
                return BatchPage(
                    bodies=self._inline_bodies(items),
                    root=anchor.root,
                    kind=anchor.kind,
                    batch_id=anchor.batch_id,
                    anchorer=anchor.anchored_by,
                    item_count=anchor.item_count,
                    offset=offset,
                    items=items,
                    next_offset=following if following < anchor.item_count else None,
                )
        raise NotFound(f"no content or attestations batch {root} on this node")

    def _inline_bodies(self, items: list[dict[str, Any]]) -> dict[str, str]:
        blobs, inline, total = self.context.blobs, {}, 0
        for item in items:
            cid = item["message"].get("cid") if item["kind"] == "content" else None
            if cid is None or cid in inline or not blobs.has(cid):
                continue
            body = blobs.get(cid)
            if total + len(body) > INLINE_BODY_BYTES:
                break
            inline[cid] = base64.b64encode(body).decode("ascii")
            total += len(body)
        return inline

    def sync(self) -> SyncResult:
        """Scan the registry for operators and batches, and import every pending batch."""
        context = self._node()
        network = Network(
            chain=context.chain,
            registry=context.deployment.registry,
            domain=context.domain,
            account=context.operator.address,
            own_url=public_url(context.config),
            peers=tuple(context.config.network.peers),
        )
        with self._syncing:  # the background pass and a request: one at a time per node
            report = sync(network, context.db, context.blobs, now=int(time.time()))
        return SyncResult.of(report)

    def state(self) -> NetworkState:
        context = self.context
        network = context.network
        if network is None:
            raise NotInNetwork("this node runs its own contracts; it has joined no network")
        with session_scope(context.db) as session:
            counts = dict(
                session.execute(
                    select(PeerBatch.state, func.count())
                    .where(PeerBatch.registry_address == network.registry)
                    .group_by(PeerBatch.state)
                ).all()
            )
            pending = [
                {
                    "batch_id": row.batch_id,
                    "anchorer": row.anchorer,
                    "root": row.root,
                    "attempts": row.attempts,
                    "last_error": row.last_error,
                }
                for row in session.scalars(
                    select(PeerBatch)
                    .where(
                        PeerBatch.registry_address == network.registry,
                        PeerBatch.state == "pending",
                    )
                    .order_by(PeerBatch.batch_id)
                    .limit(50)
                )
            ]
            peers = list(
                session.scalars(
                    select(NetworkPeer.address)
                    .where(NetworkPeer.registry_address == network.registry)
                    .order_by(NetworkPeer.address)
                )
            )
        return NetworkState(
            name=network.name,
            chain_id=network.chain_id,
            registry=network.registry,
            public_url=public_url(context.config),
            peers=peers,
            batches_found=sum(counts.values()),
            batches_imported=counts.get("imported", 0),
            batches_ours=counts.get("ours", 0),
            pending=pending,
        )

    def _node(self) -> NodeContext:
        context = self.context
        if not isinstance(context, NodeContext):
            raise AigoraError("following the network needs the chain: open the node")
        if context.network is None:
            raise NotInNetwork("this node runs its own contracts; it has joined no network")
        return context
