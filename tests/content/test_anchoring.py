"""Batches of manifests and attestations are anchored by Merkle root, proofs verify on-chain, and a
crash between sending and recording neither loses the batch nor anchors it twice."""

import pytest
from sqlalchemy import select

from aigora.chain import read_batch
from aigora.chain.deploy import RegistryParams, deploy_foundation
from aigora.content import service
from aigora.content.anchoring import (
    KIND_CODES,
    anchor_all,
    anchor_pending,
    batch_tree,
    inclusion_proof,
)
from aigora.content.signed import domain_for
from aigora.core.hashing import keccak
from aigora.store.answer_models import ReceiptRecord
from aigora.store.content_models import AttestationRecord, ContentItem
from aigora.store.db import session_scope
from aigora.store.models import Anchor, AnchorKind


@pytest.fixture
def onchain(world, chain):
    deployer = chain.dev_signers()[0]
    deployment = deploy_foundation(chain, deployer, RegistryParams(min_bond=1, unbonding_delay_s=1))
    world.domain = domain_for(chain.chain_id, deployment.registry.address)
    return chain, deployment.registry, deployer


def publish_and_attest(world, bodies: list[bytes]) -> list[str]:
    cids = []
    with session_scope(world.db) as session:
        for body in bodies:
            signed = world.manifest(body)
            cids.append(
                service.publish(session, world.blobs, world.domain, signed, body, world.now).id
            )
        for cid in cids[:2]:
            service.attest(session, world.domain, world.attestation(cid), world.now)
    return cids


def test_one_transaction_per_batch_and_proofs_verify_on_chain(world, onchain):
    chain, registry, signer = onchain
    publish_and_attest(world, [b"one", b"two", b"three"])
    batches = anchor_all(world.db, chain, registry, signer)
    assert [(b.kind, b.item_count, b.sent) for b in batches] == [
        ("content", 3, True),
        ("attestations", 2, True),
    ]
    assert chain.call(registry.functions.batch_count()) == 2
    with session_scope(world.db) as session:
        digests = {
            AnchorKind.CONTENT: list(session.scalars(select(ContentItem.digest))),
            AnchorKind.ATTESTATIONS: list(session.scalars(select(AttestationRecord.digest))),
        }
    verify = registry.functions.verify_inclusion
    for kind, items in digests.items():
        for digest in items:
            proof = inclusion_proof(world.db, kind, digest)
            leaf = bytes.fromhex(proof["leaf"][2:])
            path = [bytes.fromhex(p[2:]) for p in proof["proof"]]
            assert chain.call(verify(proof["batch_id"], leaf, path))
            assert not chain.call(verify(3 - proof["batch_id"], leaf, path))
    assert anchor_all(world.db, chain, registry, signer) == []


def test_nothing_pending_sends_nothing(world, onchain):
    chain, registry, signer = onchain
    assert anchor_pending(world.db, chain, registry, signer, AnchorKind.CONTENT) is None
    assert chain.call(registry.functions.batch_count()) == 0


def test_a_crash_after_sending_is_recorded_without_sending_again(world, onchain):
    chain, registry, signer = onchain
    publish_and_attest(world, [b"a", b"b"])
    with session_scope(world.db) as session:
        pending = sorted(session.scalars(select(ContentItem.digest)))
    # What a node that crashed right after its transaction left behind: the root on-chain only.
    root = batch_tree(pending).root
    chain.transact(signer, registry.functions.anchor(KIND_CODES[AnchorKind.CONTENT], root, 2))

    batch = anchor_pending(world.db, chain, registry, signer, AnchorKind.CONTENT)
    assert batch is not None
    assert not batch.sent
    assert batch.batch_id == 1
    assert chain.call(registry.functions.batch_count()) == 1
    with session_scope(world.db) as session:
        (anchor,) = session.scalars(select(Anchor)).all()
        assert anchor.root == "0x" + root.hex()
        assert anchor.anchored_by == signer.address
        assert all(item.anchor_id == anchor.id for item in session.scalars(select(ContentItem)))


def test_a_root_squatted_by_someone_else_is_not_adopted(world, onchain):
    """An attacker who anchors the node's pending root first, as another kind or the same,
    takes nothing: the node anchors it under its own address and records its own batch."""
    chain, registry, signer = onchain
    attacker = chain.dev_signers()[1]
    publish_and_attest(world, [b"a", b"b"])
    with session_scope(world.db) as session:
        pending = sorted(session.scalars(select(ContentItem.digest)))
    root = batch_tree(pending).root
    for kind in (AnchorKind.CONTENT, AnchorKind.ATTESTATIONS):
        chain.transact(attacker, registry.functions.anchor(KIND_CODES[kind], root, 2))

    batch = anchor_pending(world.db, chain, registry, signer, AnchorKind.CONTENT)
    assert batch is not None
    assert batch.sent
    assert batch.batch_id == 3
    with session_scope(world.db) as session:
        (anchor,) = session.scalars(select(Anchor)).all()
        assert (anchor.batch_id, anchor.anchored_by) == (3, signer.address)


def _receipt(world, chain, registry, signer, nonce: int) -> str:
    digest = "0x" + keccak(b"receipt %d" % nonce).hex()
    with session_scope(world.db) as session:
        session.add(
            ReceiptRecord(
                digest=digest,
                chain_id=chain.chain_id,
                registry_address=registry.address,
                operator=signer.address,
                nonce=nonce,
                snapshot_root="0x" + "00" * 32,
                fee="0",
                issued_at=0,
                document="{}",
            )
        )
    return digest


@pytest.fixture
def operator(onchain):
    chain, registry, signer = onchain
    token = chain.contract("Token", chain.call(registry.functions.token()))
    chain.transact(signer, token.functions.mint(signer.address, 1))
    chain.transact(signer, token.functions.approve(registry.address, 1))
    chain.transact(signer, registry.functions.register_operator(1, "http://op"))
    chain.transact(signer, registry.functions.set_slasher(signer.address))
    return onchain


def test_receipts_are_anchored_by_nonce_range_once_and_adopted_after_a_crash(world, operator):
    chain, registry, signer = operator
    first = [_receipt(world, chain, registry, signer, n) for n in (1, 2, 3)]
    batch = anchor_pending(world.db, chain, registry, signer, AnchorKind.RECEIPTS)
    assert batch is not None
    assert (batch.sent, batch.item_count) == (True, 3)
    record = read_batch(chain, registry, batch.batch_id)
    assert (record.first_nonce, record.last_nonce, record.anchorer) == (1, 3, signer.address)
    assert batch.root == "0x" + batch_tree(first).root.hex()
    # Sent, then crashed before recording: the next pass adopts the batch, never re-sends.
    later = [_receipt(world, chain, registry, signer, n) for n in (4, 5)]
    root = batch_tree(later).root
    chain.transact(signer, registry.functions.anchor_receipts(root, 2, 4, 5))
    adopted = anchor_pending(world.db, chain, registry, signer, AnchorKind.RECEIPTS)
    assert adopted is not None
    assert (adopted.sent, adopted.batch_id) == (False, 2)
    assert anchor_pending(world.db, chain, registry, signer, AnchorKind.RECEIPTS) is None


def test_receipts_the_registry_has_passed_do_not_stall_the_rest(world, operator, caplog):
    """A batch this node did not build (its key used elsewhere, a restored database) covers
    nonces it holds receipts under: those can never be anchored; the later ones still are."""
    chain, registry, signer = operator
    for n in (1, 2):
        _receipt(world, chain, registry, signer, n)
    chain.transact(signer, registry.functions.anchor_receipts(keccak(b"elsewhere"), 2, 1, 4))
    fresh = _receipt(world, chain, registry, signer, 5)
    batch = anchor_pending(world.db, chain, registry, signer, AnchorKind.RECEIPTS)
    assert batch is not None
    assert (batch.sent, batch.item_count, batch.root) == (
        True,
        1,
        "0x" + batch_tree([fresh]).root.hex(),
    )
    assert "2 receipts (nonces 1-2) can never be anchored" in caplog.text
