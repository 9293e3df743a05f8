"""A network snapshot commits to what it was built under (`SnapshotBasis`), and the admission
rule says why it refuses an item."""

import numpy as np
import pytest

from aigora.core.cid import cid_of
from aigora.core.hashing import keccak
from aigora.index import AdmissionPolicy, Snapshot, SnapshotBasis, SnapshotError

MODEL = keccak(b"model")
ITEMS = {cid_of(b"p%d" % i): np.full(8, i, np.int8) for i in range(5)}


def basis(policy: bytes = b"policy 1", through: int = 3, skipped: tuple[int, ...] = ()):
    return SnapshotBasis(policy_hash=keccak(policy), through_batch=through, skipped=skipped)


def test_the_basis_is_in_the_root_and_the_file():
    plain = Snapshot.of(MODEL, ITEMS)
    governed = Snapshot.of(MODEL, ITEMS, basis=basis())
    assert governed.root != plain.root
    assert len(governed.tree) == len(ITEMS) + 2  # the items, the generation, the basis
    again = Snapshot.from_bytes(governed.to_bytes(), expected_root=governed.root)
    assert again.basis == governed.basis
    assert Snapshot.from_bytes(plain.to_bytes()).basis is None
    for other in (basis(b"policy 2"), basis(through=4), basis(skipped=(2,))):
        assert Snapshot.of(MODEL, ITEMS, basis=other).root != governed.root


def test_a_new_basis_alone_makes_a_new_generation():
    first = Snapshot.of(MODEL, ITEMS, basis=basis())
    assert first.changed({}, [], basis()) is first
    moved = first.changed({}, [], basis(b"policy 2"))
    assert moved.generation == first.generation + 1
    assert moved.cids == first.cids
    assert moved.root != first.root
    dropped = first.changed({}, [first.cids[1]], basis(b"policy 2"))
    assert dropped.cids == first.cids[:1] + first.cids[2:]
    assert np.array_equal(dropped.embeddings[1], first.embeddings[2])
    assert (
        dropped.root
        == Snapshot(MODEL, dropped.passages, dropped.embeddings, 1, basis(b"policy 2")).root
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy_hash": b"short", "through_batch": 1}, "32 bytes"),
        ({"policy_hash": bytes(32), "through_batch": -1}, "out of range"),
        ({"policy_hash": bytes(32), "through_batch": 3, "skipped": (2, 1)}, "sorted"),
        ({"policy_hash": bytes(32), "through_batch": 3, "skipped": (4,)}, "up to"),
    ],
)
def test_a_malformed_basis_is_refused(kwargs, message):
    with pytest.raises(SnapshotError, match=message):
        SnapshotBasis(**kwargs)


def test_the_rule_names_the_most_specific_reason():
    cid = cid_of(b"x")
    rule = AdmissionPolicy(
        min_score=0.5,
        admit_unscored=False,
        exclude_statuses=("not helpful",),
        licenses=("CC0-1.0",),
        removed={cid: "doxxing"},
    )
    assert rule.refusal(cid, "CC0-1.0", 0.9, "helpful") == "removed by the community: doxxing"
    other = cid_of(b"y")
    assert "licence 'MIT'" in rule.refusal(other, "MIT", 0.9, "helpful")
    assert "not helpful" in rule.refusal(other, "CC0-1.0", 0.9, "not helpful")
    assert "below the policy's minimum" in rule.refusal(other, "CC0-1.0", 0.4, None)
    assert "unscored" in rule.refusal(other, "CC0-1.0", None, None)
    assert rule.refusal(other, "CC0-1.0", 0.5, "helpful") is None
    assert AdmissionPolicy().refusal(other, "anything", None, None) is None
