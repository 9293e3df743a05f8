# pragma version ~=0.4.3
"""
@title Aigora disputes
@notice Anyone challenges an anchored answer receipt by naming one step that is wrong; the contract
        re-checks that step itself, on integers, and the loser's bond goes to the winner.
        Four claims:
        - score: one result's score is not the exact dot product of its passage and the query;
        - order: two neighbouring results are out of order (score descending, then CID ascending);
        - stale: the operator answered from a snapshot older than one it had registered for the
          same model (beyond a grace period);
        - omission: a snapshot passage ranks before the last result but is missing. The contract
          cannot see all results at once, so this one opens a dispute that anyone rebuts by
          proving the passage is among the results; unrebutted by the deadline, the challenger wins.
@dev Every challenge first checks its inputs (signature, anchor, window, Merkle proofs) and reverts
     with a reason when they are bad: a bad input is not a lost claim. A well-formed claim that does
     not hold costs the challenger its bond (to the operator, less the treasury's share); one that
     holds slashes the operator's whole bond through the registry (to the challenger, less the
     treasury's share) and returns the challenger's bond. Each dispute resolves exactly once, and a
     receipt judged against its operator cannot be challenged again.
"""

from ethereum.ercs import IERC20

# ---- formats shared with aigora.verify, aigora.index and aigora.engine --------------------------

DIM: constant(uint256) = 384
WORDS: constant(uint256) = 12  # DIM // 32
KIND_RECEIPTS: constant(uint8) = 2
MAX_ANCHOR_DEPTH: constant(uint256) = 64
MAX_RESULT_DEPTH: constant(uint256) = 16
MAX_SNAPSHOT_DEPTH: constant(uint256) = 32
MAX_TRACE_DEPTH: constant(uint256) = 16
EMBEDDING_OP: constant(String[9]) = "embedding"
EMBEDDING_DTYPE: constant(String[4]) = "int8"

DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
RECEIPT_TYPEHASH: constant(bytes32) = keccak256(
    "Receipt(address operator,bytes32 modelRoot,bytes32 snapshotRoot,bytes32 queryHash,bytes32 traceRoot,bytes32 resultHash,uint32 k,uint256 fee,uint256 nonce,uint64 issuedAt)"
)
DOMAIN_NAME_HASH: constant(bytes32) = keccak256("Aigora")
DOMAIN_VERSION_HASH: constant(bytes32) = keccak256("1")
HALF_CURVE_ORDER: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
# secp256k1 n // 2: OpenZeppelin ECDSA refuses a larger s (the malleable twin of a signature).

BPS: constant(uint256) = 10000
BYTE_BIAS: constant(uint256) = max_value(uint256) // 255 * 128  # 0x80 in every byte
LOW_BYTES: constant(uint256) = max_value(uint256) // 65535 * 255  # 0x00ff in every 16-bit lane

# ---- dispute kinds and states ------------------------------------------------------------------

KIND_SCORE: constant(uint8) = 1
KIND_ORDER: constant(uint8) = 2
KIND_STALE: constant(uint8) = 3
KIND_OMISSION: constant(uint8) = 4

STATUS_OPEN: constant(uint8) = 1
STATUS_CHALLENGER_WON: constant(uint8) = 2
STATUS_CHALLENGER_LOST: constant(uint8) = 3

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

struct ResultEntry:
    rank: uint256
    cid: bytes32
    score: int256
    proof: DynArray[bytes32, MAX_RESULT_DEPTH]

struct Passage:
    position: uint256
    cid: bytes32
    embedding: Bytes[DIM]
    proof: DynArray[bytes32, MAX_SNAPSHOT_DEPTH]

struct QueryEmbedding:
    op_index: uint256
    embedding: Bytes[DIM]
    chunk_proof: DynArray[bytes32, MAX_TRACE_DEPTH]
    tensor_proof: DynArray[bytes32, MAX_TRACE_DEPTH]

struct Dispute:
    digest: bytes32
    kind: uint8
    challenger: address
    operator: address
    passage_cid: bytes32
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

struct Snapshot:
    model_root: bytes32
    registrant: address
    item_count: uint256
    timestamp: uint256

interface Registry:
    def operators(_operator: address) -> Operator: view
    def batches(_batch_id: uint256) -> Batch: view
    def snapshots(_root: bytes32) -> Snapshot: view
    def verify_inclusion(
        _batch_id: uint256, _leaf: bytes32, _proof: DynArray[bytes32, MAX_ANCHOR_DEPTH]
    ) -> bool: view
    def slash(_operator: address, _amount: uint256, _recipient: address) -> uint256: nonpayable

# ---- events and state --------------------------------------------------------------------------

event DisputeOpened:
    dispute_id: indexed(uint256)
    digest: bytes32
    kind: uint8
    challenger: address
    deadline: uint256

event DisputeResolved:
    dispute_id: indexed(uint256)
    digest: bytes32
    challenger_won: bool
    slashed: uint256
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

disputes: public(HashMap[uint256, Dispute])
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
    @param _passage The snapshot passage with that result's CID and its proof against snapshotRoot.
    @param _query The trace's int8 query embedding with its chunk and tensor proofs.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    self._check_result(_receipt, _entry)
    self._check_passage(_receipt, _passage)
    self._check_query(_receipt, _query)
    assert _passage.cid == _entry.cid, "passage CID differs from the result's CID"
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
            upper one must have the higher score, or an equal score and the lower CID. Resolved
            at once. Approve `challenger_bond` tokens first.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    self._check_result(_receipt, _upper)
    self._check_result(_receipt, _lower)
    assert _lower.rank == _upper.rank + 1, "the two results are not neighbours (rank, rank + 1)"
    holds: bool = not self._ranks_before(_upper.score, _upper.cid, _lower.score, _lower.cid)
    return self._decide(digest, KIND_ORDER, _receipt.operator, holds)


@external
@nonreentrant
def challenge_stale(
    _receipt: Receipt, _signature: Bytes[65], _anchor: Anchor, _newer: bytes32
) -> uint256:
    """
    @notice Claim that the operator answered from an old snapshot: `_newer` was registered by the
            same operator for the same model, after the receipt's snapshot, and more than
            `stale_grace` seconds before the receipt was issued. Resolved at once. Approve
            `challenger_bond` tokens first. A receipt citing a snapshot that was never
            registered counts as older than any registered one.
    @return The dispute id.
    """
    digest: bytes32 = self._admit(_receipt, _signature, _anchor)
    newer: Snapshot = staticcall registry.snapshots(_newer)
    used: Snapshot = staticcall registry.snapshots(_receipt.snapshotRoot)
    holds: bool = (
        newer.timestamp != 0
        and newer.registrant == _receipt.operator
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
    if not self._ranks_before(score, _passage.cid, _last.score, _last.cid):
        return self._decide(digest, KIND_OMISSION, _receipt.operator, False)
    dispute_id: uint256 = self._open(
        digest, KIND_OMISSION, _receipt.operator, block.timestamp + response_window
    )
    self.disputes[dispute_id].passage_cid = _passage.cid
    self.disputes[dispute_id].result_hash = _receipt.resultHash
    return dispute_id


@external
@nonreentrant
def rebut_omission(_dispute_id: uint256, _entry: ResultEntry):
    """
    @notice Answer an open omission dispute by proving that the passage is among the results;
            the challenger loses its bond to the operator. Anyone may rebut, until the deadline.
    @param _entry The result with the passage's CID and its proof against the receipt's resultHash.
    """
    dispute: Dispute = self._open_omission(_dispute_id)
    assert block.timestamp <= dispute.deadline, "the response window is over"
    assert _entry.cid == dispute.passage_cid, "entry CID differs from the disputed passage"
    assert self._verify(
        self._result_leaf(_entry), _entry.proof, dispute.result_hash
    ), "result proof does not match the receipt's resultHash"
    self._challenger_loses(_dispute_id, dispute)


@external
@nonreentrant
def resolve_timeout(_dispute_id: uint256):
    """
    @notice Close an omission dispute nobody rebutted within the response window: the challenger
            wins and the operator is slashed. Anyone may call it once the deadline has passed.
    """
    dispute: Dispute = self._open_omission(_dispute_id)
    assert block.timestamp > dispute.deadline, "the response window is still open"
    self._challenger_wins(_dispute_id, dispute)


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
    """Check that the receipt is signed by a registered operator, anchored, still challengeable
    and not yet judged; take the challenger's bond. Disputes on one receipt may run side by side:
    were an open one to block others, an operator could shield a bad receipt with a false
    omission claim of its own until the window closed. Returns the receipt digest."""
    digest: bytes32 = self._receipt_digest(_receipt)
    assert self._recover(digest, _signature) == _receipt.operator, "signature is not the operator's"
    operator: Operator = staticcall registry.operators(_receipt.operator)
    assert operator.registered_at != 0, "the receipt's operator is not registered"
    batch: Batch = staticcall registry.batches(_anchor.batch_id)
    assert batch.kind == KIND_RECEIPTS and batch.root != empty(bytes32), "not a receipts batch"
    leaf: bytes32 = keccak256(keccak256(abi_encode(digest)))
    assert staticcall registry.verify_inclusion(
        _anchor.batch_id, leaf, _anchor.proof
    ), "receipt is not in the anchored batch"
    assert block.timestamp <= batch.timestamp + challenge_window, "the challenge window is over"
    assert not self.judged[digest], "receipt already judged"
    assert extcall token.transferFrom(
        msg.sender, self, challenger_bond, default_return_value=True
    ), "bond transfer failed"
    return digest


@view
@internal
def _receipt_digest(_r: Receipt) -> bytes32:
    domain: bytes32 = keccak256(
        abi_encode(
            DOMAIN_TYPEHASH, DOMAIN_NAME_HASH, DOMAIN_VERSION_HASH, chain.id, registry.address
        )
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
    return keccak256(concat(x"1901", domain, body))


@pure
@internal
def _recover(_digest: bytes32, _signature: Bytes[65]) -> address:
    """ecrecover with OpenZeppelin's rules: 65 bytes, v 27 or 28, s in the lower half."""
    assert len(_signature) == 65, "signature must be 65 bytes (r, s, v)"
    r: uint256 = convert(extract32(_signature, 0), uint256)
    s: uint256 = convert(extract32(_signature, 32), uint256)
    v: uint256 = convert(slice(_signature, 64, 1), uint256)
    assert v == 27 or v == 28, "signature v must be 27 or 28"
    assert s <= HALF_CURVE_ORDER, "signature s must be in the lower half"
    signer: address = ecrecover(_digest, v, r, s)
    assert signer != empty(address), "signature does not recover"
    return signer


# ---- proofs ------------------------------------------------------------------------------------

@view
@internal
def _check_result(_receipt: Receipt, _entry: ResultEntry):
    assert _entry.rank < convert(_receipt.k, uint256), "result rank is not below k"
    assert self._verify(
        self._result_leaf(_entry), _entry.proof, _receipt.resultHash
    ), "result proof does not match the receipt's resultHash"


@pure
@internal
def _result_leaf(_entry: ResultEntry) -> bytes32:
    return keccak256(keccak256(abi_encode(_entry.rank, _entry.cid, _entry.score)))


@view
@internal
def _check_passage(_receipt: Receipt, _passage: Passage):
    assert len(_passage.embedding) == DIM, "passage embedding must be 384 bytes"
    leaf: bytes32 = keccak256(
        keccak256(abi_encode(_passage.position, _passage.cid, keccak256(_passage.embedding)))
    )
    assert self._verify(
        leaf, _passage.proof, _receipt.snapshotRoot
    ), "passage proof does not match the receipt's snapshotRoot"


@view
@internal
def _check_query(_receipt: Receipt, _query: QueryEmbedding):
    """The query embedding is chunk 0 of the trace's `embedding` op, an int8 (384,) tensor."""
    assert len(_query.embedding) == DIM, "query embedding must be 384 bytes"
    chunk_leaf: bytes32 = keccak256(
        keccak256(abi_encode(_query.op_index, empty(uint256), _query.embedding))
    )
    tensor_root: bytes32 = self._process(chunk_leaf, _query.chunk_proof)
    shape: DynArray[uint256, 4] = [DIM]
    tensor_leaf: bytes32 = keccak256(
        keccak256(abi_encode(_query.op_index, EMBEDDING_OP, EMBEDDING_DTYPE, shape, tensor_root))
    )
    assert self._verify(
        tensor_leaf, _query.tensor_proof, _receipt.traceRoot
    ), "query embedding proof does not match the receipt's traceRoot"


@pure
@internal
def _verify(_leaf: bytes32, _proof: DynArray[bytes32, MAX_SNAPSHOT_DEPTH], _root: bytes32) -> bool:
    return self._process(_leaf, _proof) == _root


@pure
@internal
def _process(_leaf: bytes32, _proof: DynArray[bytes32, MAX_SNAPSHOT_DEPTH]) -> bytes32:
    """OpenZeppelin MerkleProof.processProof: pairs are hashed sorted."""
    computed: bytes32 = _leaf
    for sibling: bytes32 in _proof:
        if convert(computed, uint256) < convert(sibling, uint256):
            computed = keccak256(concat(computed, sibling))
        else:
            computed = keccak256(concat(sibling, computed))
    return computed


# ---- arithmetic --------------------------------------------------------------------------------

@pure
@internal
def _ranks_before(_score: int256, _cid: bytes32, _other_score: int256, _other_cid: bytes32) -> bool:
    """The ranking order: score descending, then CID digest ascending."""
    if _score != _other_score:
        return _score > _other_score
    return convert(_cid, uint256) < convert(_other_cid, uint256)


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
        passage_cid=empty(bytes32),
        result_hash=empty(bytes32),
        deadline=_deadline,
        status=STATUS_OPEN,
    )
    log DisputeOpened(
        dispute_id=dispute_id, digest=_digest, kind=_kind, challenger=msg.sender, deadline=_deadline
    )
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
def _open_omission(_dispute_id: uint256) -> Dispute:
    dispute: Dispute = self.disputes[_dispute_id]
    assert dispute.status != 0, "no such dispute"
    assert dispute.status == STATUS_OPEN, "dispute already resolved"
    assert dispute.kind == KIND_OMISSION, "not an omission dispute"
    return dispute


@internal
def _challenger_wins(_dispute_id: uint256, _dispute: Dispute):
    """Slash everything the operator has bonded or unbonding; the challenger gets it, less the
    treasury's share, and its own bond back. The receipt is judged for good."""
    self.disputes[_dispute_id].status = STATUS_CHALLENGER_WON
    self.judged[_dispute.digest] = True
    taken: uint256 = extcall registry.slash(_dispute.operator, max_value(uint256), self)
    cut: uint256 = taken * treasury_bps // BPS
    amount: uint256 = taken - cut + challenger_bond
    self._pay(treasury, cut)
    self._pay(_dispute.challenger, amount)
    log DisputeResolved(
        dispute_id=_dispute_id,
        digest=_dispute.digest,
        challenger_won=True,
        slashed=taken,
        paid_to=_dispute.challenger,
        amount=amount,
    )


@internal
def _challenger_loses(_dispute_id: uint256, _dispute: Dispute):
    """The challenger's bond goes to the operator, less the treasury's share."""
    self.disputes[_dispute_id].status = STATUS_CHALLENGER_LOST
    cut: uint256 = challenger_bond * treasury_bps // BPS
    amount: uint256 = challenger_bond - cut
    self._pay(treasury, cut)
    self._pay(_dispute.operator, amount)
    log DisputeResolved(
        dispute_id=_dispute_id,
        digest=_dispute.digest,
        challenger_won=False,
        slashed=0,
        paid_to=_dispute.operator,
        amount=amount,
    )


@internal
def _pay(_to: address, _amount: uint256):
    if _amount > 0:
        assert extcall token.transfer(_to, _amount, default_return_value=True), "transfer failed"
