# pragma version ~=0.4.3
"""
@title Fixed-rate swap router (tests and benchmarks only)
@notice The external DEX a PolicyWallet swaps through, reduced to what a swap does to the wallet:
        it pulls the input token from the caller with `transferFrom` (so the caller must have
        approved it) and pays the output token from its own reserves to whatever recipient the
        call names. Two entry points with the calldata layouts the wallet decodes: our own
        `swap_exact_in` and Uniswap V2's `swapExactTokensForTokens`. Prices are fixed per pair
        (`rate` output units per 10**18 input units); tokens in the middle of a path are not
        moved. Never deployed with value.
"""

interface ERC20:
    def transfer(_to: address, _value: uint256) -> bool: nonpayable
    def transferFrom(_from: address, _to: address, _value: uint256) -> bool: nonpayable

RATE_ONE: constant(uint256) = 10**18
MAX_PATH: constant(uint256) = 8

rate: public(HashMap[address, HashMap[address, uint256]])


@external
def set_rate(_token_in: address, _token_out: address, _rate: uint256):
    self.rate[_token_in][_token_out] = _rate


@view
@external
def quote(_token_in: address, _token_out: address, _amount_in: uint256) -> uint256:
    """What `swap_exact_in` pays for `_amount_in` (the fixed rate), as `Pool.quote`."""
    return _amount_in * self.rate[_token_in][_token_out] // RATE_ONE


@external
def swap_exact_in(
    _token_in: address, _token_out: address, _amount_in: uint256, _min_out: uint256, _recipient: address
) -> uint256:
    out: uint256 = _amount_in * self.rate[_token_in][_token_out] // RATE_ONE
    self._settle(_token_in, _token_out, _amount_in, out, _min_out, _recipient)
    return out


@external
def swapExactTokensForTokens(
    amountIn: uint256,
    amountOutMin: uint256,
    path: DynArray[address, MAX_PATH],
    to: address,
    deadline: uint256,
) -> DynArray[uint256, MAX_PATH]:
    assert block.timestamp <= deadline, "expired"
    assert len(path) >= 2, "path too short"
    amounts: DynArray[uint256, MAX_PATH] = [amountIn]
    for i: uint256 in range(MAX_PATH - 1):
        if i + 1 >= len(path):
            break
        amounts.append(amounts[i] * self.rate[path[i]][path[i + 1]] // RATE_ONE)
    self._settle(path[0], path[len(path) - 1], amountIn, amounts[len(amounts) - 1], amountOutMin, to)
    return amounts


@internal
def _settle(
    _token_in: address, _token_out: address, _amount_in: uint256, _out: uint256, _min_out: uint256, _to: address
):
    assert _out >= _min_out, "output below the minimum"
    assert extcall ERC20(_token_in).transferFrom(msg.sender, self, _amount_in)
    assert extcall ERC20(_token_out).transfer(_to, _out)
