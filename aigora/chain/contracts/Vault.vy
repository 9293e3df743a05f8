# pragma version ~=0.4.3
"""
@title ERC-4626 vault over one token (dev chains)
@notice Where an agent stakes on a dev chain: snekmate's `erc4626` module as it ships (deposit,
        mint, withdraw, redeem, their previews and limits, and ERC-20 shares with EIP-2612
        permits), with nothing added. Shares are minted to the `receiver` a deposit names and
        burned from the `owner` a withdrawal names (a caller other than the owner spends the
        owner's share allowance).
@dev Yield on a dev chain is a donation: `totalAssets` is the vault's balance of the asset, so
     anyone who transfers the asset to the vault (no call needed) raises what every share
     redeems for. There is no strategy and no fee; no one can take assets out but share
     holders. The decimals offset is 0 (one share per asset unit at the start; snekmate's
     virtual share and asset make a first-depositor inflation attack cost the attacker more than
     it takes).
"""

from ethereum.ercs import IERC20
from snekmate.extensions import erc4626

initializes: erc4626

exports: erc4626.__interface__

DECIMALS_OFFSET: constant(uint8) = 0
EIP712_VERSION: constant(String[20]) = "1"


@deploy
def __init__(_asset: IERC20, _name: String[25], _symbol: String[5]):
    erc4626.__init__(_name, _symbol, _asset, DECIMALS_OFFSET, _name, EIP712_VERSION)
