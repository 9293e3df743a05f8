"""Attacks on `check_admission` found by the review of issue 19, each an operator that builds
its snapshot outside what the policy admits, and the verdict it gets.

- A CID the community removed, anchored in a batch the operator calls "skipped": the removal
  and licence rules hold for every CID the verifier knows, wherever it was anchored, so it is
  INVALID (the skipped batch's other items are only a note: their manifest may stand in
  another batch the operator holds).
- A CID nobody anchored, injected when the verifier holds every batch of the universe: INVALID.
"""

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from aigora.app._basis import derive_admission
from aigora.core.canonical import canonical_json
from aigora.core.cid import cid_of
from aigora.core.hashing import keccak
from aigora.governance import genesis_policy, parse_policy
from aigora.index import Snapshot, SnapshotBasis
from aigora.store import (
    Anchor,
    AnchorKind,
    BlobStore,
    ContentItem,
    make_engine,
    migrate,
    session_scope,
    sqlite_url,
)
from aigora.verify import AdmissionFacts, Invalid, check_admission

CHAIN_ID = 31337
REGISTRY = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
AUTHOR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
WHEN = datetime(2025, 3, 1, tzinfo=UTC)
SEEDS = ["0x" + "11" * 20, "0x" + "22" * 20]


def _store(tmp_path: Path, batches: dict[int, bytes]):
    engine = make_engine(sqlite_url(tmp_path / "db" / "aigora.db"))
    migrate(engine)
    blobs = BlobStore(tmp_path / "blobs")
    cids = {}
    with session_scope(engine) as session:
        for batch, body in batches.items():
            anchor = Anchor(
                chain_id=CHAIN_ID,
                kind=AnchorKind.CONTENT,
                root="0x" + keccak(body).hex(),
                batch_id=batch,
                tx_hash="0x" + "ab" * 32,
                block_number=batch + 1,
                item_count=1,
                anchored_by=AUTHOR,
                anchored_at=WHEN,
            )
            session.add(anchor)
            session.flush()
            cid = blobs.put(body)
            session.add(
                ContentItem(
                    cid=cid,
                    author=AUTHOR,
                    media_type="text/plain",
                    license="CC0-1.0",
                    url="",
                    url_hash=None,
                    created_at=batch,
                    size=len(body),
                    digest="0x" + keccak(body).hex(),
                    signature="0x" + "00" * 65,
                    received_at=WHEN,
                    anchor_id=anchor.id,
                )
            )
            cids[batch] = cid
    return engine, blobs, cids


def _facts(engine, blobs, policy, basis) -> AdmissionFacts:
    derived = derive_admission(engine, blobs, policy, basis, chain_id=CHAIN_ID, registry=REGISTRY)
    return AdmissionFacts(
        policy_problem=None,
        admitted=derived.admitted,
        refused=derived.refused,
        reputation=derived.reputation,
        missing_batches=derived.missing_batches,
    )


def _snapshot(cids, basis) -> Snapshot:
    return Snapshot.of(keccak(b"model"), {c: np.ones(4, np.int8) for c in cids}, basis=basis)


def test_a_removed_cid_in_a_skipped_batch_is_still_refused(tmp_path):
    engine, blobs, cids = _store(tmp_path, {1: b"fine", 2: b"doxxing: a private address"})
    data = genesis_policy(SEEDS).model_dump(mode="json")
    data["admission"]["removed"] = [{"cid": cids[2], "reason": "doxxing"}]
    policy = parse_policy(canonical_json(data))
    # The operator says nobody could serve it batch 2, yet keeps batch 2's removed passage.
    basis = SnapshotBasis(policy_hash=policy.hash(), through_batch=2, skipped=(2,))
    facts = _facts(engine, blobs, policy, basis)
    with pytest.raises(Invalid) as caught:
        check_admission(_snapshot([cids[1], cids[2]], basis), facts)
    assert "doxxing" in caught.value.reason


def test_an_unanchored_cid_is_invalid_when_every_batch_is_held(tmp_path):
    engine, blobs, cids = _store(tmp_path, {1: b"fine"})
    policy = genesis_policy(SEEDS)
    basis = SnapshotBasis(policy_hash=policy.hash(), through_batch=1)
    facts = _facts(engine, blobs, policy, basis)
    assert facts.missing_batches == ()  # the verifier holds the whole universe
    injected = cid_of(b"an advert nobody published or anchored")
    with pytest.raises(Invalid):
        check_admission(_snapshot([cids[1], injected], basis), facts)
