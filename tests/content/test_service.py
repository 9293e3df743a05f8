"""Publishing, provenance, attestations and vouches against a real SQLite store."""

import pytest
from sqlalchemy import select

from aigora.content import service
from aigora.content.signed import InvalidSignedObject, Replay, url_hash
from aigora.core.cid import cid_of
from aigora.store.content_models import AttestationRecord, ContentItem
from aigora.store.db import session_scope


def publish(world, body: bytes, **fields):
    with session_scope(world.db) as session:
        return service.publish(
            session, world.blobs, world.domain, world.manifest(body, **fields), body, world.now
        )


def test_publish_stores_body_and_manifest(world):
    done = publish(world, b"essay", url="https://example.org/essay")
    assert done.id == cid_of(b"essay")
    assert not done.duplicate
    assert world.blobs.get(done.id) == b"essay"
    with session_scope(world.db) as session:
        item = service.get_content(session, done.id)
        assert item.author == world.alice.address
        assert item.digest == done.digest
        assert service.content_by_url(session, "https://example.org/essay") == [done.id]
        assert service.content_by_url(session, url_hash("https://example.org/essay")) == [done.id]
        assert service.content_by_url(session, "https://example.org/other") == []


def test_duplicate_content_is_recognised_by_cid(world):
    first = publish(world, b"same")
    with session_scope(world.db) as session:
        again = service.publish(
            session,
            world.blobs,
            world.domain,
            world.manifest(b"same", author=world.bob),
            b"same",
            world.now,
        )
    assert again.duplicate
    assert again.digest == first.digest  # the first manifest stands
    with session_scope(world.db) as session:
        assert session.scalar(select(ContentItem.author)) == world.alice.address


def test_body_must_match_the_manifest(world):
    signed = world.manifest(b"what was signed")
    with session_scope(world.db) as session, pytest.raises(InvalidSignedObject, match="body's CID"):
        service.publish(session, world.blobs, world.domain, signed, b"something else", world.now)
    assert list(world.blobs) == []


def test_provenance_chain_of_a_derived_work(world):
    a = publish(world, b"original").id
    b = publish(world, b"translation", parents=[a]).id
    elsewhere = cid_of(b"lives on another node")
    c = publish(world, b"remix", parents=[b, elsewhere]).id
    with session_scope(world.db) as session:
        chain = service.provenance(session, c)
    assert [(e["cid"], e["depth"], e["known"]) for e in chain] == [
        (b, 1, True),
        (elsewhere, 1, False),
        (a, 2, True),
    ]
    assert chain[0]["parents"] == [a]


def attest(world, signed):
    with session_scope(world.db) as session:
        return service.attest(session, world.domain, signed, world.now)


def test_attestations_supersede_and_replays_are_refused(world):
    cid = publish(world, b"claim").id
    first = world.attestation(cid, "misleading", createdAt=world.now - 10)
    attest(world, first)
    with pytest.raises(Replay, match="already recorded"):
        attest(world, first)
    newer = world.attestation(cid, "accurate", reason="sources checked")
    done = attest(world, newer)
    assert done.superseded == "0x" + first.digest(world.domain).hex()
    with pytest.raises(Replay, match="not newer"):
        attest(world, world.attestation(cid, "spam", createdAt=world.now - 5))
    with session_scope(world.db) as session:
        current = service.attestations_on(session, cid)
        everything = service.attestations_on(session, cid, include_superseded=True)
        assert [(a.verdict, a.reason) for a in current] == [("accurate", "sources checked")]
        assert len(everything) == 2


def test_a_failed_attestation_writes_nothing(world):
    cid = publish(world, b"claim").id
    with pytest.raises(InvalidSignedObject):
        attest(world, world.attestation(cid, "nonsense"))
    with session_scope(world.db) as session:
        assert session.scalars(select(AttestationRecord)).all() == []


def test_vouches_replace_older_ones(world):
    with session_scope(world.db) as session:
        service.vouch(
            session, world.domain, world.vouch(world.bob.address, created_at=100), world.now
        )
    with session_scope(world.db) as session, pytest.raises(Replay, match="already vouched"):
        service.vouch(
            session, world.domain, world.vouch(world.bob.address, created_at=50), world.now
        )
    with session_scope(world.db) as session:
        done = service.vouch(
            session, world.domain, world.vouch(world.bob.address, created_at=200), world.now
        )
    assert done.superseded is not None
