# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Aigora disputes
@notice Anyone challenges an anchored answer receipt by naming one step that is wrong; the contract
        re-checks that step itself, on integers, and the loser's bond goes to the winner.
        Four claims:
        - score: one result's score is not the exact dot product of its passage and the query;
        - order: two neighbouring results are out of order (score descending, then passage key
          ascending);
        - stale: the operator answered from a snapshot older than one it had registered for the
          same model (beyond a grace period);
        - omission: a snapshot passage ranks before the last result but is missing. The contract
          cannot see all results at once, so this one opens a dispute that anyone rebuts by
          proving the passage is among the results; unrebutted by the deadline, the challenger wins;
        - embedding: the query embedding itself is wrong. An interactive game walks the operator's
          positional trace tree: the operator reveals its op leaves, the challenger names the first
          op that differs, then a bisection over that op's chunk tree (operator reveals two
          children, challenger picks one) ends at one chunk, and the challenger points at one
          element, which `StepVerifier` recomputes from inputs proven against the operator's own
          trace and the registered model. Every move has a deadline; whoever is silent loses.
@dev Every challenge first checks its inputs (signature, anchor, window, Merkle proofs) and reverts
     with a reason when they are bad: a bad input is not a lost claim. A well-formed claim that does
     not hold costs the challenger its bond (to the operator, less the treasury's share); one that
     holds returns the challenger's bond and has the registry slash the operator's whole bond: at
     most half of it is shared by the challengers who won against the operator within the share
     window (`Registry.collect_reward`), the rest is burned. Each dispute resolves exactly once. A
     receipt is admitted only under its operator's own receipts batch whose nonce range holds the
     receipt's nonce (anchored once), within `challenge_window` of that anchor.
"""

from ethereum.ercs import IERC20
from snekmate.utils import message_hash_utils

from .lib import ecdsa
from .lib import eip712
from .lib import merkle

# ---- formats shared with aigora.verify, aigora.index and aigora.engine --------------------------

DIM: constant(uint256) = 384
WORDS: constant(uint256) = 12  # DIM // 32
KIND_RECEIPTS: constant(uint8) = 2
MAX_ANCHOR_DEPTH: constant(uint256) = 64
MAX_RESULT_DEPTH: constant(uint256) = 16
MAX_SNAPSHOT_DEPTH: constant(uint256) = 32
MAX_TRACE_DEPTH: constant(uint256) = 16
MAX_OPS: constant(uint256) = 256
MAX_OP_DEPTH: constant(uint256) = 8
EMBEDDING_OP: constant(String[9]) = "embedding"
EMBEDDING_DTYPE: constant(String[4]) = "int8"
TOKENS_OP: constant(String[6]) = "tokens"
TOKENS_DTYPE: constant(String[5]) = "int32"
CHUNK_BYTES: constant(uint256) = 1024
MAX_STEP_CHUNKS: constant(uint256) = 258
MAX_STEP_PARAMS: constant(uint256) = 5

RECEIPT_TYPEHASH: constant(bytes32) = keccak256(
    "Receipt(address operator,bytes32 modelRoot,bytes32 snapshotRoot,bytes32 queryHash,bytes32 traceRoot,bytes32 resultHash,uint32 k,uint256 fee,uint256 nonce,uint64 issuedAt)"
)
DOMAIN_NAME_HASH: constant(bytes32) = keccak256("Aigora")
DOMAIN_VERSION_HASH: constant(bytes32) = keccak256("1")

BPS: constant(uint256) = 10000
BYTE_BIAS: constant(uint256) = max_value(uint256) // 255 * 128  # 0x80 in every byte
LOW_BYTES: constant(uint256) = max_value(uint256) // 65535 * 255  # 0x00ff in every 16-bit lane

# ---- dispute kinds and states ------------------------------------------------------------------

KIND_SCORE: constant(uint8) = 1
KIND_ORDER: constant(uint8) = 2
KIND_STALE: constant(uint8) = 3
KIND_OMISSION: constant(uint8) = 4
KIND_EMBEDDING: constant(uint8) = 5

STATUS_OPEN: constant(uint8) = 1
STATUS_CHALLENGER_WON: constant(uint8) = 2
STATUS_CHALLENGER_LOST: constant(uint8) = 3

# Moves of the embedding game: the operator's are OPERATOR_MOVES (bit p for phase p), the
# challenger's the rest.
GAME_OPS: constant(uint8) = 1
GAME_PICK: constant(uint8) = 2
GAME_LEAF: constant(uint8) = 3
GAME_CHILDREN: constant(uint8) = 4
GAME_CHOICE: constant(uint8) = 5
GAME_CHUNK: constant(uint8) = 6
GAME_STEP: constant(uint8) = 7
OPERATOR_MOVES: constant(uint8) = 2**GAME_OPS | 2**GAME_LEAF | 2**GAME_CHILDREN | 2**GAME_CHUNK

# ---- argument structs (built by aigora.verify._claims) -----------------------------------------

struct Receipt:
    operator: address
    modelRoot: bytes32
    snapshotRoot: bytes32
    queryHash: bytes32
    traceRoot: bytes32
    resultHash: bytes32
    k: uint32
    fee: uint256
    nonce: uint256
    issuedAt: uint64

struct Anchor:
    batch_id: uint256
    proof: DynArray[bytes32, MAX_ANCHOR_DEPTH]

# A result and a snapshot passage are named by their passage key: keccak256(abi.encode(the
# document CID's digest, the passage index, its character span)), see aigora.index._passages.
struct ResultEntry:
    rank: uint256
    key: bytes32
    score: int256
    proof: DynArray[bytes32, MAX_RESULT_DEPTH]

struct Passage:
    position: uint256
    key: bytes32
    embedding: Bytes[DIM]
    proof: DynArray[bytes32, MAX_SNAPSHOT_DEPTH]

struct QueryEmbedding:
    op_index: uint256
    embedding: Bytes[DIM]
    tensor_proof: DynArray[bytes32, MAX_OP_DEPTH]

struct Game:
    trace_root: bytes32
    model_root: bytes32
    phase: uint8
    op: uint256
    tokens: uint256
    item_size: uint256
    byte_count: uint256
    chunk_count: uint256
    height: uint256
    position: uint256
    node: bytes32
    left: bytes32
    right: bytes32

# ---- the one-step checker, as this contract calls it (structs as StepVerifier.vy declares them) --

struct OpLeaf:
    index: uint256
    name: String[32]
    dtype: String[8]
    shape: DynArray[uint256, 3]
    tensor_root: bytes32
    proof: DynArray[bytes32, 8]

struct TraceChunk:
    op: uint256
    chunk_index: uint256
    chunk: Bytes[1024]
    proof: DynArray[bytes32, 16]

struct ModelChunk:
    tensor: uint256
    name: String[40]
    dtype: String[8]
    shape: DynArray[uint256, 2]
    tensor_root: bytes32
    tensor_proof: DynArray[bytes32, 10]
    chunk_index: uint256
    chunk: Bytes[1024]
    chunk_proof: DynArray[bytes32, 16]

interface StepVerifier:
    def op_count() -> uint256: view
    def expected_leaf(
        _op: uint256, _tokens: uint256
    ) -> (String[32], String[8], DynArray[uint256, 3]): view
    def recompute(
        _trace_root: bytes32,
        _op_count: uint256,
        _model_root: bytes32,
        _op: uint256,
        _element: uint256,
        _ops: DynArray[OpLeaf, 4],
        _chunks: DynArray[TraceChunk, MAX_STEP_CHUNKS],
        _params: DynArray[ModelChunk, MAX_STEP_PARAMS],
    ) -> int256: view

struct Dispute:
    digest: bytes32
    kind: uint8
    challenger: address
    operator: address
    passage_key: bytes32
    result_hash: bytes32
    deadline: uint256
    status: uint8

# ---- the registry, as this contract reads it ----------------------------------------------------

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

struct Snapshot:
    model_root: bytes32
    registrant: address
    item_count: uint256
    timestamp: uint256

interface Registry:
    def operators(_operator: address) -> Operator: view
    def batches(_batch_id: uint256) -> Batch: view
    def snapshots(_registrant: address, _root: bytes32) -> Snapshot: view
    def verify_inclusion(
        _batch_id: uint256, _leaf: bytes32, _proof: DynArray[bytes32, MAX_ANCHOR_DEPTH]
    ) -> bool: view
    def dispute_opened(_operator: address, _dispute_id: uint256): nonpayable
    def dispute_closed(
        _operator: address, _dispute_id: uint256, _challenger: address, _won: bool
    ): nonpayable

# ---- events and state --------------------------------------------------------------------------

event DisputeOpened:
    dispute_id: indexed(uint256)
    digest: bytes32
    kind: uint8
    challenger: address
    deadline: uint256

event GameMove:
    dispute_id: indexed(uint256)
    phase: uint8
    deadline: uint256

event OpsRevealed:
    dispute_id: indexed(uint256)
    leaves: DynArray[bytes32, MAX_OPS]

event ChildrenRevealed:
    dispute_id: indexed(uint256)
    left: bytes32
    right: bytes32

event ChunkRevealed:
    dispute_id: indexed(uint256)
    chunk_index: uint256
    chunk: Bytes[CHUNK_BYTES]

event DisputeResolved:
    dispute_id: indexed(uint256)
    digest: bytes32
    challenger_won: bool
    paid_to: address
    amount: uint256

token: public(immutable(IERC20))
registry: public(immutable(Registry))
challenger_bond: public(immutable(uint256))
challenge_window: public(immutable(uint256))
response_window: public(immutable(uint256))
stale_grace: public(immutable(uint256))
treasury: public(immutable(address))
treasury_bps: public(immutable(uint256))
step_verifier: public(immutable(StepVerifier))
op_count: public(immutable(uint256))
op_depth: public(immutable(uint256))

disputes: public(HashMap[uint256, Dispute])
games: public(HashMap[uint256, Game])
dispute_count: public(uint256)
judged: public(HashMap[bytes32, bool])


@deploy
def __init__(
    _token: IERC20,
    _registry: Registry,
    _challenger_bond: uint256,
    _challenge_window_s: uint256,
    _response_window_s: uint256,
    _stale_grace_s: uint256,
    _treasury: address,
    _treasury_bps: uint256,
    _step_verifier: StepVerifier,
):
    assert _token.address != empty(address), "token is the zero address"
    assert _registry.address != empty(address), "registry is the zero address"
    assert _treasury != empty(address), "treasury is the zero address"
    assert _challenger_bond > 0, "challenger bond must be positive"
    assert _challenge_window_s > 0, "challenge window must be positive"
    assert _response_window_s > 0, "response window must be positive"
    assert _treasury_bps <= BPS, "treasury share above 10000 bps"
    token = _token
    registry = _registry
    challenger_bond = _challenger_bond
    challenge_window = _challenge_window_s
    response_window = _response_window_s
    stale_grace = _stale_grace_s
    treasury = _treasury
    treasury_bps = _treasury_bps
    step_verifier = _step_verifier
    op_count = staticcall _step_verifier.op_count()
    assert op_count > 1 and op_count <= MAX_OPS, "step verifier's op count out of range"
    depth: uint256 = 0
    for i: uint256 in range(MAX_OP_DEPTH + 1):
        if (1 << depth) >= op_count:
            break
        depth += 1
    op_depth = depth


# ---- claims ------------------------------------------------------------------------------------

@external
@nonreentrant
def challenge_score(
    _receipt: Receipt,
    _signature: Bytes[65],
    _anchor: Anchor,
    _entry: ResultEntry,
    _passage: Passage,
    _query: QueryEmbedding,
) -> uint256:
    """
    @notice Claim that result `_entry` does not score what the passage and the query give:
            the contract computes dot(passage, query) and compares it with the signed score.
            Resolved at once. Approve `challenger_bond` tokens first.
    @param _entry A result with its proof against the receipt's resultHash.
    @param _passage The snapshot passage with that result's key and its proof against snapshotRoot.
    @param _query The trace's int8 query embedding with its chunk and tensor proofs.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    self._check_result(_receipt, _entry)
    self._check_passage(_receipt, _passage)
    self._check_query(_receipt, _query)
    assert _passage.key == _entry.key, "passage key differs from the result's key"
    holds: bool = self._dot(_passage.embedding, _query.embedding) != _entry.score
    return self._decide(digest, KIND_SCORE, _receipt.operator, holds)


@external
@nonreentrant
def challenge_order(
    _receipt: Receipt,
    _signature: Bytes[65],
    _anchor: Anchor,
    _upper: ResultEntry,
    _lower: ResultEntry,
) -> uint256:
    """
    @notice Claim that results `_upper` and `_lower` (ranks r and r + 1) are out of order: the
            upper one must have the higher score, or an equal score and the lower passage key. Resolved
            at once. Approve `challenger_bond` tokens first.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    self._check_result(_receipt, _upper)
    self._check_result(_receipt, _lower)
    assert _lower.rank == _upper.rank + 1, "the two results are not neighbours (rank, rank + 1)"
    holds: bool = not self._ranks_before(_upper.score, _upper.key, _lower.score, _lower.key)
    return self._decide(digest, KIND_ORDER, _receipt.operator, holds)


@external
@nonreentrant
def challenge_stale(
    _receipt: Receipt, _signature: Bytes[65], _anchor: Anchor, _newer: bytes32
) -> uint256:
    """
    @notice Claim that the operator answered from an old snapshot: `_newer` was registered by the
            same operator for the same model, after the operator registered the receipt's
            snapshot (or never did), and more than
            `stale_grace` seconds before the receipt was issued. Resolved at once. Approve
            `challenger_bond` tokens first. A receipt citing a snapshot that was never
            registered counts as older than any registered one.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    newer: Snapshot = staticcall registry.snapshots(_receipt.operator, _newer)
    used: Snapshot = staticcall registry.snapshots(_receipt.operator, _receipt.snapshotRoot)
    holds: bool = (
        newer.timestamp != 0
        and newer.model_root == _receipt.modelRoot
        and newer.timestamp > used.timestamp
        and newer.timestamp + stale_grace < convert(_receipt.issuedAt, uint256)
    )
    return self._decide(digest, KIND_STALE, _receipt.operator, holds)


@external
@nonreentrant
def challenge_omission(
    _receipt: Receipt,
    _signature: Bytes[65],
    _anchor: Anchor,
    _last: ResultEntry,
    _passage: Passage,
    _query: QueryEmbedding,
) -> uint256:
    """
    @notice Claim that `_passage` ranks before the last result yet is not among the results. When
            it does not rank before the last result the claim fails at once; otherwise a dispute
            opens for `response_window` seconds, in which anyone may `rebut_omission` by proving
            the passage is a result; after that `resolve_timeout` makes the challenger win.
            Approve `challenger_bond` tokens first.
    @param _last The result of rank k - 1 with its proof.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    self._check_result(_receipt, _last)
    self._check_passage(_receipt, _passage)
    self._check_query(_receipt, _query)
    assert _last.rank + 1 == convert(_receipt.k, uint256), "the entry is not the last result"
    score: int256 = self._dot(_passage.embedding, _query.embedding)
    if not self._ranks_before(score, _passage.key, _last.score, _last.key):
        return self._decide(digest, KIND_OMISSION, _receipt.operator, False)
    dispute_id: uint256 = self._open(
        digest, KIND_OMISSION, _receipt.operator, block.timestamp + response_window
    )
    self.disputes[dispute_id].passage_key = _passage.key
    self.disputes[dispute_id].result_hash = _receipt.resultHash
    return dispute_id


@external
@nonreentrant
def rebut_omission(_dispute_id: uint256, _entry: ResultEntry):
    """
    @notice Answer an open omission dispute by proving that the passage is among the results;
            the challenger loses its bond to the operator. Anyone may rebut, until the deadline.
    @param _entry The result with the passage's key and its proof against the receipt's resultHash.
    """
    dispute: Dispute = self._open_dispute(_dispute_id)
    assert dispute.kind == KIND_OMISSION, "not an omission dispute"
    assert block.timestamp <= dispute.deadline, "the response window is over"
    assert _entry.key == dispute.passage_key, "entry key differs from the disputed passage"
    reached: bytes32 = merkle._process_proof(self._result_leaf(_entry), _entry.proof)
    assert reached == dispute.result_hash, "result proof does not match the receipt's resultHash"
    self._challenger_loses(_dispute_id, dispute)


@external
@nonreentrant
def resolve_timeout(_dispute_id: uint256):
    """
    @notice Close a dispute whose mover let its deadline pass: an unrebutted omission claim, or an
            embedding game in which one side did not move. The silent side loses. Anyone may call
            it once the deadline has passed.
    """
    dispute: Dispute = self._open_dispute(_dispute_id)
    assert dispute.kind == KIND_OMISSION or dispute.kind == KIND_EMBEDDING, "not a timed dispute"
    assert block.timestamp > dispute.deadline, "the response window is still open"
    if dispute.kind == KIND_EMBEDDING and not self._operator_moves(self.games[_dispute_id].phase):
        self._challenger_loses(_dispute_id, dispute)
    else:
        self._challenger_wins(_dispute_id, dispute)


# ---- the embedding game -------------------------------------------------------------------------

@external
@nonreentrant
def challenge_embedding(_receipt: Receipt, _signature: Bytes[65], _anchor: Anchor) -> uint256:
    """
    @notice Claim that the receipt's query embedding is not what the registered model computes
            from the query's tokens. Opens a game; the operator moves first (`reveal_ops`).
            Approve `challenger_bond` tokens first. The token ids (op 0) are an input the contract
            cannot check: only claim this after comparing them (they are revealed with the ops).
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    dispute_id: uint256 = self._open(
        digest, KIND_EMBEDDING, _receipt.operator, block.timestamp + response_window
    )
    game: Game = empty(Game)
    game.trace_root = _receipt.traceRoot
    game.model_root = _receipt.modelRoot
    game.phase = GAME_OPS
    self.games[dispute_id] = game
    return dispute_id


@external
@nonreentrant
def reveal_ops(_dispute_id: uint256, _leaves: DynArray[bytes32, MAX_OPS]):
    """
    @notice Operator's move: the tensor leaf hash of every op of the trace, in order. They must
            rebuild the receipt's trace root. Anyone holding the trace may make this move.
    """
    game: Game = self._game_turn(_dispute_id, GAME_OPS)
    assert len(_leaves) == op_count, "one leaf per op of the model's trace is needed"
    level: DynArray[bytes32, MAX_OPS] = _leaves
    width: uint256 = 1 << op_depth
    for i: uint256 in range(MAX_OPS):
        if len(level) >= width:
            break
        level.append(empty(bytes32))
    for h: uint256 in range(MAX_OP_DEPTH):
        if width == 1:
            break
        width = width // 2
        for i: uint256 in range(MAX_OPS // 2):
            if i >= width:
                break
            level[i] = keccak256(concat(level[2 * i], level[2 * i + 1]))
    assert level[0] == game.trace_root, "op leaves do not rebuild the receipt's traceRoot"
    log OpsRevealed(dispute_id=_dispute_id, leaves=_leaves)
    self._next(_dispute_id, GAME_PICK)


@external
@nonreentrant
def pick_op(
    _dispute_id: uint256,
    _op: uint256,
    _op_leaf: bytes32,
    _op_proof: DynArray[bytes32, MAX_OP_DEPTH],
    _tokens: uint256,
    _tokens_root: bytes32,
    _tokens_proof: DynArray[bytes32, MAX_OP_DEPTH],
):
    """
    @notice Challenger's move: name the first op whose leaf differs from the honest trace, with
            its leaf's proof, and the (agreed) tokens op: n token ids under `_tokens_root`.
    """
    game: Game = self._game_turn(_dispute_id, GAME_PICK)
    assert msg.sender == self.disputes[_dispute_id].challenger, "only the challenger picks"
    assert _op > 0 and _op < op_count, "op out of range (op 0, the tokens, is an input)"
    shape: DynArray[uint256, 3] = [_tokens]
    tokens_leaf: bytes32 = self._tensor_leaf(
        empty(uint256), TOKENS_OP, TOKENS_DTYPE, shape, _tokens_root
    )
    assert self._positional_root(tokens_leaf, empty(uint256), _tokens_proof) == game.trace_root, (
        "tokens leaf does not match the trace root"
    )
    assert self._positional_root(_op_leaf, _op, _op_proof) == game.trace_root, (
        "op leaf does not match the trace root"
    )
    assert len(_op_proof) == op_depth and len(_tokens_proof) == op_depth, (
        "op proofs must have the trace tree's depth"
    )
    self.games[_dispute_id].op = _op
    self.games[_dispute_id].tokens = _tokens
    self.games[_dispute_id].node = _op_leaf
    self._next(_dispute_id, GAME_LEAF)


@external
@nonreentrant
def reveal_op(
    _dispute_id: uint256,
    _name: String[32],
    _dtype: String[8],
    _shape: DynArray[uint256, 3],
    _tensor_root: bytes32,
):
    """
    @notice Operator's move: the picked op's leaf (name, dtype, shape, chunk tree root). A leaf
            that is not what the model's trace has at that op (for these tokens) loses at once.
    """
    game: Game = self._game_turn(_dispute_id, GAME_LEAF)
    leaf: bytes32 = self._tensor_leaf(game.op, _name, _dtype, _shape, _tensor_root)
    assert leaf == game.node, "leaf does not hash to the picked op's leaf"
    name: String[32] = ""
    dtype: String[8] = ""
    shape: DynArray[uint256, 3] = []
    name, dtype, shape = staticcall step_verifier.expected_leaf(game.op, game.tokens)
    if keccak256(abi_encode(_name, _dtype, _shape)) != keccak256(abi_encode(name, dtype, shape)):
        self._challenger_wins(_dispute_id, self.disputes[_dispute_id])
        return
    size: uint256 = 4
    if dtype == "int8":
        size = 1
    elif dtype == "int16":
        size = 2
    count: uint256 = size
    for d: uint256 in shape:
        count = count * d
    chunks: uint256 = max((count + CHUNK_BYTES - 1) // CHUNK_BYTES, 1)
    height: uint256 = 0
    for i: uint256 in range(MAX_TRACE_DEPTH + 1):
        if (1 << height) >= chunks:
            break
        height += 1
    self.games[_dispute_id].item_size = size
    self.games[_dispute_id].byte_count = count
    self.games[_dispute_id].chunk_count = chunks
    self.games[_dispute_id].height = height
    self.games[_dispute_id].node = _tensor_root
    self._next(_dispute_id, GAME_CHILDREN if height > 0 else GAME_CHUNK)


@external
@nonreentrant
def reveal_children(_dispute_id: uint256, _left: bytes32, _right: bytes32):
    """@notice Operator's move: the two children of the current node of the op's chunk tree."""
    game: Game = self._game_turn(_dispute_id, GAME_CHILDREN)
    assert keccak256(concat(_left, _right)) == game.node, "children do not hash to the node"
    self.games[_dispute_id].left = _left
    self.games[_dispute_id].right = _right
    log ChildrenRevealed(dispute_id=_dispute_id, left=_left, right=_right)
    self._next(_dispute_id, GAME_CHOICE)


@external
@nonreentrant
def choose(_dispute_id: uint256, _right: bool):
    """
    @notice Challenger's move: descend into the child that holds the first differing chunk. A
            child covering only padding is judged at once: the zero subtree is what it must be.
    """
    game: Game = self._game_turn(_dispute_id, GAME_CHOICE)
    assert msg.sender == self.disputes[_dispute_id].challenger, "only the challenger chooses"
    height: uint256 = game.height - 1
    position: uint256 = game.position * 2
    node: bytes32 = game.left
    if _right:
        position += 1
        node = game.right
    if (position << height) >= game.chunk_count:
        if node == self._zero_subtree(height):
            self._challenger_loses(_dispute_id, self.disputes[_dispute_id])
        else:
            self._challenger_wins(_dispute_id, self.disputes[_dispute_id])
        return
    self.games[_dispute_id].height = height
    self.games[_dispute_id].position = position
    self.games[_dispute_id].node = node
    self._next(_dispute_id, GAME_CHILDREN if height > 0 else GAME_CHUNK)


@external
@nonreentrant
def reveal_chunk(_dispute_id: uint256, _chunk: Bytes[CHUNK_BYTES]):
    """@notice Operator's move: the bytes of the chunk the bisection ended at."""
    game: Game = self._game_turn(_dispute_id, GAME_CHUNK)
    assert len(_chunk) == min(game.byte_count - game.position * CHUNK_BYTES, CHUNK_BYTES), (
        "chunk has the wrong length"
    )
    assert self._chunk_leaf(game.op, game.position, _chunk) == game.node, (
        "chunk does not hash to the leaf"
    )
    log ChunkRevealed(dispute_id=_dispute_id, chunk_index=game.position, chunk=_chunk)
    self._next(_dispute_id, GAME_STEP)


@external
@nonreentrant
def prove_step(
    _dispute_id: uint256,
    _chunk: Bytes[CHUNK_BYTES],
    _element: uint256,
    _ops: DynArray[OpLeaf, 4],
    _chunks: DynArray[TraceChunk, MAX_STEP_CHUNKS],
    _params: DynArray[ModelChunk, MAX_STEP_PARAMS],
):
    """
    @notice Challenger's last move: element `_element` (C order, in the revealed chunk) of the
            disputed op is not what its inputs give. `StepVerifier` recomputes it from `_ops`,
            `_chunks` (proven against the operator's trace) and `_params` (proven against the
            model); the operator's value is read from the revealed chunk. Bad proofs revert.
    """
    game: Game = self._game_turn(_dispute_id, GAME_STEP)
    assert msg.sender == self.disputes[_dispute_id].challenger, "only the challenger proves"
    assert self._chunk_leaf(game.op, game.position, _chunk) == game.node, (
        "chunk is not the revealed one"
    )
    start: uint256 = game.position * CHUNK_BYTES
    offset: uint256 = _element * game.item_size
    assert offset >= start and offset + game.item_size <= start + len(_chunk), (
        "element is not in the revealed chunk"
    )
    claimed: int256 = self._read_int(_chunk, offset - start, game.item_size)
    expected: int256 = staticcall step_verifier.recompute(
        game.trace_root, op_count, game.model_root, game.op, _element, _ops, _chunks, _params
    )
    if claimed != expected:
        self._challenger_wins(_dispute_id, self.disputes[_dispute_id])
    else:
        self._challenger_loses(_dispute_id, self.disputes[_dispute_id])


@view
@internal
def _game_turn(_dispute_id: uint256, _phase: uint8) -> Game:
    dispute: Dispute = self._open_dispute(_dispute_id)
    assert dispute.kind == KIND_EMBEDDING, "not an embedding dispute"
    game: Game = self.games[_dispute_id]
    assert game.phase == _phase, "not this move's turn"
    assert block.timestamp <= dispute.deadline, "the response window is over"
    return game


@internal
def _next(_dispute_id: uint256, _phase: uint8):
    deadline: uint256 = block.timestamp + response_window
    self.games[_dispute_id].phase = _phase
    self.disputes[_dispute_id].deadline = deadline
    log GameMove(dispute_id=_dispute_id, phase=_phase, deadline=deadline)


@pure
@internal
def _operator_moves(_phase: uint8) -> bool:
    return (OPERATOR_MOVES & 2**_phase) != 0


@pure
@internal
def _tensor_leaf(
    _index: uint256, _name: String[32], _dtype: String[8], _shape: DynArray[uint256, 3], _root: bytes32
) -> bytes32:
    return keccak256(keccak256(abi_encode(_index, _name, _dtype, _shape, _root)))


@pure
@internal
def _chunk_leaf(_op: uint256, _index: uint256, _chunk: Bytes[CHUNK_BYTES]) -> bytes32:
    return keccak256(keccak256(abi_encode(_op, _index, _chunk)))


@pure
@internal
def _positional_root(
    _leaf: bytes32, _position: uint256, _proof: DynArray[bytes32, MAX_OP_DEPTH]
) -> bytes32:
    """The root of a positional tree (aigora.core.ordered_merkle): bit h of the position says
    whether the sibling at height h sits to the left."""
    node: bytes32 = _leaf
    position: uint256 = _position
    for sibling: bytes32 in _proof:
        if position & 1 == 1:
            node = keccak256(concat(sibling, node))
        else:
            node = keccak256(concat(node, sibling))
        position = position >> 1
    assert position == 0, "position beyond the proof's depth"
    return node


@pure
@internal
def _zero_subtree(_height: uint256) -> bytes32:
    node: bytes32 = empty(bytes32)
    for h: uint256 in range(MAX_TRACE_DEPTH):
        if h >= _height:
            break
        node = keccak256(concat(node, node))
    return node


@pure
@internal
def _read_int(_data: Bytes[CHUNK_BYTES], _offset: uint256, _size: uint256) -> int256:
    """The little-endian two's-complement integer of `_size` bytes at `_offset`."""
    raw: uint256 = 0
    for i: uint256 in range(4):
        if i >= _size:
            break
        raw = raw | (convert(slice(_data, _offset + i, 1), uint256) << (8 * i))
    value: int256 = convert(raw, int256)
    if raw >= 1 << (8 * _size - 1):
        value -= convert(1 << (8 * _size), int256)
    return value


# ---- views -------------------------------------------------------------------------------------

@view
@external
def receipt_digest(_receipt: Receipt) -> bytes32:
    """@notice The EIP-712 digest of a receipt in the domain Aigora/1/this chain/the registry."""
    return self._receipt_digest(_receipt)


@pure
@external
def dot(_a: Bytes[DIM], _b: Bytes[DIM]) -> int256:
    """@notice The exact dot product of two int8 vectors of 384 two's-complement bytes."""
    assert len(_a) == DIM and len(_b) == DIM, "vectors must be 384 bytes"
    return self._dot(_a, _b)


# ---- admission: the checks every challenge shares -----------------------------------------------

@internal
def _admit(_receipt: Receipt, _signature: Bytes[65], _anchor: Anchor) -> bytes32:
    """Check that the receipt is signed by a registered operator, anchored by that operator in
    the batch covering its nonce, and still challengeable; take the challenger's bond. Disputes on
    one receipt may run side by side, also after it was judged: were an open or a won one to block
    others, an operator could shield a bad receipt with a claim of its own, or front-run the
    honest challenger's. Returns the receipt digest."""
    digest: bytes32 = self._receipt_digest(_receipt)
    assert ecdsa._recover(digest, _signature) == _receipt.operator, "signature is not the operator's"
    operator: Operator = staticcall registry.operators(_receipt.operator)
    assert operator.registered_at != 0, "the receipt's operator is not registered"
    batch: Batch = staticcall registry.batches(_anchor.batch_id)
    assert batch.kind == KIND_RECEIPTS and batch.anchorer == _receipt.operator, (
        "not a receipts batch of the receipt's operator"
    )
    assert _receipt.nonce >= batch.first_nonce and _receipt.nonce <= batch.last_nonce, (
        "the receipt's nonce is not in the batch's range"
    )
    leaf: bytes32 = keccak256(keccak256(abi_encode(digest)))
    assert staticcall registry.verify_inclusion(
        _anchor.batch_id, leaf, _anchor.proof
    ), "receipt is not in the anchored batch"
    assert block.timestamp <= batch.timestamp + challenge_window, "the challenge window is over"
    assert extcall token.transferFrom(
        msg.sender, self, challenger_bond, default_return_value=True
    ), "bond transfer failed"
    return digest


@view
@internal
def _receipt_digest(_r: Receipt) -> bytes32:
    domain: bytes32 = eip712._domain_separator(
        DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, chain.id, registry.address
    )
    body: bytes32 = keccak256(
        abi_encode(
            RECEIPT_TYPEHASH,
            _r.operator,
            _r.modelRoot,
            _r.snapshotRoot,
            _r.queryHash,
            _r.traceRoot,
            _r.resultHash,
            _r.k,
            _r.fee,
            _r.nonce,
            _r.issuedAt,
        )
    )
    return message_hash_utils._to_typed_data_hash(domain, body)


# ---- proofs ------------------------------------------------------------------------------------

@view
@internal
def _check_result(_receipt: Receipt, _entry: ResultEntry):
    assert _entry.rank < convert(_receipt.k, uint256), "result rank is not below k"
    reached: bytes32 = merkle._process_proof(self._result_leaf(_entry), _entry.proof)
    assert reached == _receipt.resultHash, "result proof does not match the receipt's resultHash"


@pure
@internal
def _result_leaf(_entry: ResultEntry) -> bytes32:
    return keccak256(keccak256(abi_encode(_entry.rank, _entry.key, _entry.score)))


@view
@internal
def _check_passage(_receipt: Receipt, _passage: Passage):
    assert len(_passage.embedding) == DIM, "passage embedding must be 384 bytes"
    leaf: bytes32 = keccak256(
        keccak256(abi_encode(_passage.position, _passage.key, keccak256(_passage.embedding)))
    )
    assert merkle._process_proof(leaf, _passage.proof) == _receipt.snapshotRoot, (
        "passage proof does not match the receipt's snapshotRoot"
    )


@view
@internal
def _check_query(_receipt: Receipt, _query: QueryEmbedding):
    """The query embedding is the trace's last op, `embedding`: an int8 (384,) tensor of one chunk,
    so its chunk leaf is its tensor root; the tensor leaf sits at its position in the trace tree."""
    assert len(_query.embedding) == DIM, "query embedding must be 384 bytes"
    assert _query.op_index + 1 == op_count, "the embedding is the trace's last op"
    assert len(_query.tensor_proof) == op_depth, "proof must have the trace tree's depth"
    tensor_root: bytes32 = self._chunk_leaf(_query.op_index, empty(uint256), _query.embedding)
    shape: DynArray[uint256, 3] = [DIM]
    tensor_leaf: bytes32 = self._tensor_leaf(
        _query.op_index, EMBEDDING_OP, EMBEDDING_DTYPE, shape, tensor_root
    )
    assert self._positional_root(tensor_leaf, _query.op_index, _query.tensor_proof) == (
        _receipt.traceRoot
    ), "query embedding proof does not match the receipt's traceRoot"


# ---- arithmetic --------------------------------------------------------------------------------

@pure
@internal
def _ranks_before(_score: int256, _key: bytes32, _other_score: int256, _other_key: bytes32) -> bool:
    """The ranking order: score descending, then passage key ascending."""
    if _score != _other_score:
        return _score > _other_score
    return convert(_key, uint256) < convert(_other_key, uint256)


@pure
@internal
def _dot(_a: Bytes[DIM], _b: Bytes[DIM]) -> int256:
    """Exact dot product of two int8 vectors, 32 bytes per word.

    Each byte x is biased to x' = x + 128 (xor 0x80) so that all arithmetic is unsigned; then
    sum(a*b) = sum(a'*b') - 128*(sum(a') + sum(b')) + 128*128*DIM. The byte sums are taken a word
    at a time in sixteen 16-bit lanes (at most 12 * 510 per lane, so no lane overflows).
    """
    products: uint256 = 0
    lanes: uint256 = 0
    for w: uint256 in range(WORDS):
        x: uint256 = convert(extract32(_a, w * 32), uint256) ^ BYTE_BIAS
        y: uint256 = convert(extract32(_b, w * 32), uint256) ^ BYTE_BIAS
        lanes = unsafe_add(lanes, (x & LOW_BYTES) + ((x >> 8) & LOW_BYTES))
        lanes = unsafe_add(lanes, (y & LOW_BYTES) + ((y >> 8) & LOW_BYTES))
        for j: uint256 in range(4):  # eight bytes per round, unrolled to save loop overhead
            products = unsafe_add(
                products,
                unsafe_add(
                    unsafe_add(
                        unsafe_add(
                            unsafe_mul(x & 255, y & 255),
                            unsafe_mul((x >> 8) & 255, (y >> 8) & 255),
                        ),
                        unsafe_add(
                            unsafe_mul((x >> 16) & 255, (y >> 16) & 255),
                            unsafe_mul((x >> 24) & 255, (y >> 24) & 255),
                        ),
                    ),
                    unsafe_add(
                        unsafe_add(
                            unsafe_mul((x >> 32) & 255, (y >> 32) & 255),
                            unsafe_mul((x >> 40) & 255, (y >> 40) & 255),
                        ),
                        unsafe_add(
                            unsafe_mul((x >> 48) & 255, (y >> 48) & 255),
                            unsafe_mul((x >> 56) & 255, (y >> 56) & 255),
                        ),
                    ),
                ),
            )
            x = x >> 64
            y = y >> 64
    byte_sum: uint256 = 0
    for j: uint256 in range(16):
        byte_sum = unsafe_add(byte_sum, lanes & 65535)
        lanes = lanes >> 16
    bias: int256 = 128 * 128 * convert(DIM, int256)
    return convert(products, int256) - 128 * convert(byte_sum, int256) + bias


# ---- outcomes ----------------------------------------------------------------------------------

@internal
def _open(_digest: bytes32, _kind: uint8, _operator: address, _deadline: uint256) -> uint256:
    dispute_id: uint256 = self.dispute_count + 1
    self.dispute_count = dispute_id
    self.disputes[dispute_id] = Dispute(
        digest=_digest,
        kind=_kind,
        challenger=msg.sender,
        operator=_operator,
        passage_key=empty(bytes32),
        result_hash=empty(bytes32),
        deadline=_deadline,
        status=STATUS_OPEN,
    )
    log DisputeOpened(
        dispute_id=dispute_id, digest=_digest, kind=_kind, challenger=msg.sender, deadline=_deadline
    )
    extcall registry.dispute_opened(_operator, dispute_id)
    return dispute_id


@internal
def _decide(_digest: bytes32, _kind: uint8, _operator: address, _holds: bool) -> uint256:
    """Open and at once resolve a dispute whose claim the contract has just checked (its
    deadline is now: nothing is left to answer)."""
    dispute_id: uint256 = self._open(_digest, _kind, _operator, block.timestamp)
    dispute: Dispute = self.disputes[dispute_id]
    if _holds:
        self._challenger_wins(dispute_id, dispute)
    else:
        self._challenger_loses(dispute_id, dispute)
    return dispute_id


@view
@internal
def _open_dispute(_dispute_id: uint256) -> Dispute:
    dispute: Dispute = self.disputes[_dispute_id]
    assert dispute.status != 0, "no such dispute"
    assert dispute.status == STATUS_OPEN, "dispute already resolved"
    return dispute


@internal
def _challenger_wins(_dispute_id: uint256, _dispute: Dispute):
    """The challenger gets its bond back; the registry slashes the operator (on its first lost
    dispute) and gives this challenger a share of the slash. The receipt is judged for good."""
    self.disputes[_dispute_id].status = STATUS_CHALLENGER_WON
    self.judged[_dispute.digest] = True
    extcall registry.dispute_closed(_dispute.operator, _dispute_id, _dispute.challenger, True)
    self._pay(_dispute.challenger, challenger_bond)
    log DisputeResolved(
        dispute_id=_dispute_id,
        digest=_dispute.digest,
        challenger_won=True,
        paid_to=_dispute.challenger,
        amount=challenger_bond,
    )


@internal
def _challenger_loses(_dispute_id: uint256, _dispute: Dispute):
    """The challenger's bond goes to the operator, less the treasury's share."""
    self.disputes[_dispute_id].status = STATUS_CHALLENGER_LOST
    extcall registry.dispute_closed(_dispute.operator, _dispute_id, _dispute.challenger, False)
    cut: uint256 = challenger_bond * treasury_bps // BPS
    amount: uint256 = challenger_bond - cut
    self._pay(treasury, cut)
    self._pay(_dispute.operator, amount)
    log DisputeResolved(
        dispute_id=_dispute_id,
        digest=_dispute.digest,
        challenger_won=False,
        paid_to=_dispute.operator,
        amount=amount,
    )


@internal
def _pay(_to: address, _amount: uint256):
    if _amount > 0:
        assert extcall token.transfer(_to, _amount, default_return_value=True), "transfer failed"
