# pragma version ~=0.4.3
"""
@title Aigora labeling bounties
@notice Escrow for a labeling marketplace. A requester opens a job and escrows its bounty in the
        token; the node that runs the marketplace for the job (its operator) releases escrow for
        accepted labels into its payout epochs (and funds the payout Distributor with it); what
        the operator has not released is refundable to the requester once the release grace is
        over.
@dev A job lives through three windows, each a strict function of block.timestamp:
       open        now <  ends_at                  fund, release
       grace       ends_at <= now <= deadline      release
       settled     now >  deadline                 release until the refund; refund (once)
     where deadline = ends_at + release_grace. The grace is the operator's guaranteed window: no
     refund can come before it ends. After it the operator may still release (a payout epoch that
     closes late still pays for labels accepted in time) until the requester refunds, and the
     refund freezes the job. So escrowed only grows before ends_at, released only grows before
     the refund, and the refund pays exactly escrowed - released: refunded is recorded as a flag,
     not an amount. Every transfer out is booked before it is sent.
     Invariants: released + refunded <= escrowed for every job, and (absent direct transfers) the
     contract's token balance is the sum of remaining(job) over all jobs.
     Storage: three slots a job, so that opening a job writes three fresh slots and a release or
     a refund rewrites one:
       _requester_word  refunded flag << 160 | requester
       _operator_word   ends_at << 160 | operator          (ends_at fits in 64 bits)
       _amounts         escrowed << 128 | released         (both fit in 128 bits)
"""

from ethereum.ercs import IERC20

LOW_128: constant(uint256) = 2**128 - 1
LOW_160: constant(uint256) = 2**160 - 1
MAX_TIME: constant(uint256) = 2**64 - 1  # seconds: ends_at and release_grace fit in 64 bits
REFUNDED: constant(uint256) = 1 << 160

struct Job:
    requester: address
    operator: address
    escrowed: uint256  # all the requester deposited
    released: uint256  # all the operator released
    refunded: uint256  # what the refund paid back: 0 before it, escrowed - released after
    ends_at: uint256

event JobOpened:
    job_id: indexed(bytes32)
    requester: indexed(address)
    operator: indexed(address)
    amount: uint256
    ends_at: uint256

event Funded:
    job_id: indexed(bytes32)
    amount: uint256
    escrowed: uint256

event Released:
    job_id: indexed(bytes32)
    amount: uint256
    remaining: uint256

event Refunded:
    job_id: indexed(bytes32)
    amount: uint256

token: public(immutable(IERC20))
release_grace: public(immutable(uint256))
_requester_word: HashMap[bytes32, uint256]
_operator_word: HashMap[bytes32, uint256]
_amounts: HashMap[bytes32, uint256]


@deploy
def __init__(_token: IERC20, _release_grace_s: uint256):
    """
    @param _token The escrow token.
    @param _release_grace_s How long after a job's end its operator may release before the
           requester can refund: the epoch that pays for the last accepted labels closes after
           the job does.
    """
    assert _token.address != empty(address), "token is the zero address"
    assert _release_grace_s <= MAX_TIME, "release grace does not fit in 64 bits"
    token = _token
    release_grace = _release_grace_s


# ---- the requester ------------------------------------------------------------------------------

@external
def open_job(_job_id: bytes32, _amount: uint256, _operator: address, _ends_at: uint256):
    """
    @notice Open job `_job_id` and escrow `_amount` from msg.sender, its requester (approve the
            amount first). `_operator` alone may release the escrow, until the refund; after
            `_ends_at` plus release_grace() the requester may take back what remains.
    @param _job_id Any id never used before on this contract (a retried open is refused).
    """
    assert self._requester_word[_job_id] == 0, "job id already used"
    assert _amount > 0, "amount is zero"
    assert _amount <= LOW_128, "amount does not fit in 128 bits"
    assert _operator != empty(address), "operator is the zero address"
    assert _ends_at > block.timestamp, "ends_at is not in the future"
    assert _ends_at <= MAX_TIME, "ends_at does not fit in 64 bits"
    self._requester_word[_job_id] = convert(msg.sender, uint256)
    self._operator_word[_job_id] = (_ends_at << 160) | convert(_operator, uint256)
    self._amounts[_job_id] = _amount << 128
    self._pull(_amount)
    log JobOpened(
        job_id=_job_id, requester=msg.sender, operator=_operator, amount=_amount, ends_at=_ends_at
    )


@external
def fund(_job_id: bytes32, _amount: uint256):
    """@notice Escrow `_amount` more for job `_job_id` before it ends; only its requester may."""
    requester_word: uint256 = self._requester_word[_job_id]
    assert requester_word != 0, "no such job"
    assert requester_word & LOW_160 == convert(msg.sender, uint256), "only the requester funds"
    assert block.timestamp < self._operator_word[_job_id] >> 160, "the job has ended"
    assert _amount > 0, "amount is zero"
    amounts: uint256 = self._amounts[_job_id]
    escrowed: uint256 = (amounts >> 128) + _amount
    assert escrowed <= LOW_128, "escrow does not fit in 128 bits"
    self._amounts[_job_id] = (escrowed << 128) | (amounts & LOW_128)
    self._pull(_amount)
    log Funded(job_id=_job_id, amount=_amount, escrowed=escrowed)


@external
def refund(_job_id: bytes32):
    """
    @notice Pay the requester of job `_job_id` all its escrow that the operator did not release.
            Only the requester may, once, after the release grace (ends_at + release_grace);
            from then on the operator cannot release.
    """
    requester_word: uint256 = self._requester_word[_job_id]
    assert requester_word != 0, "no such job"
    assert requester_word & LOW_160 == convert(msg.sender, uint256), "only the requester refunds"
    assert block.timestamp > (self._operator_word[_job_id] >> 160) + release_grace, (
        "the job has not ended (plus grace)"
    )
    assert requester_word & REFUNDED == 0, "nothing to refund"  # refunded already
    amounts: uint256 = self._amounts[_job_id]
    amount: uint256 = (amounts >> 128) - (amounts & LOW_128)
    assert amount > 0, "nothing to refund"  # all of it was released
    self._requester_word[_job_id] = requester_word | REFUNDED
    self._pay(msg.sender, amount)
    log Refunded(job_id=_job_id, amount=amount)


# ---- the operator -------------------------------------------------------------------------------

@external
def release(_job_id: bytes32, _amount: uint256):
    """
    @notice Pay `_amount` of job `_job_id`'s escrow to msg.sender, its operator, for accepted
            labels; allowed until the requester refunds (which it may only after ends_at +
            release_grace).
    """
    operator_word: uint256 = self._operator_word[_job_id]
    assert operator_word != 0, "no such job"
    assert operator_word & LOW_160 == convert(msg.sender, uint256), (
        "only the job's operator releases"
    )
    assert self._requester_word[_job_id] & REFUNDED == 0, "the requester refunded the escrow"
    assert _amount > 0, "amount is zero"
    amounts: uint256 = self._amounts[_job_id]
    remaining: uint256 = (amounts >> 128) - (amounts & LOW_128)
    assert _amount <= remaining, "release exceeds the remaining escrow"
    self._amounts[_job_id] = amounts + _amount  # released stays <= escrowed < 2**128: no carry
    self._pay(msg.sender, _amount)
    log Released(job_id=_job_id, amount=_amount, remaining=remaining - _amount)


# ---- views --------------------------------------------------------------------------------------

@view
@external
def jobs(_job_id: bytes32) -> Job:
    """@notice Job `_job_id`; all fields zero when there is no such job."""
    requester_word: uint256 = self._requester_word[_job_id]
    operator_word: uint256 = self._operator_word[_job_id]
    amounts: uint256 = self._amounts[_job_id]
    escrowed: uint256 = amounts >> 128
    released: uint256 = amounts & LOW_128
    refunded: uint256 = 0
    if requester_word & REFUNDED != 0:
        refunded = escrowed - released
    return Job(
        requester=self._address(requester_word),
        operator=self._address(operator_word),
        escrowed=escrowed,
        released=released,
        refunded=refunded,
        ends_at=operator_word >> 160,
    )


@view
@external
def remaining(_job_id: bytes32) -> uint256:
    """@notice Escrow of job `_job_id` neither released nor refunded: what the contract holds."""
    if self._requester_word[_job_id] & REFUNDED != 0:
        return 0
    amounts: uint256 = self._amounts[_job_id]
    return (amounts >> 128) - (amounts & LOW_128)


# ---- internals ----------------------------------------------------------------------------------

@internal
def _pull(_amount: uint256):
    """Take `_amount` from msg.sender, with a reason a requester can act on when it cannot."""
    assert staticcall token.allowance(msg.sender, self) >= _amount, (
        "requester's token allowance does not cover the escrow"
    )
    assert staticcall token.balanceOf(msg.sender) >= _amount, (
        "requester's token balance does not cover the escrow"
    )
    assert extcall token.transferFrom(
        msg.sender, self, _amount, default_return_value=True
    ), "escrow transfer failed"


@internal
def _pay(_to: address, _amount: uint256):
    assert extcall token.transfer(_to, _amount, default_return_value=True), "transfer failed"


@pure
@internal
def _address(_word: uint256) -> address:
    return convert(convert(_word & LOW_160, uint160), address)
