"""`check_admission`: a governed snapshot holds exactly what its policy admits (pure rule), and
`policy_problem`: the policy it names was in force when the answer was given."""

import numpy as np
import pytest

from aigora.app._basis import policy_problem
from aigora.chain import EnactmentRecord
from aigora.core.cid import cid_of
from aigora.core.hashing import keccak
from aigora.index import Snapshot, SnapshotBasis
from aigora.verify import AdmissionFacts, Invalid, check_admission

A, B, C = (cid_of(b"a"), cid_of(b"b"), cid_of(b"c"))
RUN = keccak(b"run")
BASIS = SnapshotBasis(policy_hash=keccak(b"p"), through_batch=4, reputation=RUN)


def snapshot(*cids: str, basis: SnapshotBasis | None = BASIS) -> Snapshot:
    return Snapshot.of(keccak(b"m"), {c: np.ones(4, np.int8) for c in cids}, basis=basis)


def facts(admitted=(A, B), refused=None, reputation=RUN, **rest) -> AdmissionFacts:
    return AdmissionFacts(
        policy_problem=None,
        admitted=frozenset(admitted),
        refused=refused or {C: "removed by the community: spam"},
        reputation=reputation,
        **rest,
    )


def invalid(snap: Snapshot, f: AdmissionFacts) -> Invalid:
    with pytest.raises(Invalid) as caught:
        check_admission(snap, f)
    assert caught.value.check == "admission"
    return caught.value


def test_exactly_the_admitted_set_passes():
    assert check_admission(snapshot(A, B), facts()) == []


def test_a_dropped_cid_is_censorship_named():
    error = invalid(snapshot(A), facts())
    assert B in error.reason
    assert "censorship" in error.reason
    assert error.difference == {"cid": B, "missing": 1}


def test_an_excluded_cid_is_named_with_the_reason():
    error = invalid(snapshot(A, B, C), facts())
    assert C in error.reason
    assert "spam" in error.reason


def test_scores_from_another_run_are_invalid():
    assert "reputation run" in invalid(snapshot(A, B), facts(reputation=keccak(b"x"))).reason


def test_no_basis_or_a_policy_problem_is_invalid():
    assert "no policy" in invalid(snapshot(A, B, basis=None), facts()).reason
    problem = AdmissionFacts(policy_problem="never in force")
    assert invalid(snapshot(A, B), problem).reason == "never in force"


def test_what_cannot_be_decided_here_is_a_note_not_a_verdict():
    notes = check_admission(
        snapshot(A, B, cid_of(b"elsewhere")),
        facts(missing_batches=(3,), skipped_held=(2,)),
    )  # a batch of the universe is missing here: an unknown CID may be in it
    assert any("unknown here" in n for n in notes)
    assert any("[3]" in n for n in notes)
    assert any("[2]" in n for n in notes)


def enacted(policy: bytes, at: int, index: int) -> EnactmentRecord:
    return EnactmentRecord(
        proposal_id=index,
        policy_hash=keccak(policy),
        standing_root=bytes(32),
        standing_total=1,
        block_number=index,
        timestamp=at,
    )


def test_a_superseded_policy_is_refused_after_the_grace():
    history = [enacted(b"p0", 100, 0), enacted(b"p1", 1000, 1)]
    old, new = keccak(b"p0"), keccak(b"p1")
    assert policy_problem(history, old, issued_at=500, grace_s=60) is None
    assert policy_problem(history, old, issued_at=1050, grace_s=60) is None  # within the grace
    assert "superseded" in policy_problem(history, old, issued_at=1061, grace_s=60)
    assert policy_problem(history, new, issued_at=1061, grace_s=60) is None
    assert "not yet in force" in policy_problem(history, new, issued_at=900, grace_s=60)
    assert "never in force" in policy_problem(history, keccak(b"?"), issued_at=900, grace_s=60)


def test_a_frozen_universe_is_invalid():
    """An operator that keeps `through_batch` at an old batch leaves out everything anchored
    since: once a later batch is older than the grace, the answer is INVALID."""
    error = invalid(snapshot(A, B), facts(late_batch=(9, 1234)))
    assert "stops at batch 4" in error.reason
    assert "batch 9" in error.reason


def test_an_unknown_cid_is_invalid_when_the_verifier_holds_the_whole_universe():
    stranger = cid_of(b"nobody anchored this")
    assert "no batch of its universe" in invalid(snapshot(A, B, stranger), facts()).reason
    notes = check_admission(snapshot(A, B, stranger), facts(missing_batches=(2,)))
    assert any("unknown here" in n for n in notes)
    held = check_admission(snapshot(A, B, stranger), facts(skipped_only=frozenset({stranger})))
    assert any("skipped batches" in n for n in held)
