# pragma version ~=0.4.3
"""
@title Aigora ask channels
@notice Unidirectional payment channels from askers to operators, one contract per network for
        every operator. A channel is (asker, operator): anyone deposits tokens into it (so
        someone with no crypto can be funded), the asker signs one EIP-712 voucher per paid
        ask, Voucher(asker, operator, cumulative), where cumulative is everything the asker
        has agreed to pay that operator over the channel's whole life, and anyone may redeem
        the newest voucher for the operator, in batches. The operator is paid
        cumulative - redeemed out of the channel's balance, so a voucher never pays twice and
        the operator is never paid more than the largest cumulative the asker signed.
        The asker takes back its unspent balance in two steps: request_withdrawal (itself, or
        relayed with its signature) starts withdraw_delay, then anyone may send withdraw, which
        pays the whole balance to the asker alone. During the delay the operator may still
        redeem vouchers already signed; that is the front-running rule: an operator must redeem
        within the delay (an Aigora node redeems at once when it sees a request, and accepts no
        voucher while one is pending), or what it did not redeem in time leaves with the asker.
@dev Invariants, for every channel: redeemed only grows, and only by what was paid to the
     operator; redeemed <= the largest cumulative the asker signed for this operator; balance =
     deposits - redeemed - withdrawn. Hence the token balance of this contract is the sum of all
     channel balances (but for stray transfers in).
     A voucher not covered by the balance pays what is there (a partial redemption: redeemed
     rises by that much, and the same voucher redeems the rest after a new deposit); redeem
     reverts when it would pay nothing, redeem_many skips such a voucher (and one whose
     signature is not the asker's) with a VoucherSkipped event, so one bad voucher cannot block
     a batch. Vouchers stay valid after a withdrawal: cumulative counts over the channel's
     whole life, so one the operator did not redeem in time is redeemable from a later deposit.
"""

from ethereum.ercs import IERC20
from snekmate.utils import eip712_domain_separator as eip712

from .lib import ecdsa

initializes: eip712
exports: eip712.eip712Domain

MAX_BATCH: constant(uint256) = 128

DOMAIN_NAME: constant(String[50]) = "Aigora Channels"
DOMAIN_VERSION: constant(String[20]) = "1"
VOUCHER_TYPEHASH: constant(bytes32) = keccak256(
    "Voucher(address asker,address operator,uint256 cumulative)"
)
WITHDRAWAL_TYPEHASH: constant(bytes32) = keccak256(
    "Withdrawal(address asker,address operator,uint256 nonce,uint256 deadline)"
)


struct Channel:
    balance: uint256  # deposited and neither redeemed nor withdrawn
    redeemed: uint256  # paid to the operator so far, over the channel's whole life
    unlocks_at: uint256  # when a requested withdrawal may be sent; 0: none requested
    nonce: uint256  # relayed withdrawal requests used (each signature names the next one)


struct Voucher:
    asker: address
    operator: address
    cumulative: uint256
    signature: Bytes[65]


event Deposited:
    asker: indexed(address)
    operator: indexed(address)
    funder: address
    amount: uint256
    balance: uint256

event Redeemed:
    asker: indexed(address)
    operator: indexed(address)
    amount: uint256
    redeemed: uint256
    cumulative: uint256

event VoucherSkipped:
    asker: indexed(address)
    operator: indexed(address)
    cumulative: uint256
    reason: String[40]

event WithdrawalRequested:
    asker: indexed(address)
    operator: indexed(address)
    unlocks_at: uint256

event Withdrawn:
    asker: indexed(address)
    operator: indexed(address)
    amount: uint256


token: public(immutable(IERC20))
withdraw_delay: public(immutable(uint256))
channel: public(HashMap[address, HashMap[address, Channel]])  # asker => operator => channel


@deploy
def __init__(_token: IERC20, _withdraw_delay: uint256):
    assert _token.address != empty(address), "token is the zero address"
    assert _withdraw_delay > 0, "the withdrawal delay must be positive"
    eip712.__init__(DOMAIN_NAME, DOMAIN_VERSION)
    token = _token
    withdraw_delay = _withdraw_delay


# ---- deposits -----------------------------------------------------------------------------------

@external
def deposit(_asker: address, _operator: address, _amount: uint256):
    """
    @notice Add `_amount` tokens, pulled from msg.sender (approve them first), to the channel of
            `_asker` with `_operator`. Anyone may fund anyone's channel: the tokens can only
            ever go to the operator (against the asker's vouchers) or back to the asker.
    """
    assert _asker != empty(address), "asker is the zero address"
    assert _operator != empty(address), "operator is the zero address"
    assert _amount > 0, "nothing to deposit"
    balance: uint256 = self.channel[_asker][_operator].balance + _amount
    self.channel[_asker][_operator].balance = balance
    assert extcall token.transferFrom(msg.sender, self, _amount, default_return_value=True), (
        "deposit transfer failed"
    )
    log Deposited(asker=_asker, operator=_operator, funder=msg.sender, amount=_amount, balance=balance)


# ---- redemption ---------------------------------------------------------------------------------

@external
def redeem(_asker: address, _operator: address, _cumulative: uint256, _signature: Bytes[65]) -> uint256:
    """
    @notice Pay `_operator` what the asker's voucher for `_cumulative` owes it and it has not
            been paid yet (cumulative - redeemed, or the channel's whole balance if that is
            less). Anyone may send it; the tokens go to `_operator` only. Reverts when the
            signature is not the asker's or nothing would be paid.
    @return The amount paid.
    """
    signer: address = ecdsa._recover(self._voucher_digest(_asker, _operator, _cumulative), _signature)
    assert signer == _asker, "signature is not the asker's"
    paid: uint256 = self._settle(_asker, _operator, _cumulative)
    assert paid > 0, "nothing to redeem"
    return paid


@external
def redeem_many(_vouchers: DynArray[Voucher, MAX_BATCH]) -> uint256:
    """
    @notice `redeem` for each voucher in turn, skipping (with a VoucherSkipped event) each one
            whose signature is not its asker's or that would pay nothing, so one bad voucher
            never blocks the others. Anyone may send it.
    @return The total paid.
    """
    total: uint256 = 0
    for voucher: Voucher in _vouchers:
        digest: bytes32 = self._voucher_digest(voucher.asker, voucher.operator, voucher.cumulative)
        if ecdsa._try_recover(digest, voucher.signature) != voucher.asker or voucher.asker == empty(address):
            log VoucherSkipped(
                asker=voucher.asker,
                operator=voucher.operator,
                cumulative=voucher.cumulative,
                reason="signature is not the asker's",
            )
            continue
        paid: uint256 = self._settle(voucher.asker, voucher.operator, voucher.cumulative)
        if paid == 0:
            log VoucherSkipped(
                asker=voucher.asker,
                operator=voucher.operator,
                cumulative=voucher.cumulative,
                reason="nothing to redeem",
            )
            continue
        total += paid
    return total


# ---- withdrawal ---------------------------------------------------------------------------------

@external
def request_withdrawal(_operator: address):
    """
    @notice Start the withdrawal of msg.sender's unspent balance in its channel with
            `_operator`: `withdraw` pays it out once `withdraw_delay` has passed. Until then the
            operator may still redeem the vouchers msg.sender signed.
    """
    self._request(msg.sender, _operator)


@external
def request_withdrawal_for(
    _asker: address, _operator: address, _deadline: uint256, _signature: Bytes[65]
):
    """
    @notice `request_withdrawal` on behalf of `_asker` (an asker with no ether: anyone relays
            it), with the asker's EIP-712 signature over Withdrawal(asker, operator, nonce,
            deadline), nonce being the channel's current `nonce` (so a signature is good once).
    @param _deadline The last block timestamp at which the signature is good.
    """
    assert block.timestamp <= _deadline, "signature deadline has passed"
    nonce: uint256 = self.channel[_asker][_operator].nonce
    digest: bytes32 = self._withdrawal_digest(_asker, _operator, nonce, _deadline)
    assert ecdsa._recover(digest, _signature) == _asker, "signature is not the asker's"
    self.channel[_asker][_operator].nonce = nonce + 1
    self._request(_asker, _operator)


@external
def withdraw(_asker: address, _operator: address) -> uint256:
    """
    @notice Pay `_asker` the whole unspent balance of its channel with `_operator`, once its
            requested withdrawal has unlocked, and end the request (the channel is usable
            again). Anyone may send it; the tokens go to `_asker` only.
    @return The amount paid.
    """
    unlocks_at: uint256 = self.channel[_asker][_operator].unlocks_at
    assert unlocks_at != 0, "no withdrawal requested"
    assert block.timestamp >= unlocks_at, "the withdrawal delay has not passed"
    amount: uint256 = self.channel[_asker][_operator].balance
    self.channel[_asker][_operator].balance = 0
    self.channel[_asker][_operator].unlocks_at = 0
    if amount > 0:
        assert extcall token.transfer(_asker, amount, default_return_value=True), "transfer failed"
    log Withdrawn(asker=_asker, operator=_operator, amount=amount)
    return amount


# ---- views --------------------------------------------------------------------------------------

@view
@external
def voucher_digest(_asker: address, _operator: address, _cumulative: uint256) -> bytes32:
    """@notice The EIP-712 digest an asker signs to owe `_operator` `_cumulative` in all."""
    return self._voucher_digest(_asker, _operator, _cumulative)


@view
@external
def withdrawal_digest(
    _asker: address, _operator: address, _nonce: uint256, _deadline: uint256
) -> bytes32:
    """@notice The EIP-712 digest an asker signs to have its withdrawal requested for it."""
    return self._withdrawal_digest(_asker, _operator, _nonce, _deadline)


# ---- internals ----------------------------------------------------------------------------------

@internal
def _settle(_asker: address, _operator: address, _cumulative: uint256) -> uint256:
    """Book and pay what a voucher the asker signed for `_cumulative` owes the operator: the
    rise of redeemed towards `_cumulative`, at most the balance. Booked before the transfer (a
    token that calls back finds it spent). Returns the amount paid (0: nothing owed or left)."""
    redeemed: uint256 = self.channel[_asker][_operator].redeemed
    if _cumulative <= redeemed:
        return 0
    balance: uint256 = self.channel[_asker][_operator].balance
    amount: uint256 = min(_cumulative - redeemed, balance)
    if amount == 0:
        return 0
    self.channel[_asker][_operator].redeemed = redeemed + amount
    self.channel[_asker][_operator].balance = balance - amount
    assert extcall token.transfer(_operator, amount, default_return_value=True), "transfer failed"
    log Redeemed(
        asker=_asker,
        operator=_operator,
        amount=amount,
        redeemed=redeemed + amount,
        cumulative=_cumulative,
    )
    return amount


@internal
def _request(_asker: address, _operator: address):
    assert self.channel[_asker][_operator].unlocks_at == 0, "a withdrawal is already requested"
    unlocks_at: uint256 = block.timestamp + withdraw_delay
    self.channel[_asker][_operator].unlocks_at = unlocks_at
    log WithdrawalRequested(asker=_asker, operator=_operator, unlocks_at=unlocks_at)


@view
@internal
def _voucher_digest(_asker: address, _operator: address, _cumulative: uint256) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(abi_encode(VOUCHER_TYPEHASH, _asker, _operator, _cumulative))
    )


@view
@internal
def _withdrawal_digest(
    _asker: address, _operator: address, _nonce: uint256, _deadline: uint256
) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(abi_encode(WITHDRAWAL_TYPEHASH, _asker, _operator, _nonce, _deadline))
    )
