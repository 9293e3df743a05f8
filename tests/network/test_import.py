"""Importing a peer's batch: every rule refuses a lying peer and stores nothing; a good batch is
stored whole, once; and what the network agrees on does not depend on arrival order."""

import time

import pytest
from sqlalchemy import func, select

from aigora.content import Signed, publish_run, sign
from aigora.core.cid import cid_of
from aigora.network import BadBatch, import_batch
from aigora.reputation import ReputationParams
from aigora.store import (
    Anchor,
    AttestationRecord,
    BatchItem,
    ContentItem,
    TrustRecord,
    session_scope,
)
from tests.network.kit import (
    ALICE,
    BOB,
    CAROL,
    DOMAIN,
    MemoryPeer,
    attestation,
    digest_of,
    manifest,
    serve,
    vouch,
)

CONTENT, ATTESTATIONS = 0, 1


def now() -> int:
    return int(time.time())


def counts(node) -> dict[str, int]:
    with session_scope(node.db) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Anchor, BatchItem, ContentItem, AttestationRecord, TrustRecord)
        }


NOTHING = {
    "anchors": 0,
    "batch_items": 0,
    "content": 0,
    "attestations": 0,
    "trust_statements": 0,
}


def content_batch(peer: MemoryPeer, bodies: list[bytes], batch_id: int = 1):
    items = [manifest(body) for body in bodies]
    return serve(
        peer,
        items,
        {cid_of(body): body for body in bodies},
        batch_id=batch_id,
        kind=CONTENT,
    )


def test_a_good_batch_is_stored_whole_with_its_bodies(node):
    peer = MemoryPeer()
    bodies = [b"first essay", b"second essay", b"third essay"]
    found = content_batch(peer, bodies)
    done = import_batch(node.db, node.blobs, DOMAIN, found, peer, now=now())
    assert done.new
    assert done.item_count == 3
    assert counts(node) == {**NOTHING, "anchors": 1, "batch_items": 3, "content": 3}
    for body in bodies:
        assert node.blobs.get(cid_of(body)) == body
    with session_scope(node.db) as session:
        anchor = session.scalar(select(Anchor))
        assert anchor.root == found.root
        assert anchor.anchored_by == ALICE.address
        stored = list(session.scalars(select(BatchItem.digest).order_by(BatchItem.position)))
        assert stored == sorted(digest_of(item) for item in peer.batches[found.root])
        sizes = {row.cid: row.size for row in session.scalars(select(ContentItem))}
        assert sizes == {cid_of(body): len(body) for body in bodies}


def test_importing_a_batch_twice_records_nothing_twice(node):
    peer = MemoryPeer()
    found = content_batch(peer, [b"once", b"only once"])
    import_batch(node.db, node.blobs, DOMAIN, found, peer, now=now())
    again = import_batch(node.db, node.blobs, DOMAIN, found, peer, now=now())
    assert not again.new
    assert counts(node) == {**NOTHING, "anchors": 1, "batch_items": 2, "content": 2}


def tampered(item: Signed, **changes) -> Signed:
    return Signed(item.kind, {**item.message, **changes}, item.signature)


@pytest.mark.parametrize(
    ("lie", "refusal"),
    [
        ("an item dropped", "anchors 3 items; the peer served 2"),
        ("an item added", "anchors 3 items; the peer served 4"),
        ("a message altered", "signed by"),
        ("an item swapped for another validly signed one", "make root"),
        ("an item twice", "one item twice"),
        ("an attestation in a content batch", "cannot hold a attestation"),
        ("a forged signature", "signature"),
    ],
)
def test_a_peer_that_lies_about_a_batch_is_refused_and_nothing_is_stored(node, lie, refusal):
    honest = MemoryPeer()
    bodies = [b"alpha", b"beta", b"gamma"]
    found = content_batch(honest, bodies)
    items = honest.batches[found.root]
    liar = MemoryPeer(name="liar", served_bodies=dict(honest.served_bodies))
    served = {
        "an item dropped": items[:2],
        "an item added": [*items, manifest(b"delta")],
        "a message altered": [tampered(items[0], license="All rights reserved"), *items[1:]],
        "an item swapped for another validly signed one": [manifest(b"delta"), *items[1:]],
        "an item twice": [items[0], items[0], items[1]],
        "an attestation in a content batch": [attestation(cid_of(b"alpha")), *items[1:]],
        "a forged signature": [Signed("content", items[0].message, b"\x01" * 65), *items[1:]],
    }[lie]
    liar.batches[found.root] = served
    if lie == "an item swapped for another validly signed one":
        liar.served_bodies[cid_of(b"delta")] = b"delta"
    with pytest.raises(BadBatch, match=refusal):
        import_batch(node.db, node.blobs, DOMAIN, found, liar, now=now())
    assert counts(node) == NOTHING
    import_batch(node.db, node.blobs, DOMAIN, found, honest, now=now())
    assert counts(node)["content"] == 3


def test_a_body_that_is_not_its_cid_is_refused_and_nothing_is_stored(node):
    honest = MemoryPeer()
    found = content_batch(honest, [b"the real body"])
    liar = MemoryPeer(name="liar", batches=dict(honest.batches))
    liar.served_bodies[cid_of(b"the real body")] = b"a different body"
    with pytest.raises(BadBatch, match="has CID"):
        import_batch(node.db, node.blobs, DOMAIN, found, liar, now=now())
    assert counts(node) == NOTHING
    assert not node.blobs.has(cid_of(b"the real body"))


def test_items_signed_for_another_network_are_refused(node):
    from aigora.content import domain_for

    elsewhere = domain_for(31337, "0x" + "cd" * 20)
    peer = MemoryPeer()
    message = dict(manifest(b"moved").message)
    item = sign("content", ALICE, elsewhere, message)
    found = serve(peer, [item], {cid_of(b"moved"): b"moved"}, batch_id=1, kind=CONTENT)
    with pytest.raises(BadBatch, match="signed by"):
        import_batch(node.db, node.blobs, DOMAIN, found, peer, now=now())
    assert counts(node) == NOTHING


def reputation_digest(node) -> str:
    params = ReputationParams(seeds=(ALICE.address,), damping=0.3)
    return publish_run(node.db, node.blobs, DOMAIN, params, anchored_only=True).result_digest


def test_reputation_is_the_same_whatever_order_batches_arrive_in(node, other):
    """Attestations and vouches superseding each other across batches: two nodes importing the
    batches in opposite orders publish the same digest, with the same statements current."""
    peer = MemoryPeer()
    essay = b"a contested essay"
    cid = cid_of(essay)
    t = now() - 1000
    content = serve(peer, [manifest(essay)], {cid: essay}, batch_id=1, kind=CONTENT)
    early = serve(
        peer,
        [
            attestation(cid, "accurate", by=BOB, created_at=t),
            vouch(BOB.address, by=ALICE, created_at=t),
            attestation(cid, "accurate", by=CAROL, created_at=t),
        ],
        {},
        batch_id=2,
        kind=ATTESTATIONS,
    )
    late = serve(
        peer,
        [
            attestation(cid, "misleading", by=BOB, created_at=t + 10),
            vouch(CAROL.address, by=ALICE, created_at=t + 10),
            vouch(CAROL.address, by=BOB, created_at=t + 5),
        ],
        {},
        batch_id=3,
        kind=ATTESTATIONS,
    )
    for target, order in ((node, (content, early, late)), (other, (late, content, early))):
        for found in order:
            import_batch(target.db, target.blobs, DOMAIN, found, peer, now=now())
    assert reputation_digest(node) == reputation_digest(other)
    for target in (node, other):
        with session_scope(target.db) as session:
            current = session.scalars(
                select(AttestationRecord.verdict).where(
                    AttestationRecord.attester == BOB.address,
                    AttestationRecord.superseded.is_(False),
                )
            ).all()
            assert current == ["misleading"]
            assert session.scalar(select(func.count()).select_from(TrustRecord)) == 3


def test_one_manifest_stands_per_cid_the_first_anchored_whatever_the_order(node, other):
    peer = MemoryPeer()
    body = b"the same body, claimed twice"
    cid = cid_of(body)
    first = serve(peer, [manifest(body, author=ALICE)], {cid: body}, batch_id=4, kind=CONTENT)
    second = serve(peer, [manifest(body, author=BOB)], {cid: body}, batch_id=9, kind=CONTENT)
    import_batch(node.db, node.blobs, DOMAIN, first, peer, now=now())
    import_batch(node.db, node.blobs, DOMAIN, second, peer, now=now())
    import_batch(other.db, other.blobs, DOMAIN, second, peer, now=now())
    import_batch(other.db, other.blobs, DOMAIN, first, peer, now=now())
    for target in (node, other):
        with session_scope(target.db) as session:
            assert session.get(ContentItem, cid).author == ALICE.address
            # Both batches are kept whole, so both can be served as anchored.
            assert session.scalar(select(func.count()).select_from(BatchItem)) == 2


def test_an_item_already_held_unanchored_is_adopted_not_duplicated(node):
    """A person sends the same attestation to two nodes; one anchors it first. The other
    imports that batch and must not anchor the attestation again."""
    from aigora.content import service

    item = attestation(cid_of(b"x"), by=CAROL)
    with session_scope(node.db) as session:
        service.attest(session, DOMAIN, item, now())
    peer = MemoryPeer()
    found = serve(peer, [item], {}, batch_id=7, kind=ATTESTATIONS)
    import_batch(node.db, node.blobs, DOMAIN, found, peer, now=now())
    with session_scope(node.db) as session:
        rows = session.scalars(select(AttestationRecord)).all()
        assert len(rows) == 1
        assert rows[0].anchor_id is not None


def test_a_batch_nobody_supplies_is_retried_ever_less_often_up_to_an_hourly_try():
    from datetime import UTC, datetime, timedelta

    from aigora.network import retry_due

    tried = datetime(2026, 12, 1, tzinfo=UTC)
    assert retry_due(0, tried, tried)
    waits = []
    for attempts in range(1, 15):
        wait = next(
            s for s in range(0, 7200) if retry_due(attempts, tried, tried + timedelta(seconds=s))
        )
        waits.append(wait)
    assert waits[:4] == [10, 20, 40, 80]
    assert waits == sorted(waits)
    assert max(waits) == 3600
