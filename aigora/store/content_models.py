"""Tables for published content, attestations, trust statements and reputation runs.

Signed objects are stored with their signature and EIP-712 digest (unique: the same signed message
twice is a replay). `anchor_id` is null until the item's batch root is anchored on-chain; the items
of one anchor rebuild its Merkle tree, so proofs need no extra storage.
"""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from aigora.store._types import UTCDateTime
from aigora.store.models import Base

VERDICTS = ("accurate", "misleading", "spam")
VERDICT_CHECK = "verdict IN ({})".format(", ".join(f"'{v}'" for v in VERDICTS))


class ContentItem(Base):
    """A published body and its signed manifest; the body itself lives in the blob store."""

    __tablename__ = "content"

    cid: Mapped[str] = mapped_column(String(80), primary_key=True)
    author: Mapped[str] = mapped_column(String(42), index=True)
    media_type: Mapped[str] = mapped_column(String(255))
    license: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str | None] = mapped_column(String(66), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(66), unique=True)
    signature: Mapped[str] = mapped_column(String(132))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id"), index=True)


class ContentParent(Base):
    """One parent of a derived work, in the order the manifest lists them."""

    __tablename__ = "content_parents"

    cid: Mapped[str] = mapped_column(ForeignKey("content.cid"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    parent_cid: Mapped[str] = mapped_column(String(80), index=True)


class AttestationRecord(Base):
    """A community attestation about a CID. Only an attester's newest one per CID counts; older
    ones stay (they were signed and maybe anchored) but are marked superseded."""

    __tablename__ = "attestations"
    __table_args__ = (
        CheckConstraint(VERDICT_CHECK, name="verdict"),
        Index(None, "attester", "cid"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attester: Mapped[str] = mapped_column(String(42))
    cid: Mapped[str] = mapped_column(String(80), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(66), unique=True)
    signature: Mapped[str] = mapped_column(String(132))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id"), index=True)


class TrustRecord(Base):
    """A signed statement that `truster` vouches for `trustee` (the edges of seeded trust). Only
    a truster's newest vouch per trustee counts; older ones stay (they may be anchored, and a
    batch is served as anchored) but are marked superseded."""

    __tablename__ = "trust_statements"
    __table_args__ = (Index(None, "truster", "trustee"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    truster: Mapped[str] = mapped_column(String(42))
    trustee: Mapped[str] = mapped_column(String(42), index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(66), unique=True)
    signature: Mapped[str] = mapped_column(String(132))
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anchor_id: Mapped[int | None] = mapped_column(ForeignKey("anchors.id"), index=True)


class ReputationRun(Base):
    """One published computation of reputation: its inputs' root, parameters and result digest.
    The full result is a canonical-JSON blob (`result_cid`) so anyone can fetch and recompute it."""

    __tablename__ = "reputation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    algorithm_version: Mapped[str] = mapped_column(String(64))
    attestation_root: Mapped[str] = mapped_column(String(66))
    attestation_count: Mapped[int] = mapped_column(Integer)
    params_json: Mapped[str] = mapped_column(Text)
    result_cid: Mapped[str] = mapped_column(String(80))
    result_digest: Mapped[str] = mapped_column(String(66))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContentScoreRecord(Base):
    """A content item's score in one run, denormalised from the result blob for lookups."""

    __tablename__ = "content_scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("reputation_runs.id"), primary_key=True)
    cid: Mapped[str] = mapped_column(String(80), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    factor: Mapped[float] = mapped_column(Float)
    n_ratings: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
