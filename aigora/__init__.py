"""Aigora: user-owned AI whose answers anyone can check."""

import sys

import py_ecc  # noqa: F401  (first, so the limit below is the one that stands)

__version__ = "0.1.0"

RECURSION_LIMIT = 1024 * 12
"""What py-evm asks for (1,024 nested EVM calls). py_ecc raises the limit to 100,000 when it is
imported (through eth_account, so by every part of Aigora), which is past what the C stack
holds: JSON nested that deep (a 200 KB request body, a peer's batch page) would then crash the
whole process with a segmentation fault instead of raising RecursionError."""
sys.setrecursionlimit(RECURSION_LIMIT)
