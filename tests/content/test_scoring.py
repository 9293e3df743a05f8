"""Reputation runs over stored, signed attestations: published with their inputs, reproduced to
the bit from those inputs alone, and tampering is caught."""

import json
import os

import pytest
from sqlalchemy import select

from aigora.content import service
from aigora.content.scoring import NotReproduced, publish_run, reproduce
from aigora.core.cid import cid_of
from aigora.core.keystore import Signer
from aigora.reputation import ReputationParams
from aigora.store.content_models import ContentScoreRecord, ReputationRun
from aigora.store.db import session_scope


@pytest.fixture
def community(world):
    """A seed vouching for 8 attesters who all call one item accurate and one misleading."""
    seed = world.alice
    raters = [Signer.dev(os.urandom(32)) for _ in range(8)]
    good, bad = cid_of(b"well sourced"), cid_of(b"fabricated")
    with session_scope(world.db) as session:
        for rater in raters:
            service.vouch(session, world.domain, world.vouch(rater.address, by=seed), world.now)
            service.attest(session, world.domain, world.attestation(good, by=rater), world.now)
            bad_verdict = world.attestation(bad, "misleading", by=rater)
            service.attest(session, world.domain, bad_verdict, world.now)
    return ReputationParams(seeds=(seed.address,)), good, bad


def test_publish_then_reproduce(world, community):
    params, good, bad = community
    summary = publish_run(world.db, world.blobs, world.domain, params)
    assert summary.ratings == 16
    assert summary.trust_edges == 8
    with session_scope(world.db) as session:
        scores = {s.cid: s for s in session.scalars(select(ContentScoreRecord))}
        shown = service.latest_score(session, good)
    assert scores[good].score > scores[bad].score
    assert scores[good].ci_low <= scores[good].score <= scores[good].ci_high
    assert shown["run"]["result_digest"] == summary.result_digest
    assert reproduce(world.db, world.blobs, world.domain).reproduced


def test_a_doctored_record_is_not_reproduced(world, community):
    params, _, _ = community
    summary = publish_run(world.db, world.blobs, world.domain, params)
    with session_scope(world.db) as session:
        run = session.get(ReputationRun, summary.run_id)
        run.result_digest = "0x" + "11" * 32
    outcome = reproduce(world.db, world.blobs, world.domain)
    assert not outcome.reproduced
    assert outcome.recomputed_digest == summary.result_digest


def test_altered_inputs_fail_their_signatures(world, community):
    params, _, _ = community
    summary = publish_run(world.db, world.blobs, world.domain, params)
    document = json.loads(world.blobs.get(summary.result_cid))
    document["inputs"]["attestations"][0]["message"]["verdict"] = "spam"
    forged = world.blobs.put(json.dumps(document).encode())
    with session_scope(world.db) as session:
        session.get(ReputationRun, summary.run_id).result_cid = forged
    with pytest.raises(NotReproduced, match=r"is signed by .*, not by its attester"):
        reproduce(world.db, world.blobs, world.domain)
