"""A positional Merkle tree: the shape a bisection game walks, one level per round.

OpenZeppelin's StandardMerkleTree sorts leaves and hashes pairs sorted, so a node says nothing
about where its leaves sit. A dispute over an execution trace must find the *first* leaf where two
parties differ, walking from the root: that needs every node to cover a contiguous range of leaf
positions, and its two children to be told apart. The rules:

- the leaves (32-byte hashes, computed by the caller) are padded with zero hashes to a power of
  two, at least one;
- an inner node is keccak256(left || right), in that order;
- the root of one leaf is that leaf; a proof is the list of siblings from leaf to root, and the
  leaf's position says at each level whether the sibling sits left (bit set) or right.

A contract recomputes a root with one keccak per level and the position's bits (see
`Disputes.vy`).
"""

from collections.abc import Sequence

from aigora.core.errors import MerkleError
from aigora.core.hashing import keccak

ZERO = bytes(32)


def depth_for(count: int) -> int:
    """Levels above the leaves for `count` leaves (0 for one leaf)."""
    if count < 1:
        raise MerkleError("a positional tree needs at least one leaf")
    return (count - 1).bit_length()


class OrderedTree:
    """All levels of a positional tree, leaves first, so proofs and subtree nodes are lookups."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        if not leaves:
            raise MerkleError("a positional tree needs at least one leaf")
        for leaf in leaves:
            if len(leaf) != 32:
                raise MerkleError(f"a leaf must be a 32-byte hash, got {len(leaf)} bytes")
        self.count = len(leaves)
        self.depth = depth_for(self.count)
        level = list(leaves) + [ZERO] * ((1 << self.depth) - self.count)
        self.levels: list[list[bytes]] = [level]
        while len(level) > 1:
            level = [keccak(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
            self.levels.append(level)

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    def node(self, height: int, index: int) -> bytes:
        """The node `height` levels above the leaves, `index`-th from the left."""
        return self.levels[height][index]

    def proof(self, position: int) -> list[bytes]:
        """Siblings of leaf `position`, from the leaf up."""
        if not 0 <= position < self.count:
            raise MerkleError(f"leaf {position} is outside a tree of {self.count} leaves")
        return [self.levels[h][(position >> h) ^ 1] for h in range(self.depth)]


def process(leaf: bytes, position: int, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from `leaf` at `position`."""
    node = leaf
    for sibling in proof:
        node = keccak(sibling + node) if position & 1 else keccak(node + sibling)
        position >>= 1
    return node


def verify(root: bytes, leaf: bytes, position: int, count: int, proof: Sequence[bytes]) -> bool:
    """True when `proof` puts `leaf` at `position` of a `count`-leaf tree with `root`."""
    if not 0 <= position < count or len(proof) != depth_for(count):
        return False
    return process(leaf, position, proof) == root
