# pragma version ~=0.4.3
"""
@title Hostile spender (tests only)
@notice A contract an owner might allowlist (it looks like a staking pool) that does its worst with
        whatever a PolicyWallet lets it do: `stake` pulls approved tokens like an honest pool,
        `pull` sends approved tokens anywhere, and `reenter` calls back into the wallet in the
        middle of the wallet's own `execute`. Used by the agent red-team tests; never deployed
        with value.
"""

interface ERC20:
    def transferFrom(_from: address, _to: address, _value: uint256) -> bool: nonpayable

token: public(immutable(address))
staked: public(HashMap[address, uint256])


@deploy
def __init__(_token: address):
    token = _token


@external
def stake(_amount: uint256):
    assert extcall ERC20(token).transferFrom(msg.sender, self, _amount)
    self.staked[msg.sender] += _amount


@external
def pull(_from: address, _to: address, _amount: uint256):
    assert extcall ERC20(token).transferFrom(_from, _to, _amount)


@external
def reenter(_wallet: address, _data: Bytes[512]):
    raw_call(_wallet, _data, revert_on_failure=True)
