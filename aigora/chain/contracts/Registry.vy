# pragma version ~=0.4.3
"""
@title Aigora registry
@notice The public record every verifier reads: which operators stand behind answers with a bond,
        which Merkle roots were anchored by whom and when, and which models and corpus snapshots
        exist. Indexers follow its events.
@dev Bonds are held in the payment token. An operator leaves by requesting an unbond; the tokens stay
     slashable until the unbonding delay has passed, so a dispute opened against a recent answer
     can still reach them. Only the slasher (the disputes contract, set once by the owner) slashes.
"""

from ethereum.ercs import IERC20

from .lib import merkle

KIND_CONTENT: constant(uint8) = 0
KIND_ATTESTATIONS: constant(uint8) = 1
KIND_RECEIPTS: constant(uint8) = 2
MAX_PROOF_DEPTH: constant(uint256) = 64

struct Operator:
    bond: uint256
    unbonding: uint256
    unbond_ready_at: uint256
    registered_at: uint256
    endpoint: String[256]
    slashed: bool

struct Batch:
    root: bytes32
    kind: uint8
    anchorer: address
    item_count: uint256
    timestamp: uint256
    block_number: uint256

struct Model:
    registrant: address
    engine_version: String[32]
    timestamp: uint256

struct Snapshot:
    model_root: bytes32
    registrant: address
    item_count: uint256
    timestamp: uint256

event OperatorRegistered:
    operator: indexed(address)
    bond: uint256
    endpoint: String[256]

event BondAdded:
    operator: indexed(address)
    amount: uint256
    bond: uint256

event UnbondRequested:
    operator: indexed(address)
    amount: uint256
    ready_at: uint256

event BondWithdrawn:
    operator: indexed(address)
    amount: uint256

event OperatorSlashed:
    operator: indexed(address)
    amount: uint256
    recipient: indexed(address)

event BatchAnchored:
    batch_id: indexed(uint256)
    kind: indexed(uint8)
    anchorer: indexed(address)
    root: bytes32
    item_count: uint256

event ModelRegistered:
    weights_root: indexed(bytes32)
    registrant: indexed(address)
    engine_version: String[32]

event SnapshotRegistered:
    snapshot_root: indexed(bytes32)
    model_root: indexed(bytes32)
    registrant: indexed(address)
    item_count: uint256

event SlasherSet:
    slasher: indexed(address)

token: public(immutable(IERC20))
min_bond: public(immutable(uint256))
unbonding_delay: public(immutable(uint256))
owner: public(address)
slasher: public(address)

operators: public(HashMap[address, Operator])
batches: public(HashMap[uint256, Batch])
batch_count: public(uint256)
batch_of_root: public(HashMap[bytes32, uint256])
models: public(HashMap[bytes32, Model])
snapshots: public(HashMap[bytes32, Snapshot])


@deploy
def __init__(_token: IERC20, _min_bond: uint256, _unbonding_delay: uint256):
    assert _token.address != empty(address), "token is the zero address"
    assert _min_bond > 0, "minimum bond must be positive"
    token = _token
    min_bond = _min_bond
    unbonding_delay = _unbonding_delay
    self.owner = msg.sender


# ---- operators -----------------------------------------------------------------------------

@external
def register_operator(_bond: uint256, _endpoint: String[256]):
    """@notice Join as an operator, locking `_bond` tokens (approve them first)."""
    op: Operator = self.operators[msg.sender]
    assert op.registered_at == 0, "already registered"
    assert _bond >= min_bond, "bond below minimum"
    self._pull(msg.sender, _bond)
    self.operators[msg.sender] = Operator(
        bond=_bond,
        unbonding=0,
        unbond_ready_at=0,
        registered_at=block.timestamp,
        endpoint=_endpoint,
        slashed=False,
    )
    log OperatorRegistered(operator=msg.sender, bond=_bond, endpoint=_endpoint)


@external
def add_bond(_amount: uint256):
    assert self._is_active(msg.sender), "not an active operator"
    assert _amount > 0, "amount must be positive"
    self._pull(msg.sender, _amount)
    self.operators[msg.sender].bond += _amount
    log BondAdded(operator=msg.sender, amount=_amount, bond=self.operators[msg.sender].bond)


@external
def request_unbond(_amount: uint256):
    """
    @notice Start the unbonding delay for `_amount` of the bond. What is left must be zero (the
            operator leaves) or at least the minimum bond. A new request restarts the delay.
    """
    op: Operator = self.operators[msg.sender]
    assert op.registered_at != 0, "not an operator"
    assert _amount > 0, "amount must be positive"
    assert _amount <= op.bond, "amount exceeds bond"
    left: uint256 = op.bond - _amount
    assert left == 0 or left >= min_bond, "remaining bond below minimum"
    ready_at: uint256 = block.timestamp + unbonding_delay
    self.operators[msg.sender].bond = left
    self.operators[msg.sender].unbonding = op.unbonding + _amount
    self.operators[msg.sender].unbond_ready_at = ready_at
    log UnbondRequested(operator=msg.sender, amount=_amount, ready_at=ready_at)


@external
def withdraw_bond():
    op: Operator = self.operators[msg.sender]
    assert op.unbonding > 0, "nothing to withdraw"
    assert block.timestamp >= op.unbond_ready_at, "unbonding delay not over"
    self.operators[msg.sender].unbonding = 0
    assert extcall token.transfer(msg.sender, op.unbonding, default_return_value=True), "transfer failed"
    log BondWithdrawn(operator=msg.sender, amount=op.unbonding)


@external
def set_slasher(_slasher: address):
    """@notice Name the disputes contract once; after that nobody can change who slashes."""
    assert msg.sender == self.owner, "only the owner"
    assert self.slasher == empty(address), "slasher already set"
    assert _slasher != empty(address), "slasher is the zero address"
    self.slasher = _slasher
    log SlasherSet(slasher=_slasher)


@external
def slash(_operator: address, _amount: uint256, _recipient: address) -> uint256:
    """
    @notice Take up to `_amount` from the operator's bond, then from its unbonding tokens, and
            send it to `_recipient`. Marks the operator slashed. Returns what was taken.
    """
    assert msg.sender == self.slasher, "only the slasher"
    assert _recipient != empty(address), "recipient is the zero address"
    op: Operator = self.operators[_operator]
    assert op.registered_at != 0, "not an operator"
    from_bond: uint256 = min(_amount, op.bond)
    from_unbonding: uint256 = min(_amount - from_bond, op.unbonding)
    taken: uint256 = from_bond + from_unbonding
    self.operators[_operator].bond = op.bond - from_bond
    self.operators[_operator].unbonding = op.unbonding - from_unbonding
    self.operators[_operator].slashed = True
    if taken > 0:
        assert extcall token.transfer(_recipient, taken, default_return_value=True), "transfer failed"
    log OperatorSlashed(operator=_operator, amount=taken, recipient=_recipient)
    return taken


@view
@external
def is_active_operator(_operator: address) -> bool:
    return self._is_active(_operator)


# ---- anchors ---------------------------------------------------------------------------------

@external
def anchor(_kind: uint8, _root: bytes32, _item_count: uint256) -> uint256:
    """@notice Anyone records a batch root; the first anchor of a root is the one that counts."""
    assert _kind <= KIND_RECEIPTS, "unknown batch kind"
    assert _root != empty(bytes32), "empty root"
    assert _item_count > 0, "empty batch"
    assert self.batch_of_root[_root] == 0, "root already anchored"
    batch_id: uint256 = self.batch_count + 1
    self.batch_count = batch_id
    self.batch_of_root[_root] = batch_id
    self.batches[batch_id] = Batch(
        root=_root,
        kind=_kind,
        anchorer=msg.sender,
        item_count=_item_count,
        timestamp=block.timestamp,
        block_number=block.number,
    )
    log BatchAnchored(
        batch_id=batch_id, kind=_kind, anchorer=msg.sender, root=_root, item_count=_item_count
    )
    return batch_id


@view
@external
def verify_inclusion(_batch_id: uint256, _leaf: bytes32, _proof: DynArray[bytes32, MAX_PROOF_DEPTH]) -> bool:
    """@notice True when `_leaf` (an OpenZeppelin StandardMerkleTree leaf hash) is in the batch."""
    root: bytes32 = self.batches[_batch_id].root
    if root == empty(bytes32):
        return False
    return merkle._process_proof(_leaf, _proof) == root


# ---- models and snapshots ------------------------------------------------------------------

@external
def register_model(_weights_root: bytes32, _engine_version: String[32]):
    assert self._is_active(msg.sender), "not an active operator"
    assert _weights_root != empty(bytes32), "empty root"
    assert len(_engine_version) > 0, "empty engine version"
    assert self.models[_weights_root].timestamp == 0, "model already registered"
    self.models[_weights_root] = Model(
        registrant=msg.sender, engine_version=_engine_version, timestamp=block.timestamp
    )
    log ModelRegistered(
        weights_root=_weights_root, registrant=msg.sender, engine_version=_engine_version
    )


@external
def register_snapshot(_snapshot_root: bytes32, _model_root: bytes32, _item_count: uint256):
    assert self._is_active(msg.sender), "not an active operator"
    assert _snapshot_root != empty(bytes32), "empty root"
    assert self.models[_model_root].timestamp != 0, "unknown model"
    assert self.snapshots[_snapshot_root].timestamp == 0, "snapshot already registered"
    self.snapshots[_snapshot_root] = Snapshot(
        model_root=_model_root,
        registrant=msg.sender,
        item_count=_item_count,
        timestamp=block.timestamp,
    )
    log SnapshotRegistered(
        snapshot_root=_snapshot_root,
        model_root=_model_root,
        registrant=msg.sender,
        item_count=_item_count,
    )


# ---- internals -----------------------------------------------------------------------------

@view
@internal
def _is_active(_operator: address) -> bool:
    op: Operator = self.operators[_operator]
    return op.registered_at != 0 and op.bond >= min_bond and not op.slashed


@internal
def _pull(_from: address, _amount: uint256):
    assert extcall token.transferFrom(_from, self, _amount, default_return_value=True), "transfer failed"

