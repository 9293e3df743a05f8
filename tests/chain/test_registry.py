"""Registry access rules, bookkeeping and events, including every revert, on both backends."""

import pytest

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


def test_slash_takes_bond_then_unbonding_and_marks_operator(setup):
    chain, registry = setup.chain, setup.registry
    setup.register(setup.alice, bond=setup.min_bond * 3)
    chain.transact(setup.alice, registry.functions.request_unbond(setup.min_bond))
    with pytest.raises(ContractRevert, match="only the slasher"):
        chain.transact(
            setup.bob, registry.functions.slash(setup.alice.address, 1, setup.bob.address)
        )
    chain.transact(setup.owner, registry.functions.set_slasher(setup.carol.address))
    with pytest.raises(ContractRevert, match="not an operator"):
        chain.transact(
            setup.carol, registry.functions.slash(setup.bob.address, 1, setup.bob.address)
        )

    amount = (
        setup.min_bond * 2 + setup.min_bond // 2
    )  # the whole bond and half of what is unbonding
    before = setup.balance(setup.bob.address)
    result = chain.transact(
        setup.carol, registry.functions.slash(setup.alice.address, amount, setup.bob.address)
    )
    (log,) = setup.chain.events_in(result, setup.registry.events.OperatorSlashed)
    assert (log.args.amount, log.args.recipient) == (amount, setup.bob.address)
    assert setup.balance(setup.bob.address) == before + amount
    state = operator(setup, setup.alice)
    assert (state["bond"], state["unbonding"], state["slashed"]) == (0, setup.min_bond // 2, True)
    assert not is_active(setup, setup.alice)

    # Asking for more than is left takes only what is left: no tokens are created.
    chain.transact(
        setup.carol, registry.functions.slash(setup.alice.address, 10**9, setup.bob.address)
    )
    assert setup.balance(setup.registry.address) == 0
    assert setup.balance(setup.bob.address) == before + setup.min_bond * 3


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
    root, kind, anchorer, count, timestamp, block = chain.call(registry.functions.batches(1))
    assert (root, kind, anchorer, count) == (ROOT, KIND_ATTESTATIONS, setup.bob.address, 42)
    assert (timestamp, block) == (chain.now(), result.block_number)
    assert chain.call(registry.functions.batch_of_root(ROOT)) == 1
    chain.transact(setup.carol, registry.functions.anchor(KIND_RECEIPTS, b"\x12" * 32, 1))
    assert chain.call(registry.functions.batch_count()) == 2


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


def test_a_root_is_anchored_once(setup):
    setup.chain.transact(setup.bob, setup.registry.functions.anchor(KIND_CONTENT, ROOT, 1))
    with pytest.raises(ContractRevert, match="root already anchored"):
        setup.chain.transact(setup.carol, setup.registry.functions.anchor(KIND_RECEIPTS, ROOT, 1))
    assert setup.chain.call(setup.registry.functions.batches(1))[2] == setup.bob.address


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
    assert chain.call(registry.functions.snapshots(SNAPSHOT))[:3] == (MODEL, setup.alice.address, 5)
    with pytest.raises(ContractRevert, match="snapshot already registered"):
        chain.transact(setup.alice, registry.functions.register_snapshot(SNAPSHOT, MODEL, 6))
    events = chain.events(registry.events.SnapshotRegistered)
    assert [e.args.snapshot_root for e in events] == [SNAPSHOT]
