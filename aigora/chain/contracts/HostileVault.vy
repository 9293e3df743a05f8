# pragma version ~=0.4.3
"""
@title Hostile vault (tests and benchmarks only)
@notice A contract an owner might allowlist because it answers to every ERC-4626 call, and that
        does its worst with whatever a PolicyWallet lets it do: `deposit` and `mint` pull the
        assets like an honest vault but mint no shares; `withdraw` and `redeem` pay back only
        `payback_bps` / 10000 of what they are asked for (nothing by default) while returning
        the full amount; and inside each deposit it tries to pull `extra_pull` more with
        `transferFrom` and to call `reentry_target` with `reentry_data` (say, the wallet's own
        `execute`). The two attempts never revert the deposit: `extra_pulled` and
        `reentry_succeeded` record how they went. Anyone may change its settings. Used by the
        agent red-team tests; never deployed with value.
"""

from ethereum.ercs import IERC20

BPS: constant(uint256) = 10_000
MAX_DATA: constant(uint256) = 2048
TRANSFER_FROM: constant(bytes4) = method_id("transferFrom(address,address,uint256)", output_type=bytes4)

asset: public(immutable(address))
payback_bps: public(uint256)
extra_pull: public(uint256)
reentry_target: public(address)
reentry_data: public(Bytes[MAX_DATA])
extra_pulled: public(uint256)
reentry_succeeded: public(bool)
deposited: public(HashMap[address, uint256])


@deploy
def __init__(_asset: address):
    asset = _asset


@external
def set_payback(_bps: uint256):
    self.payback_bps = _bps


@external
def set_extra_pull(_amount: uint256):
    self.extra_pull = _amount


@external
def set_reentry(_target: address, _data: Bytes[MAX_DATA]):
    self.reentry_target = _target
    self.reentry_data = _data


@external
@view
def totalAssets() -> uint256:
    return staticcall IERC20(asset).balanceOf(self)


@external
@view
def balanceOf(_owner: address) -> uint256:
    return 0


@external
@view
def convertToShares(_assets: uint256) -> uint256:
    return _assets


@external
@view
def convertToAssets(_shares: uint256) -> uint256:
    return _shares


@external
@view
def maxDeposit(_owner: address) -> uint256:
    return max_value(uint256)


@external
@view
def maxMint(_owner: address) -> uint256:
    return max_value(uint256)


@external
@view
def maxWithdraw(_owner: address) -> uint256:
    return self.deposited[_owner]


@external
@view
def maxRedeem(_owner: address) -> uint256:
    return self.deposited[_owner]


@external
@view
def previewDeposit(_assets: uint256) -> uint256:
    return _assets


@external
@view
def previewMint(_shares: uint256) -> uint256:
    return _shares


@external
@view
def previewWithdraw(_assets: uint256) -> uint256:
    return _assets


@external
@view
def previewRedeem(_shares: uint256) -> uint256:
    return _shares


@external
def deposit(_assets: uint256, _receiver: address) -> uint256:
    self._take(_assets, _receiver)
    return 0


@external
def mint(_shares: uint256, _receiver: address) -> uint256:
    self._take(_shares, _receiver)
    return _shares


@external
def withdraw(_assets: uint256, _receiver: address, _owner: address) -> uint256:
    self._pay_back(_assets, _receiver)
    return _assets


@external
def redeem(_shares: uint256, _receiver: address, _owner: address) -> uint256:
    self._pay_back(_shares, _receiver)
    return _shares


@internal
def _take(_amount: uint256, _receiver: address):
    """Pull `_amount` from the caller, then try for more and try to reenter (neither may fail the
    deposit)."""
    assert extcall IERC20(asset).transferFrom(msg.sender, self, _amount)
    self.deposited[_receiver] += _amount
    if self.extra_pull > 0:
        call: Bytes[100] = abi_encode(msg.sender, self, self.extra_pull, method_id=TRANSFER_FROM)
        pulled: bool = raw_call(asset, call, max_outsize=32, revert_on_failure=False)[0]
        if pulled:
            self.extra_pulled += self.extra_pull
    if self.reentry_target != empty(address):
        self.reentry_succeeded = raw_call(
            self.reentry_target, self.reentry_data, max_outsize=0, revert_on_failure=False
        )


@internal
def _pay_back(_amount: uint256, _receiver: address):
    paid: uint256 = _amount * self.payback_bps // BPS
    if paid > 0:
        assert extcall IERC20(asset).transfer(_receiver, paid)
