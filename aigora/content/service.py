"""Record signed content, attestations and vouches in the store, and read them back with their
provenance. Each function takes an open session; the caller's `session_scope` makes it atomic.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from aigora.content.signed import InvalidSignedObject, Replay, Signed, check, url_hash
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
            size=len(body),
            digest=digest,
            signature="0x" + signed.signature.hex(),
            received_at=datetime.now(UTC),
        )
    )
    for position, parent in enumerate(signed.message["parents"]):
        session.add(ContentParent(cid=cid, position=position, parent_cid=str(parent)))
    session.flush()
    return Recorded(cid, digest)


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
    session.add(
        AttestationRecord(
            attester=attester,
            cid=cid,
            verdict=str(signed.message["verdict"]),
            reason=str(signed.message["reason"]),
            created_at=created,
            digest=digest,
            signature="0x" + signed.signature.hex(),
            superseded=False,
            received_at=datetime.now(UTC),
        )
    )
    session.flush()
    return Recorded(digest, digest, superseded=current.digest if current else None)


def vouch(session: Session, domain: Domain, signed: Signed, now: int) -> Recorded:
    """Record that `truster` vouches for `trustee`; a newer vouch for the same pair replaces it."""
    if signed.kind != "trust":
        raise InvalidSignedObject(f"expected a trust statement, got a {signed.kind}")
    digest = _hex(check(signed, domain, now))
    _refuse_known_digest(session, TrustRecord, digest)
    truster, trustee = _address(signed.message["truster"]), _address(signed.message["trustee"])
    created = int(signed.message["createdAt"])
    current = session.scalar(
        select(TrustRecord).where(TrustRecord.truster == truster, TrustRecord.trustee == trustee)
    )
    if current is not None and current.created_at >= created:
        raise Replay(f"{truster} already vouched for {trustee} at {current.created_at}")
    replaced = current.digest if current else None
    if current is not None:
        session.delete(current)
        session.flush()
    session.add(
        TrustRecord(
            truster=truster,
            trustee=trustee,
            created_at=created,
            digest=digest,
            signature="0x" + signed.signature.hex(),
            received_at=datetime.now(UTC),
        )
    )
    session.flush()
    return Recorded(digest, digest, superseded=replaced)


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


def content_by_url(session: Session, url_or_hash: str) -> list[str]:
    """CIDs published for content that lives at a URL, found by the URL or its keccak hash."""
    wanted = url_or_hash.lower() if url_or_hash.startswith("0x") else url_hash(url_or_hash)
    rows = session.scalars(
        select(ContentItem.cid).where(ContentItem.url_hash == wanted).order_by(ContentItem.cid)
    )
    return list(rows)


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
