# pragma version ~=0.4.3
"""
@title Aigora governor
@notice The network's community decides the policy in force: a canonical-JSON document
        (admission rules, objectives, reputation parameters and the voters' standing table),
        named on chain by its keccak256 `policy_hash`, with the standing it carries
        (`standing_root`, `standing_total`). The shape is OpenZeppelin Governor's: a proposal
        is voted for `voting_period` seconds, and one that passed may be executed by anyone
        `timelock` seconds after the vote ended (its eta).
        Voting power is not a token balance. It is a standing table: an OpenZeppelin
        StandardMerkleTree over (address account, uint256 power), the Distributor's claim-tree
        leaf shape, whose root and total are part of the policy. A voter proves its leaf against
        the standing the proposal was made under (its snapshot, as Governor's proposalSnapshot),
        so a table a proposal would enact never counts in its own vote, and an account outside
        the table has no vote at all, whatever it holds.
        Proposals and ballots are EIP-712 signatures that anyone may relay (a voter needs no
        ether): Propose(proposer, policyHash, standingRoot, standingTotal, basePolicy, nonce)
        and Ballot(proposalId, support, voter, policyHash, standingRoot, standingTotal), a
        ballot naming the proposal's own hash and standing. The document itself is only
        logged, in the Proposed event (genesis included), where a node reads every policy back
        and checks its hash.
@dev Invariants. Policy changes only by `execute`, and each change appends an Enactment, so
     enactments(i) for i < enacted_count is the whole history and the last one is in force.
     A proposal counts each standing leaf once (has_voted), and only a leaf of its snapshot.
     A passed proposal executes only while the policy it was written against is still the
     policy in force (document and standing alike): once another proposal changed it, the
     first is STALE, so executing it cannot silently undo that change. Totals are bounded by
     MAX_TOTAL so that no tally or quorum product can overflow and wedge state().
"""

from snekmate.utils import eip712_domain_separator as eip712

from .lib import ecdsa
from .lib import merkle

initializes: eip712
exports: eip712.eip712Domain

MAX_DOCUMENT: constant(uint256) = 32768  # bytes of canonical JSON
MAX_DEPTH: constant(uint256) = 32  # 2**32 standing leaves
MAX_TOTAL: constant(uint256) = 2**128 - 1
BPS: constant(uint256) = 10000

DOMAIN_NAME: constant(String[50]) = "Aigora Governor"
DOMAIN_VERSION: constant(String[20]) = "1"
PROPOSE_TYPEHASH: constant(bytes32) = keccak256(
    "Propose(address proposer,bytes32 policyHash,bytes32 standingRoot,uint256 standingTotal,bytes32 basePolicy,uint256 nonce)"
)
BALLOT_TYPEHASH: constant(bytes32) = keccak256(
    "Ballot(uint256 proposalId,uint8 support,address voter,bytes32 policyHash,bytes32 standingRoot,uint256 standingTotal)"
)

SUPPORT_AGAINST: constant(uint8) = 0
SUPPORT_FOR: constant(uint8) = 1
SUPPORT_ABSTAIN: constant(uint8) = 2

# What state() answers; 0 is no state (an unknown proposal reverts).
STATE_ACTIVE: constant(uint8) = 1  # voting open
STATE_DEFEATED: constant(uint8) = 2  # voting ended, not passed
STATE_QUEUED: constant(uint8) = 3  # passed, before its eta
STATE_READY: constant(uint8) = 4  # passed, at or after its eta, its base policy still in force
STATE_STALE: constant(uint8) = 5  # passed, but the policy in force is no longer its base
STATE_EXECUTED: constant(uint8) = 6


struct Proposal:
    proposer: address
    policy_hash: bytes32  # keccak256 of the document it would enact
    base_policy: bytes32  # policy_hash in force when it was proposed
    standing_root: bytes32  # the standing it would enact
    standing_total: uint256
    snapshot_root: bytes32  # the standing it is voted with (in force when it was proposed)
    snapshot_total: uint256
    vote_end: uint256  # voting is open while block.timestamp < vote_end
    eta: uint256  # vote_end + timelock: executable from then on
    for_power: uint256
    against_power: uint256
    abstain_power: uint256
    executed: bool


struct Enactment:
    proposal_id: uint256
    policy_hash: bytes32
    standing_root: bytes32
    standing_total: uint256
    block_number: uint256
    timestamp: uint256


event Proposed:
    proposal_id: indexed(uint256)
    proposer: indexed(address)
    policy_hash: bytes32
    base_policy: bytes32
    standing_root: bytes32
    standing_total: uint256
    vote_end: uint256
    eta: uint256
    document: Bytes[MAX_DOCUMENT]

event VoteCast:
    proposal_id: indexed(uint256)
    voter: indexed(address)
    support: uint8
    power: uint256

event Enacted:
    proposal_id: indexed(uint256)
    index: uint256
    policy_hash: bytes32
    standing_root: bytes32
    standing_total: uint256


voting_period: public(immutable(uint256))
timelock: public(immutable(uint256))
quorum_bps: public(immutable(uint256))
threshold_bps: public(immutable(uint256))

policy_hash: public(bytes32)
standing_root: public(bytes32)
standing_total: public(uint256)

enacted_count: public(uint256)
enactments: public(HashMap[uint256, Enactment])
proposal_count: public(uint256)
proposals: public(HashMap[uint256, Proposal])
has_voted: public(HashMap[uint256, HashMap[address, bool]])
nonces: public(HashMap[address, uint256])


@deploy
def __init__(
    _document: Bytes[MAX_DOCUMENT],
    _standing_root: bytes32,
    _standing_total: uint256,
    _voting_period: uint256,
    _timelock: uint256,
    _quorum_bps: uint256,
    _threshold_bps: uint256,
):
    """
    @notice Enact the genesis policy as proposal 0, already executed at the deployment block,
            and fix the rules every later proposal is decided by.
    @param _document The genesis policy document (canonical JSON); logged, not stored.
    @param _standing_root The root of its standing table.
    @param _standing_total The sum of the table's powers.
    @param _voting_period Seconds a proposal is open for votes.
    @param _timelock Seconds between the end of the vote and the earliest execution.
    @param _quorum_bps For and abstain power together must reach this share of the snapshot
           total (1 to 10000 basis points).
    @param _threshold_bps A proposer's power must be at least this share of the standing total
           (0 to 10000 basis points; 0: anyone in the table).
    """
    assert _voting_period > 0, "the voting period must be positive"
    assert _quorum_bps >= 1 and _quorum_bps <= BPS, "quorum must be 1 to 10000 basis points"
    assert _threshold_bps <= BPS, "threshold must be at most 10000 basis points"
    self._check_policy(len(_document), _standing_root, _standing_total)
    eip712.__init__(DOMAIN_NAME, DOMAIN_VERSION)
    voting_period = _voting_period
    timelock = _timelock
    quorum_bps = _quorum_bps
    threshold_bps = _threshold_bps

    document_hash: bytes32 = keccak256(_document)
    self.proposals[0].proposer = msg.sender
    self.proposals[0].policy_hash = document_hash
    self.proposals[0].standing_root = _standing_root
    self.proposals[0].standing_total = _standing_total
    self.proposals[0].vote_end = block.timestamp
    self.proposals[0].eta = block.timestamp
    self.proposals[0].executed = True
    self.proposal_count = 1
    log Proposed(
        proposal_id=0,
        proposer=msg.sender,
        policy_hash=document_hash,
        base_policy=empty(bytes32),
        standing_root=_standing_root,
        standing_total=_standing_total,
        vote_end=block.timestamp,
        eta=block.timestamp,
        document=_document,
    )
    self._enact(0, document_hash, _standing_root, _standing_total)


# ---- proposing ----------------------------------------------------------------------------------

@external
def propose(
    _document: Bytes[MAX_DOCUMENT],
    _standing_root: bytes32,
    _standing_total: uint256,
    _proposer: address,
    _power: uint256,
    _proof: DynArray[bytes32, MAX_DEPTH],
    _signature: Bytes[65],
) -> uint256:
    """
    @notice Propose `_document` with its standing as the next policy, in `_proposer`'s name;
            anyone may send it. Voting opens at once, for `voting_period` seconds, with the
            standing in force now as its snapshot.
    @param _power The proposer's power in the standing in force; with `_proof`, its leaf must
           prove against standing_root, and _power * 10000 >= threshold_bps * standing_total.
    @param _signature The proposer's EIP-712 signature over Propose(proposer,
           policyHash = keccak256(document), standingRoot, standingTotal, basePolicy = the
           policy_hash in force, nonce = nonces(proposer)): good for one proposal, against this
           policy only.
    @return The proposal id (1 for the first proposal after genesis).
    """
    self._check_policy(len(_document), _standing_root, _standing_total)
    document_hash: bytes32 = keccak256(_document)
    base: bytes32 = self.policy_hash
    snapshot_root: bytes32 = self.standing_root
    snapshot_total: uint256 = self.standing_total
    assert not (
        document_hash == base
        and _standing_root == snapshot_root
        and _standing_total == snapshot_total
    ), "the proposal is the policy in force: nothing to change"
    nonce: uint256 = self.nonces[_proposer]
    digest: bytes32 = self._propose_digest(
        _proposer, document_hash, _standing_root, _standing_total, base, nonce
    )
    assert ecdsa._recover(digest, _signature) == _proposer, "signature is not the proposer's"
    assert merkle._process_proof(self._leaf(_proposer, _power), _proof) == snapshot_root, (
        "proof does not match the standing in force"
    )
    assert _power <= snapshot_total, "power exceeds the standing total"
    assert _power * BPS >= threshold_bps * snapshot_total, (
        "the proposer's power is below the proposal threshold"
    )
    self.nonces[_proposer] = nonce + 1

    proposal_id: uint256 = self.proposal_count
    self.proposal_count = proposal_id + 1
    vote_end: uint256 = block.timestamp + voting_period
    eta: uint256 = vote_end + timelock
    # Field by field: the zero tallies cost nothing to leave unwritten.
    self.proposals[proposal_id].proposer = _proposer
    self.proposals[proposal_id].policy_hash = document_hash
    self.proposals[proposal_id].base_policy = base
    self.proposals[proposal_id].standing_root = _standing_root
    self.proposals[proposal_id].standing_total = _standing_total
    self.proposals[proposal_id].snapshot_root = snapshot_root
    self.proposals[proposal_id].snapshot_total = snapshot_total
    self.proposals[proposal_id].vote_end = vote_end
    self.proposals[proposal_id].eta = eta
    log Proposed(
        proposal_id=proposal_id,
        proposer=_proposer,
        policy_hash=document_hash,
        base_policy=base,
        standing_root=_standing_root,
        standing_total=_standing_total,
        vote_end=vote_end,
        eta=eta,
        document=_document,
    )
    return proposal_id


# ---- voting -------------------------------------------------------------------------------------

@external
def vote(
    _proposal_id: uint256,
    _voter: address,
    _support: uint8,
    _power: uint256,
    _proof: DynArray[bytes32, MAX_DEPTH],
    _signature: Bytes[65],
):
    """
    @notice Cast `_voter`'s ballot with its power in the proposal's snapshot; anyone may send
            it, and the vote is always the signer's (a relayer, or a front-runner, can only
            cast exactly what the voter signed, once).
    @param _support 0 against, 1 for, 2 abstain.
    @param _power The voter's power in the proposal's snapshot; with `_proof`, its leaf must
           prove against the proposal's snapshot_root.
    @param _signature The voter's EIP-712 signature over Ballot(proposalId, support, voter, policyHash, standingRoot, standingTotal) with the proposal's own hash and standing.
    """
    self._check_ballot(_proposal_id, _voter, _support)
    digest: bytes32 = self._ballot_digest(_proposal_id, _support, _voter)
    assert ecdsa._recover(digest, _signature) == _voter, "signature is not the voter's"
    self._count(_proposal_id, _voter, _support, _power, _proof)


@external
def cast_vote(
    _proposal_id: uint256, _support: uint8, _power: uint256, _proof: DynArray[bytes32, MAX_DEPTH]
):
    """@notice `vote` for msg.sender itself: no signature needed."""
    self._check_ballot(_proposal_id, msg.sender, _support)
    self._count(_proposal_id, msg.sender, _support, _power, _proof)


# ---- execution ----------------------------------------------------------------------------------

@external
def execute(_proposal_id: uint256):
    """
    @notice Enact a READY proposal: its document and standing become the policy in force, and
            an Enactment is appended at this block. Anyone may send it.
    """
    proposal: Proposal = self._proposal(_proposal_id)
    state: uint8 = self._state(proposal)
    assert state != STATE_ACTIVE, "voting is still open"
    assert state != STATE_DEFEATED, "the proposal was defeated"
    assert state != STATE_QUEUED, "the timelock has not passed (eta)"
    assert state != STATE_STALE, "stale: the policy changed since the proposal was made"
    assert state != STATE_EXECUTED, "the proposal was already executed"
    self.proposals[_proposal_id].executed = True
    self._enact(
        _proposal_id, proposal.policy_hash, proposal.standing_root, proposal.standing_total
    )


# ---- views --------------------------------------------------------------------------------------

@view
@external
def state(_proposal_id: uint256) -> uint8:
    """@notice The proposal's STATE_* code; reverts for an unknown proposal."""
    return self._state(self._proposal(_proposal_id))


@view
@external
def policy_index_at(_block: uint256) -> uint256:
    """
    @notice The index of the enactment in force at the end of block `_block`: the last one
            enacted at or before it (binary search over enactments).
    """
    assert _block >= self.enactments[0].block_number, "the block is before the genesis policy"
    low: uint256 = 0
    high: uint256 = self.enacted_count - 1
    for _: uint256 in range(256):
        if low >= high:
            break
        middle: uint256 = (low + high + 1) // 2
        if self.enactments[middle].block_number <= _block:
            low = middle
        else:
            high = middle - 1
    return low


@view
@external
def propose_digest(
    _proposer: address,
    _policy_hash: bytes32,
    _standing_root: bytes32,
    _standing_total: uint256,
    _base_policy: bytes32,
    _nonce: uint256,
) -> bytes32:
    """@notice The EIP-712 digest a proposer signs to propose a policy."""
    return self._propose_digest(
        _proposer, _policy_hash, _standing_root, _standing_total, _base_policy, _nonce
    )


@view
@external
def ballot_digest(_proposal_id: uint256, _support: uint8, _voter: address) -> bytes32:
    """@notice The EIP-712 digest a voter signs to cast its ballot."""
    return self._ballot_digest(_proposal_id, _support, _voter)


# ---- internals ----------------------------------------------------------------------------------

@pure
@internal
def _check_policy(_length: uint256, _standing_root: bytes32, _standing_total: uint256):
    """What any policy must be: a document, a standing root and a total that fits."""
    assert _length > 0, "the policy document is empty"
    assert _standing_root != empty(bytes32), "the standing root is empty"
    assert _standing_total > 0, "the standing total must be positive"
    assert _standing_total <= MAX_TOTAL, "the standing total does not fit in 128 bits"


@view
@internal
def _proposal(_proposal_id: uint256) -> Proposal:
    assert _proposal_id < self.proposal_count, "unknown proposal"
    return self.proposals[_proposal_id]


@view
@internal
def _state(_proposal: Proposal) -> uint8:
    """The rules, in order: executed; open while before vote_end; then passed or defeated; a
    passed proposal whose base is no longer in force is stale; else queued until eta, then
    ready."""
    if _proposal.executed:
        return STATE_EXECUTED
    if block.timestamp < _proposal.vote_end:
        return STATE_ACTIVE
    if not self._passed(_proposal):
        return STATE_DEFEATED
    if (
        _proposal.base_policy != self.policy_hash
        or _proposal.snapshot_root != self.standing_root
        or _proposal.snapshot_total != self.standing_total
    ):
        return STATE_STALE
    if block.timestamp < _proposal.eta:
        return STATE_QUEUED
    return STATE_READY


@view
@internal
def _passed(_proposal: Proposal) -> bool:
    """More power for than against, and for plus abstain at least quorum_bps of the snapshot."""
    return _proposal.for_power > _proposal.against_power and (
        (_proposal.for_power + _proposal.abstain_power) * BPS
        >= quorum_bps * _proposal.snapshot_total
    )


@view
@internal
def _check_ballot(_proposal_id: uint256, _voter: address, _support: uint8):
    """Everything about a ballot that needs neither its signature nor its proof."""
    assert _proposal_id < self.proposal_count, "unknown proposal"
    assert not self.proposals[_proposal_id].executed, "the proposal was already executed"
    assert block.timestamp < self.proposals[_proposal_id].vote_end, "voting has ended"
    assert not self.has_voted[_proposal_id][_voter], "already voted"
    assert _support <= SUPPORT_ABSTAIN, "support must be 0 (against), 1 (for) or 2 (abstain)"


@internal
def _count(
    _proposal_id: uint256,
    _voter: address,
    _support: uint8,
    _power: uint256,
    _proof: DynArray[bytes32, MAX_DEPTH],
):
    """Prove the voter's leaf against the proposal's snapshot and add its power, once."""
    snapshot_root: bytes32 = self.proposals[_proposal_id].snapshot_root
    assert merkle._process_proof(self._leaf(_voter, _power), _proof) == snapshot_root, (
        "proof does not match the proposal's standing"
    )
    assert _power > 0, "no voting power"
    assert _power <= self.proposals[_proposal_id].snapshot_total, (
        "power exceeds the standing total"
    )
    self.has_voted[_proposal_id][_voter] = True
    if _support == SUPPORT_FOR:
        self.proposals[_proposal_id].for_power += _power
    elif _support == SUPPORT_AGAINST:
        self.proposals[_proposal_id].against_power += _power
    else:
        self.proposals[_proposal_id].abstain_power += _power
    log VoteCast(proposal_id=_proposal_id, voter=_voter, support=_support, power=_power)


@internal
def _enact(_proposal_id: uint256, _policy_hash: bytes32, _root: bytes32, _total: uint256):
    self.policy_hash = _policy_hash
    self.standing_root = _root
    self.standing_total = _total
    index: uint256 = self.enacted_count
    self.enacted_count = index + 1
    self.enactments[index] = Enactment(
        proposal_id=_proposal_id,
        policy_hash=_policy_hash,
        standing_root=_root,
        standing_total=_total,
        block_number=block.number,
        timestamp=block.timestamp,
    )
    log Enacted(
        proposal_id=_proposal_id,
        index=index,
        policy_hash=_policy_hash,
        standing_root=_root,
        standing_total=_total,
    )


@pure
@internal
def _leaf(_account: address, _power: uint256) -> bytes32:
    return keccak256(keccak256(abi_encode(_account, _power)))


@view
@internal
def _propose_digest(
    _proposer: address,
    _policy_hash: bytes32,
    _standing_root: bytes32,
    _standing_total: uint256,
    _base_policy: bytes32,
    _nonce: uint256,
) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(
            abi_encode(
                PROPOSE_TYPEHASH,
                _proposer,
                _policy_hash,
                _standing_root,
                _standing_total,
                _base_policy,
                _nonce,
            )
        )
    )


@view
@internal
def _ballot_digest(_proposal_id: uint256, _support: uint8, _voter: address) -> bytes32:
    """A ballot names what the voter saw: the proposal's document hash and the standing it
    would enact. The contract cannot read a document's table, so a proposal whose standing is
    not its document's table passes only if voters sign that standing themselves; voters'
    software checks the two agree before it signs (a reorg that renumbers proposals cannot
    carry a ballot over to another proposal either)."""
    return eip712._hash_typed_data_v4(
        keccak256(
            abi_encode(
                BALLOT_TYPEHASH,
                _proposal_id,
                _support,
                _voter,
                self.proposals[_proposal_id].policy_hash,
                self.proposals[_proposal_id].standing_root,
                self.proposals[_proposal_id].standing_total,
            )
        )
    )
