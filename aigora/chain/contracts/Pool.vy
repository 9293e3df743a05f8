# pragma version ~=0.4.3
"""
@title Constant-product pool of two ERC-20 tokens (dev chains)
@notice The market an agent's PolicyWallet swaps through on a dev chain: Uniswap V2's
        x * y = k with a fee on the input, reduced to one pair and no router. There is no
        maintained constant-product pool for Vyper 0.4 to import (snekmate has none; Curve's
        Vyper pools are stableswap and cryptoswap designs, far more than a dev chain needs), so
        this one is our own.
        `swap_exact_in(token_in, token_out, amount_in, min_out, recipient)` has exactly the
        calldata layout a PolicyWallet decodes (selector 0xc4282b5a, shared with TestRouter.vy):
        the pool pulls `amount_in` from the caller with `transferFrom` (so the caller must have
        approved it), pays the output to `recipient` and reverts with "output below the minimum"
        when the output is under `min_out` (the caller's guard against a price moved in front of
        it).
@dev Guarantees, each property-tested:
     - Rounding favours the pool: a swap's output is rounded down, liquidity taken in is rounded
       up and liquidity paid out rounded down. So `k = reserve0 * reserve1` never decreases in a
       swap, neither reserve per share decreases in adding or removing liquidity, and k per
       share squared (what a share is worth) decreases in no operation.
     - No swap pays out a whole reserve: `out < reserve_out` by the formula, and the first
       deposit locks MINIMUM_LIQUIDITY shares that no one can redeem, so reserves stay positive.
     - Reserves are tracked, not read from balances: tokens sent to the pool without a call
       stay there, owned by no one; no swap prices them in and no share redeems them.
     LP shares are internal (no ERC-20): a dev chain needs no trading of pool shares.
"""

from ethereum.ercs import IERC20

event Swap:
    sender: indexed(address)
    recipient: indexed(address)
    token_in: address
    token_out: address
    amount_in: uint256
    amount_out: uint256

event AddLiquidity:
    provider: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256

event RemoveLiquidity:
    provider: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256

BPS: constant(uint256) = 10_000
MAX_FEE_BPS: constant(uint256) = 1_000
# Shares of the first deposit locked for good (Uniswap V2's MINIMUM_LIQUIDITY): the pool can never
# be emptied, and a first depositor cannot make one share worth so much that later deposits round
# to nothing.
MINIMUM_LIQUIDITY: constant(uint256) = 1_000

token0: public(immutable(address))
token1: public(immutable(address))
fee_bps: public(immutable(uint256))
reserve0: uint256
reserve1: uint256
total_shares: public(uint256)
shares: public(HashMap[address, uint256])


@deploy
def __init__(_token0: address, _token1: address, _fee_bps: uint256):
    assert _token0 != empty(address) and _token1 != empty(address), "token is the zero address"
    assert _token0 != _token1, "the two tokens are the same"
    assert _fee_bps <= MAX_FEE_BPS, "fee above 10%"
    token0 = _token0
    token1 = _token1
    fee_bps = _fee_bps


@external
@view
@nonreentrant
def reserves() -> (uint256, uint256):
    return self.reserve0, self.reserve1


@external
@view
@nonreentrant
def quote(_token_in: address, _token_out: address, _amount_in: uint256) -> uint256:
    """What `swap_exact_in` pays for `_amount_in` now."""
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves_of(_token_in, _token_out)
    return self._amount_out(_amount_in, reserve_in, reserve_out)


@external
@nonreentrant
def swap_exact_in(
    _token_in: address, _token_out: address, _amount_in: uint256, _min_out: uint256, _recipient: address
) -> uint256:
    assert _amount_in > 0, "zero amount"
    assert _recipient != empty(address), "recipient is the zero address"
    assert _recipient != self, "recipient is the pool"
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves_of(_token_in, _token_out)
    out: uint256 = self._amount_out(_amount_in, reserve_in, reserve_out)
    assert out > 0, "output is zero"
    assert out >= _min_out, "output below the minimum"
    if _token_in == token0:
        self.reserve0 = reserve_in + _amount_in
        self.reserve1 = reserve_out - out
    else:
        self.reserve1 = reserve_in + _amount_in
        self.reserve0 = reserve_out - out
    assert extcall IERC20(_token_in).transferFrom(msg.sender, self, _amount_in)
    assert extcall IERC20(_token_out).transfer(_recipient, out)
    log Swap(
        sender=msg.sender,
        recipient=_recipient,
        token_in=_token_in,
        token_out=_token_out,
        amount_in=_amount_in,
        amount_out=out,
    )
    return out


@external
@nonreentrant
def add_liquidity(_amount0: uint256, _amount1: uint256, _min_shares: uint256) -> uint256:
    """Deposit at most `_amount0` and `_amount1`, in the pool's current ratio (all of both on the
    first deposit), for new shares; returns the shares."""
    assert _amount0 > 0 and _amount1 > 0, "zero amount"
    total: uint256 = self.total_shares
    minted: uint256 = 0
    used0: uint256 = _amount0
    used1: uint256 = _amount1
    if total == 0:
        root: uint256 = isqrt(_amount0 * _amount1)
        assert root > MINIMUM_LIQUIDITY, "first deposit too small"
        minted = root - MINIMUM_LIQUIDITY
        total = MINIMUM_LIQUIDITY  # held by no one
    else:
        r0: uint256 = self.reserve0
        r1: uint256 = self.reserve1
        minted = min(_amount0 * total // r0, _amount1 * total // r1)
        assert minted > 0, "deposit too small for a share"
        used0 = self._ceil_div(minted * r0, total)
        used1 = self._ceil_div(minted * r1, total)
    assert minted >= _min_shares, "shares below the minimum"
    self.total_shares = total + minted
    self.shares[msg.sender] += minted
    self.reserve0 += used0
    self.reserve1 += used1
    assert extcall IERC20(token0).transferFrom(msg.sender, self, used0)
    assert extcall IERC20(token1).transferFrom(msg.sender, self, used1)
    log AddLiquidity(provider=msg.sender, amount0=used0, amount1=used1, shares=minted)
    return minted


@external
@nonreentrant
def remove_liquidity(_shares: uint256, _min0: uint256, _min1: uint256) -> (uint256, uint256):
    """Burn `_shares` of the caller's for their part of both reserves (rounded down)."""
    assert _shares > 0, "zero amount"
    assert self.shares[msg.sender] >= _shares, "not enough shares"
    total: uint256 = self.total_shares
    out0: uint256 = _shares * self.reserve0 // total
    out1: uint256 = _shares * self.reserve1 // total
    assert out0 >= _min0 and out1 >= _min1, "output below the minimum"
    self.shares[msg.sender] -= _shares
    self.total_shares = total - _shares
    self.reserve0 -= out0
    self.reserve1 -= out1
    assert extcall IERC20(token0).transfer(msg.sender, out0)
    assert extcall IERC20(token1).transfer(msg.sender, out1)
    log RemoveLiquidity(provider=msg.sender, amount0=out0, amount1=out1, shares=_shares)
    return out0, out1


@internal
@view
def _reserves_of(_token_in: address, _token_out: address) -> (uint256, uint256):
    """The reserves of `_token_in` and `_token_out`, which must be this pool's two tokens."""
    if _token_in == token0 and _token_out == token1:
        return self.reserve0, self.reserve1
    if _token_in == token1 and _token_out == token0:
        return self.reserve1, self.reserve0
    raise "not this pool's tokens"


@internal
@view
def _amount_out(_amount_in: uint256, _reserve_in: uint256, _reserve_out: uint256) -> uint256:
    """Uniswap V2's getAmountOut: the fee stays in the pool, the output is rounded down, and it
    is always less than `_reserve_out` (zero while the pool is empty)."""
    if _reserve_in == 0 or _reserve_out == 0:
        return 0
    in_after_fee: uint256 = _amount_in * (BPS - fee_bps)
    return _reserve_out * in_after_fee // (_reserve_in * BPS + in_after_fee)


@internal
@pure
def _ceil_div(_a: uint256, _b: uint256) -> uint256:
    return (_a + _b - 1) // _b
