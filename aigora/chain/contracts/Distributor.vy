# pragma version ~=0.4.3
"""
@title Aigora payout distributor
@notice Pays contributors from cumulative Merkle roots, one per epoch. The poster (the node's
        account) publishes the root of an OpenZeppelin StandardMerkleTree over
        (address account, uint256 cumulativeAmount), where cumulativeAmount is all that account
        has earned in every epoch so far, and funds the increase of the tree's total in the same
        transaction. Anyone may then send any account's claim, so an account needs neither tokens
        nor ether to be paid; a relayer may keep a fee that the account signed for.
@dev Invariant: paid_total <= cumulative_total <= tokens pulled from the poster. Every posted root
     is fully funded when it lands (its total minus the previous total is pulled at once), each
     account is paid at most its cumulative amount under the current root, and a claim that would
     push paid_total above cumulative_total reverts, so the contract never pays out more than it
     was funded with, even if a root's leaves add up to more than the total posted with it.
     Both totals share one storage slot (128 bits each) so that a claim reads and writes a single
     slot for them.
"""

from ethereum.ercs import IERC20
from snekmate.utils import eip712_domain_separator as eip712

from .lib import ecdsa
from .lib import merkle

initializes: eip712
exports: eip712.eip712Domain

MAX_DEPTH: constant(uint256) = 32  # 2**32 accounts: far beyond any epoch

DOMAIN_NAME: constant(String[50]) = "Aigora Distributor"
DOMAIN_VERSION: constant(String[20]) = "1"
CLAIM_FEE_TYPEHASH: constant(bytes32) = keccak256(
    "ClaimFee(address account,uint256 cumulativeAmount,uint256 fee,address relayer,uint256 deadline)"
)

LOW_128: constant(uint256) = 2**128 - 1

event EpochPosted:
    epoch: indexed(uint256)
    root: bytes32
    cumulative_total: uint256
    funded: uint256

event Claimed:
    account: indexed(address)
    amount: uint256
    cumulative: uint256
    relayer: address
    fee: uint256

event PosterChanged:
    previous: indexed(address)
    poster: indexed(address)

token: public(immutable(IERC20))
poster: public(address)
epoch: public(uint256)
root: public(bytes32)
roots: public(HashMap[uint256, bytes32])
claimed: public(HashMap[address, uint256])
_totals: uint256  # cumulative_total << 128 | paid_total


@deploy
def __init__(_token: IERC20, _poster: address):
    assert _token.address != empty(address), "token is the zero address"
    assert _poster != empty(address), "poster is the zero address"
    eip712.__init__(DOMAIN_NAME, DOMAIN_VERSION)
    token = _token
    self.poster = _poster
    log PosterChanged(previous=empty(address), poster=_poster)


# ---- the poster ---------------------------------------------------------------------------------

@external
def post_epoch(_epoch: uint256, _root: bytes32, _cumulative_total: uint256):
    """
    @notice Publish the cumulative payout root of epoch `_epoch` and fund it: the contract pulls
            `_cumulative_total - cumulative_total()` tokens from the poster (approve them first).
            The new root replaces the current one for all claims.
    @param _epoch Exactly epoch() + 1: a retried post of an epoch that already landed is refused,
           and the poster learns whether it landed by reading epoch() and roots(_epoch).
    @param _root The StandardMerkleTree root over (address account, uint256 cumulativeAmount).
    @param _cumulative_total The sum of all cumulative amounts in the tree; never below the
           previous epoch's.
    """
    assert msg.sender == self.poster, "only the poster posts epochs"
    assert _epoch == self.epoch + 1, "epoch must be exactly epoch() + 1 (already posted?)"
    assert _root != empty(bytes32), "root is empty"
    assert _cumulative_total <= LOW_128, "cumulative total does not fit in 128 bits"
    totals: uint256 = self._totals
    previous: uint256 = totals >> 128
    assert _cumulative_total >= previous, "cumulative total is below the previous epoch's"
    funding: uint256 = _cumulative_total - previous
    self.epoch = _epoch
    self.root = _root
    self.roots[_epoch] = _root
    self._totals = (_cumulative_total << 128) | (totals & LOW_128)
    if funding > 0:
        assert staticcall token.allowance(msg.sender, self) >= funding, (
            "poster's token allowance does not cover the epoch's increase"
        )
        assert staticcall token.balanceOf(msg.sender) >= funding, (
            "poster's token balance does not cover the epoch's increase"
        )
        assert extcall token.transferFrom(
            msg.sender, self, funding, default_return_value=True
        ), "funding transfer failed"
    log EpochPosted(epoch=_epoch, root=_root, cumulative_total=_cumulative_total, funded=funding)


@external
def set_poster(_poster: address):
    """@notice Hand the right to post epochs to `_poster`; only the current poster may."""
    assert msg.sender == self.poster, "only the poster hands over posting"
    assert _poster != empty(address), "poster is the zero address"
    log PosterChanged(previous=self.poster, poster=_poster)
    self.poster = _poster


# ---- claims -------------------------------------------------------------------------------------

@external
def claim(_account: address, _cumulative: uint256, _proof: DynArray[bytes32, MAX_DEPTH]):
    """
    @notice Pay `_account` everything it has earned and not yet received: `_cumulative` minus
            claimed(_account). Anyone may send it; the tokens always go to `_account`.
    @param _cumulative The account's cumulative amount in the current root.
    @param _proof The sibling hashes from the account's leaf to the current root.
    """
    amount: uint256 = self._settle(_account, _cumulative, _proof)
    self._pay(_account, amount)
    log Claimed(account=_account, amount=amount, cumulative=_cumulative, relayer=msg.sender, fee=0)


@external
def claim_with_fee(
    _account: address,
    _cumulative: uint256,
    _proof: DynArray[bytes32, MAX_DEPTH],
    _fee: uint256,
    _deadline: uint256,
    _signature: Bytes[65],
):
    """
    @notice Like claim, but msg.sender (the relayer) keeps `_fee` of the payout, with the
            account's EIP-712 signature over ClaimFee(account, cumulativeAmount, fee, relayer,
            deadline) naming msg.sender as relayer. The Claimed event's amount is the whole
            payout; the account receives amount - fee.
    @dev A signature cannot take its fee twice: it names `_cumulative`, and once it is used
         claimed(_account) == _cumulative, so a replay has nothing to pay and reverts ("nothing
         to claim"); a later root with a larger cumulative amount needs a new signature. Nor can
         another sender take the fee: the signature names the relayer. Anyone may still send a
         plain claim first; the account is then paid in full and the relayer's call reverts.
    @param _deadline The last block timestamp at which the signature is good.
    @param _signature 65 bytes (r, s, v), s in the lower half, v 27 or 28.
    """
    assert block.timestamp <= _deadline, "signature deadline has passed"
    digest: bytes32 = self._claim_fee_digest(_account, _cumulative, _fee, msg.sender, _deadline)
    assert ecdsa._recover(digest, _signature) == _account, "signature is not the account's"
    amount: uint256 = self._settle(_account, _cumulative, _proof)
    assert _fee <= amount, "fee exceeds the payout"
    self._pay(_account, amount - _fee)
    self._pay(msg.sender, _fee)
    log Claimed(
        account=_account, amount=amount, cumulative=_cumulative, relayer=msg.sender, fee=_fee
    )


# ---- views --------------------------------------------------------------------------------------

@view
@external
def cumulative_total() -> uint256:
    """@notice The sum of all cumulative amounts in the current root: all that was ever funded."""
    return self._totals >> 128


@view
@external
def paid_total() -> uint256:
    """@notice All tokens paid out by claims so far (fees included)."""
    return self._totals & LOW_128


@view
@external
def claimable(
    _account: address, _cumulative: uint256, _proof: DynArray[bytes32, MAX_DEPTH]
) -> uint256:
    """@notice What claim would pay now: 0 when the proof does not match the current root."""
    if merkle._process_proof(self._leaf(_account, _cumulative), _proof) != self.root:
        return 0
    before: uint256 = self.claimed[_account]
    if _cumulative <= before:
        return 0
    return _cumulative - before


@view
@external
def claim_fee_digest(
    _account: address, _cumulative: uint256, _fee: uint256, _relayer: address, _deadline: uint256
) -> bytes32:
    """@notice The EIP-712 digest an account signs to let `_relayer` keep `_fee` of its claim."""
    return self._claim_fee_digest(_account, _cumulative, _fee, _relayer, _deadline)


# ---- internals ----------------------------------------------------------------------------------

@internal
def _settle(_account: address, _cumulative: uint256, _proof: DynArray[bytes32, MAX_DEPTH]) -> uint256:
    """Check the leaf against the current root and book the payout before any transfer (so a
    token that calls back finds the claim already spent). Returns the amount due."""
    assert merkle._process_proof(self._leaf(_account, _cumulative), _proof) == self.root, (
        "proof does not match the current root"
    )
    before: uint256 = self.claimed[_account]
    assert _cumulative > before, "nothing to claim"
    amount: uint256 = unsafe_sub(_cumulative, before)
    self.claimed[_account] = _cumulative
    totals: uint256 = self._totals
    assert (totals & LOW_128) + amount <= totals >> 128, "payout exceeds the funded total"
    self._totals = unsafe_add(totals, amount)  # paid stays below 2**128: no carry into the total
    return amount


@internal
def _pay(_to: address, _amount: uint256):
    if _amount > 0:
        assert extcall token.transfer(_to, _amount, default_return_value=True), "transfer failed"


@pure
@internal
def _leaf(_account: address, _cumulative: uint256) -> bytes32:
    return keccak256(keccak256(abi_encode(_account, _cumulative)))


@view
@internal
def _claim_fee_digest(
    _account: address, _cumulative: uint256, _fee: uint256, _relayer: address, _deadline: uint256
) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(abi_encode(CLAIM_FEE_TYPEHASH, _account, _cumulative, _fee, _relayer, _deadline))
    )
