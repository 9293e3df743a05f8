# pragma version ~=0.4.3
"""
@title Aigora registry
@notice The public record every verifier reads: which operators stand behind answers with a bond,
        which Merkle roots were anchored by whom and when, and which models and corpus snapshots
        exist. Indexers follow its events.
@dev Bonds are held in the payment token. An operator leaves by requesting an unbond; the tokens stay
     slashable until the unbonding delay has passed, and they cannot leave at all while a dispute
     against the operator is open or a receipt it anchored is still challengeable. Only the slasher
     (the disputes contract, set once by the owner) opens and settles disputes here.

     Batches are identified by (anchorer, kind, root): nobody can squat another's root by
     anchoring it first under another kind. Only a bonded operator anchors receipts, each batch
     covering a range of its receipt nonces above every range it anchored before, so a receipt is
     anchored at most once and its challenge window, which runs from that anchor, never reopens.

     A proven bad receipt takes the operator's whole bond. `slash_reward_bps` (at most half) of it
     is shared equally by the challengers whose disputes against the operator were opened before
     the slash or within the share window after it (the slasher's response window) and won; the
     rest is burned. So the operator loses at least half its bond whoever files, itself included,
     and an honest challenger front-run by the operator's own claim gets the same share as that
     claim. Once the window is over the number of shares is fixed (winners plus disputes still
     open that may share), so a winner collects at once, whatever the others are still playing;
     the shares of disputes that lose are burned.
"""

from ethereum.ercs import IERC20

from .lib import merkle

KIND_CONTENT: constant(uint8) = 0
KIND_ATTESTATIONS: constant(uint8) = 1
KIND_RECEIPTS: constant(uint8) = 2
MAX_PROOF_DEPTH: constant(uint256) = 64
BPS: constant(uint256) = 10000
BURN: constant(address) = 0x000000000000000000000000000000000000dEaD

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
    first_nonce: uint256
    last_nonce: uint256

struct Model:
    registrant: address
    engine_version: String[32]
    timestamp: uint256

struct Snapshot:
    model_root: bytes32
    registrant: address
    item_count: uint256
    timestamp: uint256

struct Slash:
    taken: uint256
    pool: uint256
    window_ends: uint256
    winners: uint256
    pending: uint256
    shares: uint256
    rest_burned: bool

struct Share:
    operator: address
    challenger: address

interface Slasher:
    def challenge_window() -> uint256: view
    def response_window() -> uint256: view

event OperatorRegistered:
    operator: indexed(address)
    bond: uint256
    endpoint: String[256]

event EndpointChanged:
    operator: indexed(address)
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
    burned: uint256
    pool: uint256
    window_ends: uint256

event RewardShared:
    operator: indexed(address)
    dispute_id: indexed(uint256)
    challenger: indexed(address)

event RewardCollected:
    dispute_id: indexed(uint256)
    challenger: indexed(address)
    amount: uint256

event BatchAnchored:
    batch_id: indexed(uint256)
    kind: indexed(uint8)
    anchorer: indexed(address)
    root: bytes32
    item_count: uint256
    first_nonce: uint256
    last_nonce: uint256

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
slash_reward_bps: public(immutable(uint256))
owner: public(address)
slasher: public(address)

operators: public(HashMap[address, Operator])
batches: public(HashMap[uint256, Batch])
batch_count: public(uint256)
batch_of: public(HashMap[address, HashMap[uint8, HashMap[bytes32, uint256]]])
last_receipt_batch: public(HashMap[address, uint256])
models: public(HashMap[bytes32, Model])
snapshots: public(HashMap[address, HashMap[bytes32, Snapshot]])

open_disputes: public(HashMap[address, uint256])
slashes: public(HashMap[address, Slash])
shares: public(HashMap[uint256, Share])
late: public(HashMap[uint256, bool])


@deploy
def __init__(
    _token: IERC20, _min_bond: uint256, _unbonding_delay: uint256, _slash_reward_bps: uint256
):
    assert _token.address != empty(address), "token is the zero address"
    assert _min_bond > 0, "minimum bond must be positive"
    assert _slash_reward_bps <= BPS // 2, "challengers' share of a slash above 5000 bps"
    token = _token
    min_bond = _min_bond
    unbonding_delay = _unbonding_delay
    slash_reward_bps = _slash_reward_bps
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
def set_endpoint(_endpoint: String[256]):
    """@notice Change the URL peers fetch this operator's batches and files from."""
    assert self.operators[msg.sender].registered_at != 0, "not registered"
    self.operators[msg.sender].endpoint = _endpoint
    log EndpointChanged(operator=msg.sender, endpoint=_endpoint)


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
    """
    @notice Take back the unbonding tokens once the delay is over, no dispute against the
            operator is open and none of its anchored receipts can still be challenged.
    """
    op: Operator = self.operators[msg.sender]
    assert op.unbonding > 0, "nothing to withdraw"
    assert block.timestamp >= op.unbond_ready_at, "unbonding delay not over"
    assert self.open_disputes[msg.sender] == 0, "a dispute against this operator is open"
    anchored_at: uint256 = self.batches[self.last_receipt_batch[msg.sender]].timestamp
    if anchored_at != 0 and self.slasher != empty(address):
        window: uint256 = staticcall Slasher(self.slasher).challenge_window()
        assert block.timestamp > anchored_at + window, (
            "receipts this operator anchored are still challengeable"
        )
    self.operators[msg.sender].unbonding = 0
    self._send(msg.sender, op.unbonding)
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
def dispute_opened(_operator: address, _dispute_id: uint256):
    """@notice The slasher opened dispute `_dispute_id` against `_operator`."""
    assert msg.sender == self.slasher, "only the slasher"
    self.open_disputes[_operator] += 1
    ends: uint256 = self.slashes[_operator].window_ends
    if ends != 0:
        if block.timestamp > ends:
            self.late[_dispute_id] = True
        else:
            self.slashes[_operator].pending += 1


@external
def dispute_closed(_operator: address, _dispute_id: uint256, _challenger: address, _won: bool):
    """
    @notice The slasher resolved dispute `_dispute_id`. A first win slashes the operator's whole
            bond and unbonding tokens: the challengers' pool is kept here, the rest burned, and the
            share window opens. Each win of a dispute that was not opened late takes one share.
    """
    assert msg.sender == self.slasher, "only the slasher"
    self.open_disputes[_operator] -= 1
    record: Slash = self.slashes[_operator]
    if record.window_ends == 0:
        if _won:
            self._slash(_operator)
            self._share(_operator, _dispute_id, _challenger)
    elif not self.late[_dispute_id]:
        self.slashes[_operator].pending -= 1
        if _won:
            self._share(_operator, _dispute_id, _challenger)
        self._burn_rest(_operator)


@external
def collect_reward(_dispute_id: uint256) -> uint256:
    """
    @notice Pay the challenger of winning dispute `_dispute_id` its share of the slash, once the
            share window is over. Anyone may call it; the share goes to the challenger. The first
            collect fixes the number of shares n = winners + disputes still open that may share;
            each winner gets pool // n. What no winner takes (the remainder, and the shares of
            disputes that lose) is burned once no dispute that may share is open.
    """
    share: Share = self.shares[_dispute_id]
    assert share.challenger != empty(address), "no reward to collect for this dispute"
    record: Slash = self.slashes[share.operator]
    assert block.timestamp > record.window_ends, "the share window is still open"
    if record.shares == 0:
        record.shares = record.winners + record.pending
        self.slashes[share.operator].shares = record.shares
    self.shares[_dispute_id] = empty(Share)
    amount: uint256 = record.pool // record.shares
    self._send(share.challenger, amount)
    self._burn_rest(share.operator)
    log RewardCollected(dispute_id=_dispute_id, challenger=share.challenger, amount=amount)
    return amount


@view
@external
def is_active_operator(_operator: address) -> bool:
    return self._is_active(_operator)


# ---- anchors ---------------------------------------------------------------------------------

@external
def anchor(_kind: uint8, _root: bytes32, _item_count: uint256) -> uint256:
    """@notice Record a batch of content or attestations; (anchorer, kind, root) names it."""
    assert _kind < KIND_RECEIPTS, "unknown batch kind (receipts use anchor_receipts)"
    return self._anchor(_kind, _root, _item_count, 0, 0)


@external
def anchor_receipts(
    _root: bytes32, _item_count: uint256, _first_nonce: uint256, _last_nonce: uint256
) -> uint256:
    """
    @notice A bonded operator records a batch of its own receipts with nonces `_first_nonce` to
            `_last_nonce`, all above those of its earlier batches: a receipt is anchored once.
            Their challenge window runs from now, and the bond stays until it is over. An
            operator that asked to unbond may still anchor (the receipts it issued before), as
            long as the tokens are still here.
    """
    assert self.slasher != empty(address), "no slasher yet: receipts could not be disputed"
    assert self._is_bonded(msg.sender), "not a bonded operator"
    assert _first_nonce > self.batches[self.last_receipt_batch[msg.sender]].last_nonce, (
        "nonces already anchored (each batch covers nonces above the last one anchored)"
    )
    assert _last_nonce >= _first_nonce, "last nonce below first nonce"
    assert _item_count <= _last_nonce - _first_nonce + 1, "more receipts than nonces"
    batch_id: uint256 = self._anchor(KIND_RECEIPTS, _root, _item_count, _first_nonce, _last_nonce)
    self.last_receipt_batch[msg.sender] = batch_id
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
    assert self.snapshots[msg.sender][_snapshot_root].timestamp == 0, (
        "snapshot already registered"
    )
    self.snapshots[msg.sender][_snapshot_root] = Snapshot(
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


@view
@internal
def _is_bonded(_operator: address) -> bool:
    """Registered, not slashed, and at least the minimum still here (bonded or unbonding)."""
    op: Operator = self.operators[_operator]
    return op.registered_at != 0 and not op.slashed and op.bond + op.unbonding >= min_bond


@internal
def _anchor(
    _kind: uint8, _root: bytes32, _item_count: uint256, _first_nonce: uint256, _last_nonce: uint256
) -> uint256:
    assert _root != empty(bytes32), "empty root"
    assert _item_count > 0, "empty batch"
    assert self.batch_of[msg.sender][_kind][_root] == 0, "root already anchored"
    batch_id: uint256 = self.batch_count + 1
    self.batch_count = batch_id
    self.batch_of[msg.sender][_kind][_root] = batch_id
    self.batches[batch_id] = Batch(
        root=_root,
        kind=_kind,
        anchorer=msg.sender,
        item_count=_item_count,
        timestamp=block.timestamp,
        block_number=block.number,
        first_nonce=_first_nonce,
        last_nonce=_last_nonce,
    )
    log BatchAnchored(
        batch_id=batch_id,
        kind=_kind,
        anchorer=msg.sender,
        root=_root,
        item_count=_item_count,
        first_nonce=_first_nonce,
        last_nonce=_last_nonce,
    )
    return batch_id


@internal
def _slash(_operator: address):
    """Take the whole bond and unbonding tokens: the challengers' pool stays here, the rest is
    burned, and the share window opens. Disputes still open against the operator may share."""
    op: Operator = self.operators[_operator]
    taken: uint256 = op.bond + op.unbonding
    pool: uint256 = taken * slash_reward_bps // BPS
    ends: uint256 = block.timestamp + staticcall Slasher(self.slasher).response_window()
    self.operators[_operator].bond = 0
    self.operators[_operator].unbonding = 0
    self.operators[_operator].slashed = True
    self.slashes[_operator] = Slash(
        taken=taken,
        pool=pool,
        window_ends=ends,
        winners=0,
        pending=self.open_disputes[_operator],
        shares=0,
        rest_burned=False,
    )
    self._send(BURN, taken - pool)
    log OperatorSlashed(
        operator=_operator, amount=taken, burned=taken - pool, pool=pool, window_ends=ends
    )


@internal
def _share(_operator: address, _dispute_id: uint256, _challenger: address):
    self.slashes[_operator].winners += 1
    self.shares[_dispute_id] = Share(operator=_operator, challenger=_challenger)
    log RewardShared(operator=_operator, dispute_id=_dispute_id, challenger=_challenger)


@internal
def _burn_rest(_operator: address):
    """Once the shares are fixed and no dispute that may share is open, burn what the winners do
    not take: pool - winners * (pool // shares)."""
    record: Slash = self.slashes[_operator]
    if record.shares == 0 or record.pending != 0 or record.rest_burned:
        return
    self.slashes[_operator].rest_burned = True
    self._send(BURN, record.pool - record.winners * (record.pool // record.shares))


@internal
def _send(_to: address, _amount: uint256):
    if _amount > 0:
        assert extcall token.transfer(_to, _amount, default_return_value=True), "transfer failed"


@internal
def _pull(_from: address, _amount: uint256):
    assert extcall token.transferFrom(_from, self, _amount, default_return_value=True), "transfer failed"

