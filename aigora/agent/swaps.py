"""The swap calls a `PolicyWallet` reads: which token goes in, which comes out, who receives it.

These mirror the contract's `_swap_ends` rule for rule, so the off-chain check refuses exactly the
calls the contract would: a swap must be canonically ABI-encoded (exact length, clean address
words, the standard offset for a path) or its recipient counts as unreadable. Selectors are tied to
`PolicyWallet.vy` by `tests/chain/test_constants.py`.
"""

from dataclasses import dataclass

from eth_utils import to_checksum_address

# swap_exact_in(address token_in, address token_out, uint256 amount_in, uint256 min_out,
#               address recipient): the router call `build_calls` writes for a Swap intent
SWAP_EXACT_IN = bytes.fromhex("c4282b5a")
# Uniswap V2 swapExactTokensForTokens(uint256 amountIn, uint256 amountOutMin, address[] path,
#                                     address to, uint256 deadline)
SWAP_EXACT_TOKENS_FOR_TOKENS = bytes.fromhex("38ed1739")
DECODED_SWAPS = (SWAP_EXACT_IN, SWAP_EXACT_TOKENS_FOR_TOKENS)
# Common routers' swap functions naming a recipient the wallet does not read: never allowed.
UNDECODED_SWAPS = tuple(
    bytes.fromhex(h)
    for h in (
        "8803dbee",  # V2 swapTokensForExactTokens
        "18cbafe5",  # V2 swapExactTokensForETH
        "4a25d94a",  # V2 swapTokensForExactETH
        "5c11d795",  # V2 swapExactTokensForTokensSupportingFeeOnTransferTokens
        "791ac947",  # V2 swapExactTokensForETHSupportingFeeOnTransferTokens
        "414bf389",  # V3 exactInputSingle
        "c04b8d59",  # V3 exactInput
        "db3e2198",  # V3 exactOutputSingle
        "f28c0498",  # V3 exactOutput
        "04e45aaf",  # SwapRouter02 exactInputSingle
        "b858183f",  # SwapRouter02 exactInput
        "5023b4df",  # SwapRouter02 exactOutputSingle
        "09b81346",  # SwapRouter02 exactOutput
        "3593564c",  # Universal Router execute(bytes,bytes[],uint256)
        "24856bc3",  # Universal Router execute(bytes,bytes[])
    )
)
MAX_TOKENS_OUT = 16
_MAX_DATA = 1024
_V2_PATH_AT = 196  # selector, five head words, the path's length; then its elements
_MAX_PATH = (_MAX_DATA - _V2_PATH_AT) // 32


@dataclass(frozen=True)
class SwapEnds:
    """What a swap call spends, buys, and whom it pays (checksummed addresses)."""

    token_in: str
    token_out: str
    recipient: str


def is_decoded_swap(selector: bytes) -> bool:
    return selector in DECODED_SWAPS


def swap_ends(data: bytes) -> SwapEnds | None:
    """The ends of a swap call in canonical encoding; None when its recipient cannot be read."""
    selector = data[:4]
    if selector == SWAP_EXACT_IN:
        if len(data) != 164:
            return None
        ends = (address_word(data, 4), address_word(data, 36), address_word(data, 132))
    elif selector == SWAP_EXACT_TOKENS_FOR_TOKENS:
        if len(data) < _V2_PATH_AT + 64 or _word(data, 68) != 160:
            return None
        n = _word(data, _V2_PATH_AT - 32)
        if not 2 <= n <= _MAX_PATH or len(data) != _V2_PATH_AT + 32 * n:
            return None
        ends = (
            address_word(data, _V2_PATH_AT),
            address_word(data, _V2_PATH_AT + 32 * (n - 1)),
            address_word(data, 100),
        )
    else:
        return None
    if "" in ends:
        return None
    return SwapEnds(*ends)


def _word(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 32], "big")


def address_word(data: bytes, at: int) -> str:
    """The ABI word at `at` as an address; "" when high bits are set (unreadable, not masked)."""
    word = _word(data, at)
    if word >= 2**160:
        return ""
    return to_checksum_address(word.to_bytes(20, "big"))
