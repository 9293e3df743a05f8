# pragma version ~=0.4.3
"""
@title Aigora payout distributor
@notice Pays contributors from cumulative Merkle roots, one per epoch, for any number of
        posters on one contract: every node of a network shares this distributor, and each
        operator pays the fees of the answers it served. Any address is a poster: it
        publishes the roots of its own OpenZeppelin StandardMerkleTree over
        (address account, uint256 cumulativeAmount), where cumulativeAmount is all that account
        has earned from that poster in every epoch so far, and funds the increase of its tree's
        total in the same transaction. Every poster has its own epoch counter, roots, claimed
        amounts and totals; no one can post into another's tree, and a claim names the poster
        whose tree pays it. A poster that changes its key simply starts a new tree (epoch 1)
        under the new key; the old tree stays claimable, funded as before, forever. Anyone may
        send any account's claim, so an account needs neither tokens nor ether to be paid; a
        relayer may keep a fee that the account signed for.
@dev Invariant, for every poster P: paid_total(P) <= cumulative_total(P) <= tokens pulled from
     P. Every posted root is fully funded when it lands (its total minus P's previous total is
     pulled from P at once), each account is paid at most its cumulative amount under P's
     current root, and a claim that would push paid_total(P) above cumulative_total(P) reverts,
     so P's tree never pays out more than P funded it with, even if a root's leaves add up to
     more than the total posted with it. Hence the contract's balance is at least the sum over
     posters of cumulative_total - paid_total (exactly that, but for stray transfers in).
     A poster's two totals share one storage slot (128 bits each) so that a claim reads and
     writes a single slot for them.
"""

from ethereum.ercs import IERC20
from snekmate.utils import eip712_domain_separator as eip712

from .lib import ecdsa
from .lib import merkle

initializes: eip712
exports: eip712.eip712Domain

MAX_DEPTH: constant(uint256) = 32  # 2**32 accounts: far beyond any epoch

DOMAIN_NAME: constant(String[50]) = "Aigora Distributor"
DOMAIN_VERSION: constant(String[20]) = "2"
CLAIM_FEE_TYPEHASH: constant(bytes32) = keccak256(
    "ClaimFee(address poster,address account,uint256 cumulativeAmount,uint256 fee,address relayer,uint256 deadline)"
)

LOW_128: constant(uint256) = 2**128 - 1

event EpochPosted:
    poster: indexed(address)
    epoch: indexed(uint256)
    root: bytes32
    cumulative_total: uint256
    funded: uint256

event Claimed:
    poster: indexed(address)
    account: indexed(address)
    amount: uint256
    cumulative: uint256
    relayer: address
    fee: uint256

token: public(immutable(IERC20))
epoch: public(HashMap[address, uint256])
root: public(HashMap[address, bytes32])
roots: public(HashMap[address, HashMap[uint256, bytes32]])
claimed: public(HashMap[address, HashMap[address, uint256]])  # poster => account => amount
_totals: HashMap[address, uint256]  # poster => cumulative_total << 128 | paid_total


@deploy
def __init__(_token: IERC20):
    assert _token.address != empty(address), "token is the zero address"
    eip712.__init__(DOMAIN_NAME, DOMAIN_VERSION)
    token = _token


# ---- posters ------------------------------------------------------------------------------------

@external
def post_epoch(_epoch: uint256, _root: bytes32, _cumulative_total: uint256):
    """
    @notice Publish the cumulative payout root of epoch `_epoch` of msg.sender's own tree and
            fund it: the contract pulls `_cumulative_total - cumulative_total(msg.sender)`
            tokens from msg.sender (approve them first). The new root replaces msg.sender's
            current one for all claims against msg.sender; no other poster's tree changes.
    @param _epoch Exactly epoch(msg.sender) + 1: a retried post of an epoch that already landed
           is refused, and the poster learns whether it landed by reading epoch(poster) and
           roots(poster, _epoch).
    @param _root The StandardMerkleTree root over (address account, uint256 cumulativeAmount).
    @param _cumulative_total The sum of all cumulative amounts in the tree; never below the
           poster's previous epoch's.
    """
    assert _epoch == self.epoch[msg.sender] + 1, (
        "epoch must be exactly epoch() + 1 (already posted?)"
    )
    assert _root != empty(bytes32), "root is empty"
    assert _cumulative_total <= LOW_128, "cumulative total does not fit in 128 bits"
    totals: uint256 = self._totals[msg.sender]
    previous: uint256 = totals >> 128
    assert _cumulative_total >= previous, "cumulative total is below the previous epoch's"
    funding: uint256 = _cumulative_total - previous
    self.epoch[msg.sender] = _epoch
    self.root[msg.sender] = _root
    self.roots[msg.sender][_epoch] = _root
    self._totals[msg.sender] = (_cumulative_total << 128) | (totals & LOW_128)
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
    log EpochPosted(
        poster=msg.sender,
        epoch=_epoch,
        root=_root,
        cumulative_total=_cumulative_total,
        funded=funding,
    )


# ---- claims -------------------------------------------------------------------------------------

@external
def claim(
    _poster: address, _account: address, _cumulative: uint256, _proof: DynArray[bytes32, MAX_DEPTH]
):
    """
    @notice Pay `_account` everything `_poster`'s tree owes it and it has not yet received:
            `_cumulative` minus claimed(_poster, _account), out of `_poster`'s funds. Anyone
            may send it; the tokens always go to `_account`.
    @param _poster The poster whose tree pays: a node's operator address.
    @param _cumulative The account's cumulative amount in `_poster`'s current root.
    @param _proof The sibling hashes from the account's leaf to `_poster`'s current root.
    """
    amount: uint256 = self._settle(_poster, _account, _cumulative, _proof)
    self._pay(_account, amount)
    log Claimed(
        poster=_poster,
        account=_account,
        amount=amount,
        cumulative=_cumulative,
        relayer=msg.sender,
        fee=0,
    )


@external
def claim_with_fee(
    _poster: address,
    _account: address,
    _cumulative: uint256,
    _proof: DynArray[bytes32, MAX_DEPTH],
    _fee: uint256,
    _deadline: uint256,
    _signature: Bytes[65],
):
    """
    @notice Like claim, but msg.sender (the relayer) keeps `_fee` of the payout, with the
            account's EIP-712 signature over ClaimFee(poster, account, cumulativeAmount, fee,
            relayer, deadline) naming `_poster` and msg.sender as relayer. The Claimed event's
            amount is the whole payout; the account receives amount - fee.
    @dev A signature cannot take its fee twice: it names `_poster` and `_cumulative`, and once
         it is used claimed(_poster, _account) == _cumulative, so a replay has nothing to pay
         and reverts ("nothing to claim"); a later root with a larger cumulative amount needs a
         new signature, and a claim against another poster's tree needs a signature naming that
         poster. Nor can another sender take the fee: the signature names the relayer. Anyone
         may still send a plain claim first; the account is then paid in full and the relayer's
         call reverts.
    @param _deadline The last block timestamp at which the signature is good.
    @param _signature 65 bytes (r, s, v), s in the lower half, v 27 or 28.
    """
    assert block.timestamp <= _deadline, "signature deadline has passed"
    digest: bytes32 = self._claim_fee_digest(
        _poster, _account, _cumulative, _fee, msg.sender, _deadline
    )
    assert ecdsa._recover(digest, _signature) == _account, "signature is not the account's"
    amount: uint256 = self._settle(_poster, _account, _cumulative, _proof)
    assert _fee <= amount, "fee exceeds the payout"
    self._pay(_account, amount - _fee)
    self._pay(msg.sender, _fee)
    log Claimed(
        poster=_poster,
        account=_account,
        amount=amount,
        cumulative=_cumulative,
        relayer=msg.sender,
        fee=_fee,
    )


# ---- views --------------------------------------------------------------------------------------

@view
@external
def cumulative_total(_poster: address) -> uint256:
    """@notice The sum of all cumulative amounts in `_poster`'s current root: all it funded."""
    return self._totals[_poster] >> 128


@view
@external
def paid_total(_poster: address) -> uint256:
    """@notice All tokens paid out of `_poster`'s tree by claims so far (fees included)."""
    return self._totals[_poster] & LOW_128


@view
@external
def claimable(
    _poster: address, _account: address, _cumulative: uint256, _proof: DynArray[bytes32, MAX_DEPTH]
) -> uint256:
    """@notice What claim would pay now: 0 when the proof does not match `_poster`'s current
            root."""
    if merkle._process_proof(self._leaf(_account, _cumulative), _proof) != self.root[_poster]:
        return 0
    before: uint256 = self.claimed[_poster][_account]
    if _cumulative <= before:
        return 0
    return _cumulative - before


@view
@external
def claim_fee_digest(
    _poster: address,
    _account: address,
    _cumulative: uint256,
    _fee: uint256,
    _relayer: address,
    _deadline: uint256,
) -> bytes32:
    """@notice The EIP-712 digest an account signs to let `_relayer` keep `_fee` of its claim
            against `_poster`'s tree."""
    return self._claim_fee_digest(_poster, _account, _cumulative, _fee, _relayer, _deadline)


# ---- internals ----------------------------------------------------------------------------------

@internal
def _settle(
    _poster: address, _account: address, _cumulative: uint256, _proof: DynArray[bytes32, MAX_DEPTH]
) -> uint256:
    """Check the leaf against `_poster`'s current root and book the payout against `_poster`'s
    tree before any transfer (so a token that calls back finds the claim already spent).
    Returns the amount due."""
    leaf: bytes32 = self._leaf(_account, _cumulative)
    assert merkle._process_proof(leaf, _proof) == self.root[_poster], (
        "proof does not match the current root"
    )
    before: uint256 = self.claimed[_poster][_account]
    assert _cumulative > before, "nothing to claim"
    amount: uint256 = unsafe_sub(_cumulative, before)
    self.claimed[_poster][_account] = _cumulative
    totals: uint256 = self._totals[_poster]
    assert (totals & LOW_128) + amount <= totals >> 128, "payout exceeds the funded total"
    self._totals[_poster] = unsafe_add(totals, amount)  # paid < 2**128: no carry into the total
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
    _poster: address,
    _account: address,
    _cumulative: uint256,
    _fee: uint256,
    _relayer: address,
    _deadline: uint256,
) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(
            abi_encode(
                CLAIM_FEE_TYPEHASH, _poster, _account, _cumulative, _fee, _relayer, _deadline
            )
        )
    )
