"""Registry access rules, bookkeeping and events, including every revert, on both backends."""

import pytest

from aigora.chain import read_batch, read_snapshot
from aigora.core.errors import ContractRevert
from aigora.core.merkle import StandardMerkleTree

KIND_CONTENT, KIND_ATTESTATIONS, KIND_RECEIPTS = 0, 1, 2
ROOT = b"\x11" * 32
MODEL = b"\x22" * 32
SNAPSHOT = b"\x33" * 32


def operator(setup, who):
    bond, unbonding, ready_at, registered_at, endpoint, slashed = setup.chain.call(
        setup.registry.functions.operators(who.address)
    )
    return {
        "bond": bond,
        "unbonding": unbonding,
        "ready_at": ready_at,
        "registered_at": registered_at,
        "endpoint": endpoint,
        "slashed": slashed,
    }


def is_active(setup, who) -> bool:
    return setup.chain.call(setup.registry.functions.is_active_operator(who.address))


# ---- operators and bonds -------------------------------------------------------------------


def test_register_operator_locks_bond_and_logs(setup):
    setup.chain.transact(setup.alice, setup.token.functions.approve(setup.registry.address, 1500))
    result = setup.chain.transact(
        setup.alice, setup.registry.functions.register_operator(1500, "https://alice.example")
    )
    (log,) = setup.chain.events_in(result, setup.registry.events.OperatorRegistered)
    assert log.args.operator == setup.alice.address
    assert (log.args.bond, log.args.endpoint) == (1500, "https://alice.example")
    assert setup.balance(setup.registry.address) == 1500
    assert setup.balance(setup.alice.address) == 100_000 - 1500
    state = operator(setup, setup.alice)
    assert state["bond"] == 1500
    assert state["registered_at"] == setup.chain.now()
    assert is_active(setup, setup.alice)
    assert not is_active(setup, setup.bob)


def test_register_reverts(setup):
    chain, registry = setup.chain, setup.registry
    with pytest.raises(ContractRevert, match="bond below minimum"):
        chain.transact(setup.alice, registry.functions.register_operator(setup.min_bond - 1, ""))
    with pytest.raises(ContractRevert, match="insufficient allowance"):
        chain.transact(setup.alice, registry.functions.register_operator(setup.min_bond, ""))
    setup.register(setup.alice)
    with pytest.raises(ContractRevert, match="already registered"):
        setup.register(setup.alice)
    assert operator(setup, setup.alice)["bond"] == setup.min_bond


def test_add_bond(setup):
    with pytest.raises(ContractRevert, match="not an active operator"):
        setup.chain.transact(setup.bob, setup.registry.functions.add_bond(10))
    setup.register(setup.alice)
    setup.chain.transact(setup.alice, setup.token.functions.approve(setup.registry.address, 10))
    with pytest.raises(ContractRevert, match="amount must be positive"):
        setup.chain.transact(setup.alice, setup.registry.functions.add_bond(0))
    result = setup.chain.transact(setup.alice, setup.registry.functions.add_bond(10))
    (log,) = setup.chain.events_in(result, setup.registry.events.BondAdded)
    assert (log.args.amount, log.args.bond) == (10, setup.min_bond + 10)


def test_unbond_waits_for_the_delay(setup):
    chain, registry = setup.chain, setup.registry
    setup.register(setup.alice, bond=setup.min_bond * 2)
    with pytest.raises(ContractRevert, match="amount exceeds bond"):
        chain.transact(setup.alice, registry.functions.request_unbond(setup.min_bond * 2 + 1))
    with pytest.raises(ContractRevert, match="remaining bond below minimum"):
        chain.transact(setup.alice, registry.functions.request_unbond(setup.min_bond + 1))
    with pytest.raises(ContractRevert, match="nothing to withdraw"):
        chain.transact(setup.alice, registry.functions.withdraw_bond())

    result = chain.transact(setup.alice, registry.functions.request_unbond(setup.min_bond * 2))
    (log,) = setup.chain.events_in(result, setup.registry.events.UnbondRequested)
    assert log.args.ready_at == chain.now() + setup.unbonding_delay
    assert not is_active(setup, setup.alice)  # a leaving operator no longer backs answers

    with pytest.raises(ContractRevert, match="unbonding delay not over"):
        chain.transact(setup.alice, registry.functions.withdraw_bond())
    chain.advance_time(setup.unbonding_delay - 10)
    with pytest.raises(ContractRevert, match="unbonding delay not over"):
        chain.transact(setup.alice, registry.functions.withdraw_bond())
    chain.advance_time(10)
    result = chain.transact(setup.alice, registry.functions.withdraw_bond())
    (log,) = setup.chain.events_in(result, setup.registry.events.BondWithdrawn)
    assert log.args.amount == setup.min_bond * 2
    assert setup.balance(setup.alice.address) == 100_000
    assert setup.balance(registry.address) == 0
    with pytest.raises(ContractRevert, match="nothing to withdraw"):
        chain.transact(setup.alice, registry.functions.withdraw_bond())


def test_unbond_by_non_operator_reverts(setup):
    with pytest.raises(ContractRevert, match="not an operator"):
        setup.chain.transact(setup.bob, setup.registry.functions.request_unbond(1))


def test_slasher_is_set_once_by_the_owner(setup):
    chain, registry = setup.chain, setup.registry
    with pytest.raises(ContractRevert, match="only the owner"):
        chain.transact(setup.alice, registry.functions.set_slasher(setup.alice.address))
    result = chain.transact(setup.owner, registry.functions.set_slasher(setup.carol.address))
    (log,) = setup.chain.events_in(result, setup.registry.events.SlasherSet)
    assert log.args.slasher == setup.carol.address
    with pytest.raises(ContractRevert, match="slasher already set"):
        chain.transact(setup.owner, registry.functions.set_slasher(setup.bob.address))


def test_only_the_slasher_opens_and_closes_disputes(setup):
    """Slashing itself (whole bond, half burned, half shared) is played against the real
    disputes contract in tests/chain/test_economics.py."""
    chain, registry = setup.chain, setup.registry
    setup.register(setup.alice)
    chain.transact(setup.owner, registry.functions.set_slasher(setup.carol.address))
    for call in (
        registry.functions.dispute_opened(setup.alice.address, 1),
        registry.functions.dispute_closed(setup.alice.address, 1, setup.bob.address, True),
    ):
        with pytest.raises(ContractRevert, match="only the slasher"):
            chain.transact(setup.bob, call)
    chain.transact(setup.carol, registry.functions.dispute_opened(setup.alice.address, 1))
    assert chain.call(registry.functions.open_disputes(setup.alice.address)) == 1
    chain.transact(setup.alice, registry.functions.request_unbond(setup.min_bond))
    chain.advance_time(setup.unbonding_delay + 1)
    with pytest.raises(ContractRevert, match="a dispute against this operator is open"):
        chain.transact(setup.alice, registry.functions.withdraw_bond())
    lost = registry.functions.dispute_closed(setup.alice.address, 1, setup.bob.address, False)
    chain.transact(setup.carol, lost)
    chain.transact(setup.alice, registry.functions.withdraw_bond())
    assert setup.balance(setup.alice.address) == 100_000
    with pytest.raises(ContractRevert, match="no reward to collect"):
        chain.transact(setup.bob, registry.functions.collect_reward(1))


# ---- anchors -------------------------------------------------------------------------------


def test_anyone_anchors_and_the_registry_records_it(setup):
    chain, registry = setup.chain, setup.registry
    result = chain.transact(setup.bob, registry.functions.anchor(KIND_ATTESTATIONS, ROOT, 42))
    (log,) = setup.chain.events_in(result, setup.registry.events.BatchAnchored)
    assert (log.args.batch_id, log.args.kind, log.args.anchorer) == (
        1,
        KIND_ATTESTATIONS,
        setup.bob.address,
    )
    assert (log.args.root, log.args.item_count) == (ROOT, 42)
    batch = read_batch(chain, registry, 1)
    assert (batch.root, batch.kind, batch.anchorer, batch.item_count) == (
        ROOT,
        KIND_ATTESTATIONS,
        setup.bob.address,
        42,
    )
    assert (batch.timestamp, batch.block_number) == (chain.now(), result.block_number)
    assert (batch.first_nonce, batch.last_nonce) == (0, 0)
    batch_of = registry.functions.batch_of
    assert chain.call(batch_of(setup.bob.address, KIND_ATTESTATIONS, ROOT)) == 1
    assert chain.call(batch_of(setup.carol.address, KIND_ATTESTATIONS, ROOT)) == 0
    assert chain.call(batch_of(setup.bob.address, KIND_CONTENT, ROOT)) == 0
    with pytest.raises(ContractRevert, match="receipts use anchor_receipts"):
        chain.transact(setup.carol, registry.functions.anchor(KIND_RECEIPTS, b"\x12" * 32, 1))
    assert chain.call(registry.functions.batch_count()) == 1


@pytest.mark.parametrize(
    ("kind", "root", "count", "reason"),
    [
        (3, ROOT, 1, "unknown batch kind"),
        (KIND_CONTENT, b"\x00" * 32, 1, "empty root"),
        (KIND_CONTENT, ROOT, 0, "empty batch"),
    ],
)
def test_anchor_rejects_malformed_batches(setup, kind, root, count, reason):
    with pytest.raises(ContractRevert, match=reason):
        setup.chain.transact(setup.bob, setup.registry.functions.anchor(kind, root, count))
    assert setup.chain.call(setup.registry.functions.batch_count()) == 0


def test_a_root_is_anchored_once_per_anchorer_and_kind(setup):
    """Anchoring someone's root first, under any kind, takes nothing from them (no squatting)."""
    chain, registry = setup.chain, setup.registry
    chain.transact(setup.bob, registry.functions.anchor(KIND_CONTENT, ROOT, 1))
    with pytest.raises(ContractRevert, match="root already anchored"):
        chain.transact(setup.bob, registry.functions.anchor(KIND_CONTENT, ROOT, 1))
    chain.transact(setup.carol, registry.functions.anchor(KIND_CONTENT, ROOT, 1))
    chain.transact(setup.bob, registry.functions.anchor(KIND_ATTESTATIONS, ROOT, 1))
    setup.register(setup.alice)
    chain.transact(setup.owner, registry.functions.set_slasher(setup.owner.address))
    chain.transact(setup.alice, registry.functions.anchor_receipts(ROOT, 1, 1, 1))
    anchorers = [read_batch(chain, registry, i).anchorer for i in (1, 2, 3, 4)]
    bob, carol, alice = setup.bob.address, setup.carol.address, setup.alice.address
    assert anchorers == [bob, carol, bob, alice]


def test_receipts_are_anchored_once_by_their_operator(setup):
    """Each receipts batch covers nonces above every earlier one: a receipt cannot be
    re-anchored (which would reopen its challenge window), by anyone."""
    chain, registry = setup.chain, setup.registry
    anchor = registry.functions.anchor_receipts
    setup.register(setup.alice)
    with pytest.raises(ContractRevert, match="no slasher yet"):
        chain.transact(setup.alice, anchor(ROOT, 3, 1, 5))  # nothing could take the bond
    chain.transact(setup.owner, registry.functions.set_slasher(setup.owner.address))
    with pytest.raises(ContractRevert, match="not a bonded operator"):
        chain.transact(setup.bob, anchor(ROOT, 1, 1, 1))
    chain.transact(setup.alice, anchor(ROOT, 3, 1, 5))
    batch = read_batch(chain, registry, 1)
    assert (batch.kind, batch.anchorer, batch.first_nonce, batch.last_nonce) == (
        KIND_RECEIPTS,
        setup.alice.address,
        1,
        5,
    )
    assert chain.call(registry.functions.last_receipt_batch(setup.alice.address)) == 1
    for first, last, reason in [
        (5, 9, "nonces already anchored"),
        (1, 1, "nonces already anchored"),
        (9, 8, "last nonce below first nonce"),
        (6, 6, "more receipts than nonces"),
    ]:
        with pytest.raises(ContractRevert, match=reason):
            chain.transact(setup.alice, anchor(b"\x13" * 32, 2, first, last))
    chain.transact(setup.alice, anchor(b"\x13" * 32, 2, 6, 7))
    assert chain.call(registry.functions.last_receipt_batch(setup.alice.address)) == 2
    chain.transact(setup.alice, registry.functions.request_unbond(setup.min_bond))
    chain.transact(setup.alice, anchor(b"\x14" * 32, 1, 8, 8))  # what it issued before leaving


def test_inclusion_proofs_from_our_merkle_tree_verify_on_chain(setup):
    values = [[f"0x{i:040x}", i * 7] for i in range(1, 12)]
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    setup.chain.transact(setup.bob, setup.registry.functions.anchor(KIND_CONTENT, tree.root, 11))
    verify = setup.registry.functions.verify_inclusion
    for index, value in enumerate(values):
        proof = tree.get_proof(index)
        assert setup.chain.call(verify(1, tree.leaf_hash(value), proof))
    other = tree.leaf_hash([f"0x{99:040x}", 1])
    assert not setup.chain.call(verify(1, other, tree.get_proof(0)))
    assert not setup.chain.call(verify(2, tree.leaf_hash(values[0]), tree.get_proof(0)))


# ---- models and snapshots ------------------------------------------------------------------


def test_models_and_snapshots_are_registered_by_active_operators(setup):
    chain, registry = setup.chain, setup.registry
    with pytest.raises(ContractRevert, match="not an active operator"):
        chain.transact(setup.bob, registry.functions.register_model(MODEL, "int8-v1"))
    setup.register(setup.alice)
    with pytest.raises(ContractRevert, match="empty engine version"):
        chain.transact(setup.alice, registry.functions.register_model(MODEL, ""))
    with pytest.raises(ContractRevert, match="empty root"):
        chain.transact(setup.alice, registry.functions.register_model(b"\x00" * 32, "v"))
    result = chain.transact(setup.alice, registry.functions.register_model(MODEL, "int8-v1"))
    (log,) = setup.chain.events_in(result, setup.registry.events.ModelRegistered)
    assert (log.args.weights_root, log.args.registrant, log.args.engine_version) == (
        MODEL,
        setup.alice.address,
        "int8-v1",
    )
    with pytest.raises(ContractRevert, match="model already registered"):
        chain.transact(setup.alice, registry.functions.register_model(MODEL, "int8-v2"))

    with pytest.raises(ContractRevert, match="unknown model"):
        chain.transact(setup.alice, registry.functions.register_snapshot(SNAPSHOT, ROOT, 5))
    result = chain.transact(setup.alice, registry.functions.register_snapshot(SNAPSHOT, MODEL, 5))
    (log,) = setup.chain.events_in(result, setup.registry.events.SnapshotRegistered)
    assert (log.args.snapshot_root, log.args.model_root, log.args.item_count) == (
        SNAPSHOT,
        MODEL,
        5,
    )
    registration = read_snapshot(chain, registry, setup.alice.address, SNAPSHOT)
    assert (registration.model_root, registration.registrant, registration.item_count) == (
        MODEL,
        setup.alice.address,
        5,
    )
    with pytest.raises(ContractRevert, match="snapshot already registered"):
        chain.transact(setup.alice, registry.functions.register_snapshot(SNAPSHOT, MODEL, 6))
    # Per operator: another's registration of the same root (squatting) blocks no one.
    assert not read_snapshot(chain, registry, setup.bob.address, SNAPSHOT).registered
    events = chain.events(registry.events.SnapshotRegistered)
    assert [e.args.snapshot_root for e in events] == [SNAPSHOT]
