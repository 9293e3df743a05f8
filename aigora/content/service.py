"""Record signed content, attestations and vouches in the store, and read them back with their
provenance. Each function takes an open session; the caller's `session_scope` makes it atomic.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from aigora.content.signed import InvalidSignedObject, Replay, Signed, check, url_hash
from aigora.core.canonical import canonical_json
from aigora.core.cid import cid_of
from aigora.core.eip712 import Domain
from aigora.core.errors import NotFound
from aigora.store.blobs import BlobStore
from aigora.store.content_models import (
    AttestationRecord,
    ContentItem,
    ContentParent,
    ContentScoreRecord,
    ReputationRun,
    TrustRecord,
)
from aigora.store.models import Anchor

MAX_PROVENANCE_DEPTH = 32


@dataclass(frozen=True)
class Recorded:
    """What a write did: the object's id (CID or digest) and whether it was already known."""

    id: str
    digest: str
    duplicate: bool = False
    superseded: str | None = None


def publish(
    session: Session, blobs: BlobStore, domain: Domain, signed: Signed, body: bytes, now: int
) -> Recorded:
    """Store a body under its CID with its signed manifest. The same body again is recognised by
    its CID and not stored twice: the first manifest stands, and `duplicate` says so."""
    if signed.kind != "content":
        raise InvalidSignedObject(f"expected a content manifest, got a {signed.kind}")
    digest = _hex(check(signed, domain, now))
    cid = str(signed.message["cid"])
    actual = cid_of(body)
    if actual != cid:
        raise InvalidSignedObject(f"the manifest names {cid} but the body's CID is {actual}")
    existing = session.get(ContentItem, cid)
    if existing is not None:
        return Recorded(cid, existing.digest, duplicate=True)
    blobs.put(body)
    _add_manifest(session, signed, digest=digest, size=len(body), anchor_id=None)
    return Recorded(cid, digest)


def _add_manifest(
    session: Session,
    signed: Signed,
    *,
    digest: str,
    size: int,
    anchor_id: int | None,
    flush: bool = True,
) -> None:
    """The rows of a checked manifest: the content item and its parents, in order."""
    cid = str(signed.message["cid"])
    url = str(signed.message["url"])
    session.add(
        ContentItem(
            cid=cid,
            author=_address(signed.message["author"]),
            media_type=str(signed.message["mediaType"]),
            license=str(signed.message["license"]),
            url=url,
            url_hash=url_hash(url) if url else None,
            created_at=int(signed.message["createdAt"]),
            size=size,
            digest=digest,
            signature=_hex(signed.signature),
            received_at=datetime.now(UTC),
            anchor_id=anchor_id,
        )
    )
    for position, parent in enumerate(signed.message["parents"]):
        session.add(ContentParent(cid=cid, position=position, parent_cid=str(parent)))
    if flush:
        session.flush()


def attest(session: Session, domain: Domain, signed: Signed, now: int) -> Recorded:
    """Record an attestation. Only an attester's newest attestation on a CID counts: a newer one
    supersedes the old; replaying the same or an older one is refused."""
    if signed.kind != "attestation":
        raise InvalidSignedObject(f"expected an attestation, got a {signed.kind}")
    digest = _hex(check(signed, domain, now))
    _refuse_known_digest(session, AttestationRecord, digest)
    attester, cid = _address(signed.message["attester"]), str(signed.message["cid"])
    created = int(signed.message["createdAt"])
    current = session.scalar(
        select(AttestationRecord).where(
            AttestationRecord.attester == attester,
            AttestationRecord.cid == cid,
            AttestationRecord.superseded.is_(False),
        )
    )
    if current is not None and current.created_at >= created:
        raise Replay(
            f"{attester} already attested {cid} at {current.created_at}; "
            f"an attestation made at {created} is not newer"
        )
    if current is not None:
        current.superseded = True
    session.add(_attestation_row(signed, digest, anchor_id=None))
    session.flush()
    return Recorded(digest, digest, superseded=current.digest if current else None)


def vouch(session: Session, domain: Domain, signed: Signed, now: int) -> Recorded:
    """Record that `truster` vouches for `trustee`; a newer vouch for the same pair supersedes the
    old one (kept: it may be anchored)."""
    if signed.kind != "trust":
        raise InvalidSignedObject(f"expected a trust statement, got a {signed.kind}")
    digest = _hex(check(signed, domain, now))
    _refuse_known_digest(session, TrustRecord, digest)
    truster, trustee = _address(signed.message["truster"]), _address(signed.message["trustee"])
    created = int(signed.message["createdAt"])
    current = session.scalar(
        select(TrustRecord).where(
            TrustRecord.truster == truster,
            TrustRecord.trustee == trustee,
            TrustRecord.superseded.is_(False),
        )
    )
    if current is not None and current.created_at >= created:
        raise Replay(f"{truster} already vouched for {trustee} at {current.created_at}")
    replaced = current.digest if current else None
    if current is not None:
        current.superseded = True
    session.add(_trust_row(signed, digest, anchor_id=None))
    session.flush()
    return Recorded(digest, digest, superseded=replaced)


def pending_counts(session: Session, signer: str) -> tuple[int, int]:
    """Signed items not yet in an anchored batch: `signer`'s (as author, attester or truster)
    and everyone's, one query per table. Superseded attestations and vouches count: they stay
    stored."""
    signer = _address(signer)
    signed_by = [(ContentItem, "author")] + [(t, by) for t, by, _, _ in _STATEMENTS.values()]
    mine = total = 0
    for model, by in signed_by:
        theirs = func.coalesce(func.sum(case((getattr(model, by) == signer, 1), else_=0)), 0)
        everyone, own = session.execute(
            select(func.count(), theirs).select_from(model).where(model.anchor_id.is_(None))
        ).one()
        total += everyone
        mine += own
    return mine, total


def manifest_of(item: ContentItem, parents: list[str]) -> dict[str, Any]:
    """The signed manifest as it was signed, rebuilt from its columns."""
    return {
        "author": item.author,
        "cid": item.cid,
        "mediaType": item.media_type,
        "license": item.license,
        "url": item.url,
        "parents": parents,
        "createdAt": item.created_at,
    }


def attestation_message(record: AttestationRecord) -> dict[str, Any]:
    """The signed `Attestation` message, rebuilt from its columns."""
    return {
        "attester": record.attester,
        "cid": record.cid,
        "verdict": record.verdict,
        "reason": record.reason,
        "createdAt": record.created_at,
    }


def trust_message(record: TrustRecord) -> dict[str, Any]:
    """The signed `Trust` message, rebuilt from its columns."""
    return {"truster": record.truster, "trustee": record.trustee, "createdAt": record.created_at}


def get_content(session: Session, cid: str) -> ContentItem:
    item = session.get(ContentItem, cid)
    if item is None:
        raise NotFound(f"no content {cid} on this node")
    return item


def parents_of(session: Session, cid: str) -> list[str]:
    rows = session.scalars(
        select(ContentParent).where(ContentParent.cid == cid).order_by(ContentParent.position)
    )
    return [row.parent_cid for row in rows]


def provenance(session: Session, cid: str) -> list[dict[str, Any]]:
    """The manifest chain of a derived work: each ancestor once, nearest first, with its depth.
    Ancestors this node does not hold are listed as unknown rather than dropped."""
    chain: list[dict[str, Any]] = []
    seen = {cid}
    frontier = [(parent, 1) for parent in parents_of(session, cid)]
    while frontier:
        parent, depth = frontier.pop(0)
        if parent in seen or depth > MAX_PROVENANCE_DEPTH:
            continue
        seen.add(parent)
        item = session.get(ContentItem, parent)
        if item is None:
            chain.append({"cid": parent, "depth": depth, "known": False})
            continue
        grandparents = parents_of(session, parent)
        chain.append(
            {
                "cid": parent,
                "depth": depth,
                "known": True,
                "author": item.author,
                "createdAt": item.created_at,
                "parents": grandparents,
            }
        )
        frontier.extend((p, depth + 1) for p in grandparents)
    return chain


def attestations_on(session: Session, cid: str, include_superseded: bool = False) -> list[Any]:
    query = select(AttestationRecord).where(AttestationRecord.cid == cid)
    if not include_superseded:
        query = query.where(AttestationRecord.superseded.is_(False))
    return list(session.scalars(query.order_by(AttestationRecord.created_at, AttestationRecord.id)))


def content_by_url(session: Session, url_or_hash: str, anchored_only: bool = False) -> list[str]:
    """CIDs published for content that lives at a URL, found by the URL or its keccak hash
    (`anchored_only`: only those whose manifest is anchored)."""
    wanted = url_or_hash.lower() if url_or_hash.startswith("0x") else url_hash(url_or_hash)
    query = select(ContentItem.cid).where(ContentItem.url_hash == wanted)
    if anchored_only:
        query = query.where(ContentItem.anchor_id.is_not(None))
    return list(session.scalars(query.order_by(ContentItem.cid)))


def _refuse_known_digest(session: Session, model: Any, digest: str) -> None:
    if session.scalar(select(model.id).where(model.digest == digest)) is not None:
        raise Replay(f"this signed message ({digest}) was already recorded")


def _address(value: Any) -> str:
    """One spelling per account (EIP-55), whatever case the signer wrote: two spellings of one
    address must never count as two attesters."""
    return to_checksum_address(str(value))


def _hex(digest: bytes) -> str:
    return "0x" + digest.hex()


def latest_score(session: Session, cid: str) -> dict[str, Any] | None:
    """The content's score in the newest published reputation run, with that run's provenance."""
    run = session.scalar(select(ReputationRun).order_by(ReputationRun.id.desc()).limit(1))
    if run is None:
        return None
    row = session.get(ContentScoreRecord, (run.id, cid))
    if row is None:
        return None
    return {
        "score": row.score,
        "ci_low": row.ci_low,
        "ci_high": row.ci_high,
        "factor": row.factor,
        "n_ratings": row.n_ratings,
        "status": row.status,
        "run": {
            "id": run.id,
            "algorithm_version": run.algorithm_version,
            "attestation_root": run.attestation_root,
            "result_cid": run.result_cid,
            "result_digest": run.result_digest,
        },
    }


# ---- items anchored elsewhere -------------------------------------------------------------------
#
# A node importing a peer's batch records its items with these, not with `publish`/`attest`/
# `vouch`: batches arrive in any order and the network must agree whatever the order, so every
# rule here depends only on the items, never on which arrived first. Signatures are checked by
# the importer before these run (`check`), and the batch is stored in the caller's transaction.


def signed_document(signed: Signed) -> bytes:
    """A signed item as a peer serves it and a batch stores it: canonical JSON of its kind, its
    message as signed and its signature."""
    return canonical_json(
        {"kind": signed.kind, "message": dict(signed.message), "signature": _hex(signed.signature)}
    )


def signed_from_document(document: Any) -> Signed:
    """The signed item of a served or stored document; `InvalidSignedObject` if malformed (the
    signature and fields are checked by `check`)."""
    if not isinstance(document, dict) or set(document) != {"kind", "message", "signature"}:
        raise InvalidSignedObject("a signed item is {kind, message, signature}")
    kind, message, signature = document["kind"], document["message"], document["signature"]
    if kind not in ("content", "attestation", "trust") or not isinstance(message, dict):
        raise InvalidSignedObject(f"unknown signed item kind {kind!r}")
    if not isinstance(signature, str) or not signature.startswith("0x") or len(signature) != 132:
        raise InvalidSignedObject("a signature is 65 bytes of 0x-hex")
    try:
        raw = bytes.fromhex(signature[2:])
    except ValueError:
        raise InvalidSignedObject("a signature is 65 bytes of 0x-hex") from None
    return Signed(kind, message, raw)


def stored_documents(session: Session, kinds: tuple[str, ...], digests: list[str]) -> list[bytes]:
    """The signed documents of items this node recorded itself, by digest (in `digests` order):
    what its own anchored batches are served as. A few queries per `IMPORT_CHUNK` digests."""
    found: dict[str, Signed] = {}
    for chunk in chunks(digests):
        if "content" in kinds:
            items = session.scalars(select(ContentItem).where(ContentItem.digest.in_(chunk))).all()
            parents: dict[str, list[str]] = {item.cid: [] for item in items}
            query = (
                select(ContentParent)
                .where(ContentParent.cid.in_(list(parents)))
                .order_by(ContentParent.cid, ContentParent.position)
            )
            for parent in session.scalars(query):
                parents[parent.cid].append(parent.parent_cid)
            for item in items:
                message = manifest_of(item, parents[item.cid])
                found[item.digest] = Signed("content", message, _raw(item.signature))
        if "attestation" in kinds:
            query = select(AttestationRecord).where(AttestationRecord.digest.in_(chunk))
            for a in session.scalars(query):
                found[a.digest] = Signed("attestation", attestation_message(a), _raw(a.signature))
        if "trust" in kinds:
            for t in session.scalars(select(TrustRecord).where(TrustRecord.digest.in_(chunk))):
                found[t.digest] = Signed("trust", trust_message(t), _raw(t.signature))
    return [signed_document(found[digest]) for digest in digests]


def _raw(signature: str) -> bytes:
    return bytes.fromhex(signature[2:])


def import_manifests(
    session: Session,
    items: Sequence[tuple[Signed, str, int]],
    *,
    anchor_id: int,
    batch_id: int,
) -> None:
    """Record a batch's anchored manifests (signed, digest, body size; the bodies already in the
    blob store). One manifest stands per CID: the one anchored first (lowest batch id, then
    first in leaf order); one still unanchored here gives way to it, and the same manifest held
    unanchored is adopted."""
    held = {
        item.cid: item
        for chunk in chunks([str(signed.message["cid"]) for signed, _, _ in items])
        for item in session.scalars(select(ContentItem).where(ContentItem.cid.in_(chunk)))
    }
    added: set[str] = set()
    with session.no_autoflush:
        for signed, digest, size in items:
            cid = str(signed.message["cid"])
            if cid in added:  # a second manifest of one CID in one batch: the first in leaf
                continue  # order stands (else both rows would collide)
            existing = held.get(cid)
            if existing is not None and not _gives_way(
                session, existing, digest, anchor_id, batch_id
            ):
                continue
            _add_manifest(
                session, signed, digest=digest, size=size, anchor_id=anchor_id, flush=False
            )
            added.add(cid)
    session.flush()


def _gives_way(
    session: Session, existing: ContentItem, digest: str, anchor_id: int, batch_id: int
) -> bool:
    """Whether the manifest held for a CID gives way to one anchored in `batch_id` (then it is
    removed here); the same manifest is adopted into the batch instead."""
    if existing.digest == digest:
        # The same manifest anchored again ranks by its first anchoring, whichever batch
        # arrived here first (else a rival anchored between the two would outrank it on this
        # node and not on one that saw the first batch first).
        if existing.anchor_id is None or _batch_id(session, existing.anchor_id) > batch_id:
            existing.anchor_id = anchor_id
        return False
    if existing.anchor_id is not None and _batch_id(session, existing.anchor_id) < batch_id:
        return False
    for parent in session.scalars(select(ContentParent).where(ContentParent.cid == existing.cid)):
        session.delete(parent)
    session.delete(existing)
    session.flush()
    return True


IMPORT_CHUNK = 500
"""Digests or addresses per `IN (...)` when a batch is read or imported (SQLite allows 32,766
parameters a statement; PostgreSQL 65,535)."""


def import_statements(
    session: Session, kind: str, items: Sequence[tuple[Signed, str]], anchor_id: int
) -> None:
    """Record a batch's anchored attestations or vouches (`kind`: "attestation" or "trust"),
    each with its digest. Of one signer's statements on one subject (a CID, a trustee) the
    newest counts (`newest_key`), whatever order the batches arrived in; one already held
    unanchored is adopted into this batch, never recorded twice. Costs a few queries a batch,
    not a few per item."""
    model, signer_of, subject_of, row_of = _STATEMENTS[kind]
    existing = {
        record.digest: record
        for chunk in chunks([digest for _, digest in items])
        for record in session.scalars(select(model).where(model.digest.in_(chunk)))
    }
    touched: set[tuple[str, str]] = set()
    for signed, digest in items:
        held = existing.get(digest)
        if held is not None:
            held.anchor_id = held.anchor_id or anchor_id
            continue
        record = row_of(signed, digest, anchor_id=anchor_id)
        session.add(record)
        touched.add((getattr(record, signer_of), getattr(record, subject_of)))
    session.flush()
    signers = sorted({signer for signer, _ in touched})
    subjects = sorted({subject for _, subject in touched})
    groups: dict[tuple[str, str], list[Any]] = {}
    for signer_chunk in chunks(signers):
        for subject_chunk in chunks(subjects):
            query = select(model).where(
                getattr(model, signer_of).in_(signer_chunk),
                getattr(model, subject_of).in_(subject_chunk),
            )
            for record in session.scalars(query):
                key = (getattr(record, signer_of), getattr(record, subject_of))
                if key in touched:
                    groups.setdefault(key, []).append(record)
    for group in groups.values():
        _mark_newest(group)


def chunks(values: Sequence[str]) -> list[Sequence[str]]:
    """`values` in runs of `IMPORT_CHUNK`, one `IN (...)` each."""
    return [values[i : i + IMPORT_CHUNK] for i in range(0, len(values), IMPORT_CHUNK)]


def _attestation_row(signed: Signed, digest: str, *, anchor_id: int | None) -> AttestationRecord:
    return AttestationRecord(
        attester=_address(signed.message["attester"]),
        cid=str(signed.message["cid"]),
        verdict=str(signed.message["verdict"]),
        reason=str(signed.message["reason"]),
        created_at=int(signed.message["createdAt"]),
        digest=digest,
        signature=_hex(signed.signature),
        superseded=False,
        received_at=datetime.now(UTC),
        anchor_id=anchor_id,
    )


def _trust_row(signed: Signed, digest: str, *, anchor_id: int | None) -> TrustRecord:
    return TrustRecord(
        truster=_address(signed.message["truster"]),
        trustee=_address(signed.message["trustee"]),
        created_at=int(signed.message["createdAt"]),
        digest=digest,
        signature=_hex(signed.signature),
        superseded=False,
        received_at=datetime.now(UTC),
        anchor_id=anchor_id,
    )


_STATEMENTS: dict[str, tuple[Any, str, str, Any]] = {
    "attestation": (AttestationRecord, "attester", "cid", _attestation_row),
    "trust": (TrustRecord, "truster", "trustee", _trust_row),
}
"""Per statement kind: its table, the signer and subject columns, and how a row is made."""


def newest_key(record: Any) -> tuple[int, str]:
    """The order in which one signer's statements on one subject supersede each other: later
    `createdAt` first, the higher digest breaking a tie (so every node picks the same one)."""
    return (int(record.created_at), str(record.digest))


def _mark_newest(group: list[Any]) -> None:
    newest = max(group, key=newest_key)
    for record in group:
        record.superseded = record is not newest


def _batch_id(session: Session, anchor_id: int) -> int:
    return int(session.scalar(select(Anchor.batch_id).where(Anchor.id == anchor_id)))
