"""The cumulative payout tree: one leaf (account, everything it has earned so far) per account.

An OpenZeppelin StandardMerkleTree over `(address, uint256)`, as `Distributor.vy` verifies it.
Cumulative leaves mean one claim pays everything due, a missed epoch is never lost, and a proof
from an old tree can never pay twice (the contract pays only the increase over what was claimed).
Trees are saved in the npm package's `standard-v1` JSON, so any OpenZeppelin tool can read them.
"""

import json
import os
from collections.abc import Mapping
from pathlib import Path

from aigora.core.merkle import StandardMerkleTree
from aigora.payouts._split import PayoutError

LEAF = ("address", "uint256")


def payout_tree(cumulative: Mapping[str, int]) -> StandardMerkleTree:
    """The tree over every account's cumulative amount (accounts in ascending order)."""
    return StandardMerkleTree.of(sorted(cumulative.items()), LEAF)


def save_tree(tree: StandardMerkleTree, path: Path) -> Path:
    """Write the tree's dump atomically (a crash leaves the old file or the new one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(tree.dump()), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_tree(path: Path, root: str) -> StandardMerkleTree:
    """Read a saved tree and check it is the one whose root was posted."""
    tree = StandardMerkleTree.load(json.loads(path.read_text(encoding="utf-8")))
    if tree.root_hex != root:
        raise PayoutError(f"payout tree {path} has root {tree.root_hex}, expected {root}")
    return tree
