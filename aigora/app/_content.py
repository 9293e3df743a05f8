"""Content: publish, attest and vouch (signed by the person, or by a key this process holds),
show content with its provenance, attestations, anchor proofs and score, and anchor batches.

Records go straight into the store (safe beside a running node: SQLite WAL); only anchoring
needs the chain.
"""

import threading
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from aigora.app._config import LimitsConfig
from aigora.app._context import NodeContext, StoreContext
from aigora.content import (
    ATTESTATION_TYPES,
    CONTENT_TYPES,
    TRUST_TYPES,
    AnchoredBatch,
    Recorded,
    Signed,
    anchor_all,
    badge_svg,
    content_message,
    inclusion_proof,
    inclusion_proofs,
    service,
    sign,
)
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer
from aigora.store import Anchor, AnchorKind, ContentScoreRecord, session_scope

MAX_BODY_BYTES = 10 * 1024 * 1024


class PayloadTooLarge(AigoraError):
    """The body exceeds what one publication may carry."""


MAX_BATCH_ITEMS = 500
"""Items in one `publish_batch` (one transaction; a bulk import sends many)."""


class QuotaExceeded(AigoraError):
    """Too many of a signer's (or everyone's) items wait for anchoring (429)."""


def check_pending_quota(mine: int, total: int, limits: LimitsConfig) -> None:
    """A public write may add one more unanchored item while its signer has fewer than
    `pending_per_author` and everyone fewer than `pending_total`. Fresh keys cost nothing, so
    the per-signer quota only spreads the room fairly; the total bounds what a flood can store
    between anchors, and each anchor (one root on-chain) empties it."""
    if mine >= limits.pending_per_author:
        raise QuotaExceeded(
            f"{mine} of your items are waiting to be anchored (at most "
            f"{limits.pending_per_author}); send more after the next anchor"
        )
    if total >= limits.pending_total:
        raise QuotaExceeded(
            f"this node holds {total} items waiting to be anchored (at most "
            f"{limits.pending_total}); try again after the next anchor"
        )


class RecordedItem(BaseModel):
    """What a write did: the object's id (CID or digest) and whether it was already known."""

    id: str
    digest: str
    duplicate: bool = False
    superseded: str | None = None

    @classmethod
    def of(cls, done: Recorded) -> "RecordedItem":
        return cls.model_validate(done.__dict__)


class Published(RecordedItem):
    """A publication, with the author who published its body first and its provenance chain."""

    author: str
    provenance: list[dict[str, Any]]


class SigningInfo(BaseModel):
    """The EIP-712 domain and types a client signs manifests, attestations and vouches with."""

    domain: dict[str, Any]
    types: dict[str, Any]


class ContentView(BaseModel):
    """Manifest, provenance chain, attestations (with anchor proofs) and the current score."""

    cid: str
    manifest: dict[str, Any]
    signature: str
    digest: str
    anchor: dict[str, Any] | None
    provenance: list[dict[str, Any]]
    attestations: list[dict[str, Any]]
    score: dict[str, Any] | None
    badge: str


class UrlMatches(BaseModel):
    url_hash: str
    cids: list[str]


class ScorePoint(BaseModel):
    run: int
    score: float
    n_ratings: int
    status: str


class AnchoredNow(BaseModel):
    batches: list[AnchoredBatch]


class AnchorInfo(BaseModel):
    batch_id: int
    kind: str
    root: str
    item_count: int
    tx_hash: str
    block_number: int
    anchored_by: str
    anchored_at: str


class AnchorList(BaseModel):
    anchors: list[AnchorInfo]


MAX_LIST = 500


def now() -> int:
    return int(time.time())


class Content:
    """The content use cases over a node's store (and its chain, for anchoring)."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self._anchoring = threading.Lock()

    # ---- recording signed items ----------------------------------------------------------------

    def publish(self, signed: Signed, body: bytes, *, limited: bool = False) -> RecordedItem:
        """Store a body under its CID with its signed manifest (the same body again is a
        duplicate: the first manifest stands). `limited`: a public write, held to
        `check_pending_quota` (the operator's and the CLI's own writes are not)."""
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body is {len(body)} bytes; at most {MAX_BODY_BYTES} allowed")
        context = self.context
        with session_scope(context.db) as session:
            self._check_quota(session, signed, limited)
            done = service.publish(session, context.blobs, context.domain, signed, body, now())
        return RecordedItem.of(done)

    def publish_batch(
        self, items: Sequence[tuple[Signed, bytes]], *, limited: bool = False
    ) -> list[RecordedItem]:
        """`publish` for many items in one transaction: all are recorded or none (a bad item
        refuses the batch, naming its place). Bodies are content-addressed files, so a batch
        refused half-way leaves at most unreferenced bodies, never a manifest without one."""
        if not items:
            raise AigoraError("an empty batch: send at least one item")
        if len(items) > MAX_BATCH_ITEMS:
            raise PayloadTooLarge(f"{len(items)} items; at most {MAX_BATCH_ITEMS} in one batch")
        for place, (_, body) in enumerate(items):
            if len(body) > MAX_BODY_BYTES:
                raise PayloadTooLarge(
                    f"item {place}: body is {len(body)} bytes; at most {MAX_BODY_BYTES} allowed"
                )
        context = self.context
        domain = context.domain  # read before the write transaction: it opens its own
        recorded = []
        with session_scope(context.db) as session:
            for place, (signed, body) in enumerate(items):
                try:
                    self._check_quota(session, signed, limited)
                    done = service.publish(session, context.blobs, domain, signed, body, now())
                except AigoraError as exc:
                    raise type(exc)(f"item {place}: {exc}") from None
                recorded.append(RecordedItem.of(done))
        return recorded

    def attest(self, signed: Signed, *, limited: bool = False) -> RecordedItem:
        """Record an attestation; a newer one by the same attester supersedes the older."""
        with session_scope(self.context.db) as session:
            self._check_quota(session, signed, limited)
            return RecordedItem.of(service.attest(session, self.context.domain, signed, now()))

    def vouch(self, signed: Signed, *, limited: bool = False) -> RecordedItem:
        """Record that the truster vouches for the trustee (an edge of seeded trust)."""
        with session_scope(self.context.db) as session:
            self._check_quota(session, signed, limited)
            return RecordedItem.of(service.vouch(session, self.context.domain, signed, now()))

    def _check_quota(self, session: Session, signed: Signed, limited: bool) -> None:
        """In the write's own transaction, so concurrent writes cannot both take the last room."""
        if not limited:
            return
        signer = signed.message.get(signed.signer_field)
        if not signer:
            return  # the service refuses the item itself
        mine, total = service.pending_counts(session, str(signer))
        check_pending_quota(mine, total, self.context.config.limits)

    # ---- signing with a key held here (the CLI's accounts, the operator's console) ------------

    def publish_as(
        self,
        signer: Signer,
        body: bytes,
        *,
        media_type: str,
        license: str,
        url: str = "",
        parents: list[str] | None = None,
    ) -> Published:
        """Sign a manifest for `body` with `signer` and publish it, with its provenance."""
        message = content_message(
            signer.address, body, media_type, license, now(), url, parents or []
        )
        done = self.publish(sign("content", signer, self.context.domain, message), body)
        with session_scope(self.context.db) as session:
            chain = service.provenance(session, done.id)
            author = service.get_content(session, done.id).author
        return Published(**done.model_dump(), author=author, provenance=chain)

    def attest_as(self, signer: Signer, cid: str, verdict: str, reason: str = "") -> RecordedItem:
        message = {
            "attester": signer.address,
            "cid": cid,
            "verdict": verdict,
            "reason": reason,
            "createdAt": now(),
        }
        return self.attest(sign("attestation", signer, self.context.domain, message))

    def vouch_as(self, signer: Signer, trustee: str) -> RecordedItem:
        message = {"truster": signer.address, "trustee": trustee, "createdAt": now()}
        return self.vouch(sign("trust", signer, self.context.domain, message))

    # ---- reading -------------------------------------------------------------------------------

    def signing_info(self) -> SigningInfo:
        return SigningInfo(
            domain=self.context.domain.as_dict(),
            types={
                "content": CONTENT_TYPES,
                "attestation": ATTESTATION_TYPES,
                "trust": TRUST_TYPES,
            },
        )

    def show(self, cid: str) -> ContentView:
        context = self.context
        with session_scope(context.db) as session:
            item = service.get_content(session, cid)
            manifest = service.manifest_of(item, service.parents_of(session, cid))
            digest, signature = item.digest, item.signature
            chain = service.provenance(session, cid)
            attestations = [
                {
                    "attester": a.attester,
                    "verdict": a.verdict,
                    "reason": a.reason,
                    "createdAt": a.created_at,
                    "digest": a.digest,
                    "signature": a.signature,
                }
                for a in service.attestations_on(session, cid)
            ]
            score = service.latest_score(session, cid)
        proofs = inclusion_proofs(
            context.db, AnchorKind.ATTESTATIONS, [entry["digest"] for entry in attestations]
        )
        for entry in attestations:
            entry["anchor"] = proofs[entry["digest"]]
        return ContentView(
            cid=cid,
            manifest=manifest,
            signature=signature,
            digest=digest,
            anchor=inclusion_proof(context.db, AnchorKind.CONTENT, digest),
            provenance=chain,
            attestations=attestations,
            score=score,
            badge=f"/content/{cid}/badge.svg",
        )

    def body(self, cid: str) -> tuple[bytes, str]:
        """The content's bytes and media type."""
        with session_scope(self.context.db) as session:
            media_type = service.get_content(session, cid).media_type
        return self.context.blobs.get(cid), media_type

    def badge(self, cid: str) -> str:
        """The reputation badge (SVG) of the content's current score."""
        with session_scope(self.context.db) as session:
            service.get_content(session, cid)
            score = service.latest_score(session, cid)
        if score is None:
            return badge_svg("unrated", None, 0)
        return badge_svg(score["status"], score["score"], score["n_ratings"])

    def by_url(self, url_hash: str) -> UrlMatches:
        """CIDs published for content living at the URL whose keccak256 is `url_hash`; in a
        network, anchored ones only (a CID learned before its manifest is anchored could be
        claimed by someone else's manifest anchored first)."""
        if not (url_hash.startswith("0x") and len(url_hash) == 66):
            raise AigoraError("url_hash must be 0x followed by 64 hex digits")
        anchored_only = self.context.network is not None
        with session_scope(self.context.db) as session:
            cids = service.content_by_url(session, url_hash, anchored_only=anchored_only)
            return UrlMatches(url_hash=url_hash.lower(), cids=cids)

    def score_history(self, cid: str) -> list[ScorePoint]:
        """The content's score in every reputation run that scored it, oldest first."""
        with session_scope(self.context.db) as session:
            rows = session.scalars(
                select(ContentScoreRecord)
                .where(ContentScoreRecord.cid == cid)
                .order_by(ContentScoreRecord.run_id)
            ).all()
            return [
                ScorePoint(run=r.run_id, score=r.score, n_ratings=r.n_ratings, status=r.status)
                for r in rows
            ]

    # ---- anchoring -----------------------------------------------------------------------------

    def anchor(self) -> AnchoredNow:
        """Anchor every pending batch of content, attestations and receipts (one transaction
        each); needs the chain and the operator key."""
        context = self.context
        if not isinstance(context, NodeContext):
            raise AigoraError("anchoring needs the chain: open the node")
        with self._anchoring:  # a request and the background pass: one run at a time
            batches = anchor_all(
                context.db, context.chain, context.deployment.registry, context.operator
            )
        return AnchoredNow(batches=batches)

    def anchors(self, limit: int = 50) -> AnchorList:
        """The newest anchored batches."""
        with session_scope(self.context.db) as session:
            rows = session.scalars(
                select(Anchor).order_by(Anchor.id.desc()).limit(max(1, min(limit, MAX_LIST)))
            )
            return AnchorList(
                anchors=[
                    AnchorInfo(
                        batch_id=a.batch_id,
                        kind=a.kind,
                        root=a.root,
                        item_count=a.item_count,
                        tx_hash=a.tx_hash,
                        block_number=a.block_number,
                        anchored_by=a.anchored_by,
                        anchored_at=a.anchored_at.isoformat(),
                    )
                    for a in rows
                ]
            )
