"""OpenZeppelin's StandardMerkleTree, byte for byte as `@openzeppelin/merkle-tree` 1.0.8 builds it.

Payout, batch and snapshot roots are checked on-chain by contracts written against OpenZeppelin's
`MerkleProof`, and proofs may come from JavaScript tools, so every rule here mirrors the npm
package exactly:

- leaf = keccak256(keccak256(abi.encode(values))): hashing twice keeps a leaf (64+ bytes of
  preimage) from ever being mistaken for an inner node (exactly 64 bytes of two hashes);
- an inner node is keccak256 of its two children sorted as bytes, so a proof is just the list of
  siblings from leaf to root, with no left/right flags;
- leaves are sorted by hash before building (the package's default `sortLeaves: true`), so the
  root depends only on the multiset of values, not their order;
- the tree is one array: the root at 0, the children of node i at 2i+1 and 2i+2, the n leaves at
  the end in reverse sorted order; `dump()` writes that array in the "standard-v1" JSON format.

Values are given per ABI type (`address`, `bool`, `string`, `bytes`, `bytesN`, `uintN`, `intN`,
arrays and tuples of these). Integers may be `int`, a decimal string or a 0x-hex string; bytes may
be `bytes` or a 0x-hex string; addresses are 0x-hex strings (a mixed-case one must carry a valid
EIP-55 checksum) or 20 bytes. Inside a tree values are held normalized (integers as `int`, bytes as
`bytes`, addresses checksummed, sequences as tuples); `dump()` writes integers as decimal strings
and bytes as lowercase 0x-hex, the JSON forms the npm package reads.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, Self

import eth_abi
from eth_abi.grammar import ABIType

from aigora.core._abi import HEX_BYTES, abi_type, normalize, to_json
from aigora.core.errors import EncodingError, MerkleError
from aigora.core.hashing import keccak

FORMAT = "standard-v1"
"""The `format` field of a dump, as `@openzeppelin/merkle-tree` writes it."""

_NODE_LEN = 32


@dataclass(frozen=True)
class _LeafEncoding:
    """A parsed leaf encoding: the strings as given, and the types eth_abi encodes with."""

    names: tuple[str, ...]
    types: tuple[ABIType, ...]

    def normalize(self, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
            raise EncodingError(
                f"a leaf value must be a list with one item per type in {list(self.names)}, "
                f"got {value!r}"
            )
        if len(value) != len(self.types):
            raise EncodingError(
                f"leaf encoding {list(self.names)} needs {len(self.types)} items, "
                f"got {len(value)}: {value!r}"
            )
        return tuple(normalize(t, v) for t, v in zip(self.types, value, strict=True))

    def hash(self, normalized: tuple[Any, ...]) -> bytes:
        if self.words is not None:
            encoded = b"".join(word(v) for word, v in zip(self.words, normalized, strict=True))
        else:
            encoded = eth_abi.encode([t.to_type_str() for t in self.types], normalized)
        return keccak(keccak(encoded))

    @property
    def words(self) -> tuple[Callable[[Any], bytes], ...] | None:
        """Per-type 32-byte encoders when every type is a static word (uintN, intN, bytes32,
        address): abi.encode is then plain concatenation, about ten times faster than eth_abi,
        which matters for trees of a million leaves. None for any other encoding."""
        return _static_words(self.names)


def _uint_word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _int_word(value: int) -> bytes:
    return value.to_bytes(32, "big", signed=True)


def _bytes32_word(value: bytes) -> bytes:
    return value


def _address_word(value: str) -> bytes:
    return bytes(12) + bytes.fromhex(value[2:])


@lru_cache(maxsize=256)
def _static_words(names: tuple[str, ...]) -> tuple[Callable[[Any], bytes], ...] | None:
    words: list[Callable[[Any], bytes]] = []
    for name in names:
        if name.startswith("uint") and "[" not in name:
            words.append(_uint_word)
        elif name.startswith("int") and "[" not in name:
            words.append(_int_word)
        elif name == "bytes32":
            words.append(_bytes32_word)
        elif name == "address":
            words.append(_address_word)
        else:
            return None
    return tuple(words)


@lru_cache(maxsize=256)
def _parse_encoding(names: tuple[str, ...]) -> _LeafEncoding:
    return _LeafEncoding(names=names, types=tuple(abi_type(name) for name in names))


def _leaf_encoding(leaf_encoding: Any) -> _LeafEncoding:
    if isinstance(leaf_encoding, str) or not isinstance(leaf_encoding, Sequence):
        raise EncodingError(f"a leaf encoding must be a list of ABI types, got {leaf_encoding!r}")
    names = tuple(leaf_encoding)
    if not all(isinstance(name, str) for name in names):
        raise EncodingError(f"a leaf encoding must be a list of ABI types, got {leaf_encoding!r}")
    return _parse_encoding(names)


# ---------------------------------------------------------------------------------------------
# Pure functions: what a contract computes


def leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """keccak256(keccak256(abi.encode(value))): the 32-byte leaf a contract recomputes."""
    encoding = _leaf_encoding(leaf_encoding)
    return encoding.hash(encoding.normalize(value))


def hash_pair(a: bytes, b: bytes) -> bytes:
    """keccak256 of the two 32-byte nodes concatenated in ascending byte order (commutative)."""
    a, b = _node(a), _node(b)
    return keccak(a + b if a <= b else b + a)


def process_proof(leaf: bytes | str, proof: Sequence[bytes | str]) -> bytes:
    """The root reached from `leaf` by hashing in each sibling of `proof` in turn.

    Nodes are 32 bytes, given as `bytes` or 0x-hex strings; anything else raises `MerkleError`.
    """
    node = _node(leaf)
    for sibling in proof:
        node = hash_pair(node, _node(sibling))
    return node


def verify_proof(
    root: bytes | str,
    leaf_encoding: Sequence[str],
    value: Sequence[Any],
    proof: Sequence[bytes | str],
) -> bool:
    """True when `proof` shows that `value` is a leaf of the tree with `root`.

    The same check as `StandardMerkleTree.verify` in the npm package and OpenZeppelin's
    `MerkleProof.verify` on-chain.
    """
    return process_proof(leaf_hash(leaf_encoding, value), proof) == _node(root)


def _node(node: Any) -> bytes:
    if isinstance(node, bytes | bytearray) and len(node) == _NODE_LEN:
        return bytes(node)
    if isinstance(node, str) and HEX_BYTES.fullmatch(node) and len(node) == 2 + 2 * _NODE_LEN:
        return bytes.fromhex(node[2:])
    raise MerkleError(f"a Merkle node must be 32 bytes or 0x and 64 hex digits, got {node!r}")


def _make_tree(leaves: Sequence[bytes]) -> list[bytes]:
    """The array layout: leaves at the end in reverse order, node i over nodes 2i+1 and 2i+2."""
    tree = [b""] * (2 * len(leaves) - 1)
    for i, leaf in enumerate(leaves):
        tree[len(tree) - 1 - i] = leaf
    for i in range(len(tree) - 1 - len(leaves), -1, -1):
        tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
    return tree


def _sibling(index: int) -> int:
    return index + 1 if index % 2 else index - 1


# ---------------------------------------------------------------------------------------------
# The tree


class _Entry(NamedTuple):
    value: tuple[Any, ...]
    tree_index: int


class StandardMerkleTree:
    """A built tree over ABI-encoded values, with proofs; immutable once built.

    Build with `of` or `load`. `values` keep the order they were given in (the "value index"),
    independent of where their leaves sit in the tree. Duplicate values are allowed; looking one
    up by value finds the last of them, as the npm package does.
    """

    __slots__ = ("_encoding", "_lookup", "_tree", "_values")

    def __init__(
        self, encoding: _LeafEncoding, tree: Sequence[bytes], values: Sequence[_Entry]
    ) -> None:
        """Internal; use `StandardMerkleTree.of` or `StandardMerkleTree.load`."""
        self._encoding = encoding
        self._tree = tuple(tree)
        self._values = tuple(values)
        self._lookup = {self._tree[entry.tree_index]: i for i, entry in enumerate(self._values)}

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str]) -> Self:
        """Build the tree of `values`, each encoded with the ABI types of `leaf_encoding`.

        Raises `MerkleError` when `values` is empty and `EncodingError` when a value does not fit
        the encoding.
        """
        encoding = _leaf_encoding(leaf_encoding)
        normalized = [encoding.normalize(value) for value in values]
        if not normalized:
            raise MerkleError("a Merkle tree needs at least one value")
        hashes = [encoding.hash(value) for value in normalized]
        order = sorted(range(len(hashes)), key=hashes.__getitem__)  # stable, like Array.sort
        tree = _make_tree([hashes[i] for i in order])
        tree_index = [0] * len(order)
        for leaf_index, value_index in enumerate(order):
            tree_index[value_index] = len(tree) - 1 - leaf_index
        entries = [_Entry(v, i) for v, i in zip(normalized, tree_index, strict=True)]
        return cls(encoding, tree, entries)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """The tree a "standard-v1" dump describes, after checking every hash in it.

        Accepts dumps written by `dump()` or by `@openzeppelin/merkle-tree`. Raises `MerkleError`
        unless the format is known, every value hashes to the leaf it claims, the leaves fill the
        leaf positions exactly once and every inner node is the hash of its children.
        """
        if not isinstance(data, Mapping):
            raise MerkleError("a Merkle tree dump must be a JSON object")
        if data.get("format") != FORMAT:
            raise MerkleError(f"unknown Merkle tree format {data.get('format')!r}; need {FORMAT!r}")
        try:
            encoding = _leaf_encoding(data.get("leafEncoding"))
        except EncodingError as exc:
            raise MerkleError(f"invalid leafEncoding in Merkle tree dump: {exc}") from exc
        raw_tree, raw_values = data.get("tree"), data.get("values")
        if not isinstance(raw_tree, list) or not isinstance(raw_values, list) or not raw_values:
            raise MerkleError("a Merkle tree dump needs a non-empty 'tree' and 'values' list")
        tree = [_node(node) for node in raw_tree]
        if len(tree) != 2 * len(raw_values) - 1:
            raise MerkleError(
                f"a tree of {len(raw_values)} values has {2 * len(raw_values) - 1} nodes, "
                f"the dump has {len(tree)}"
            )
        entries = [cls._load_entry(encoding, tree, i, raw) for i, raw in enumerate(raw_values)]
        if len({entry.tree_index for entry in entries}) != len(entries):
            raise MerkleError("two values in the Merkle tree dump claim the same leaf")
        for i in range(len(raw_values) - 1):
            if tree[i] != hash_pair(tree[2 * i + 1], tree[2 * i + 2]):
                raise MerkleError(f"Merkle tree node {i} is not the hash of its children")
        return cls(encoding, tree, entries)

    @staticmethod
    def _load_entry(encoding: _LeafEncoding, tree: list[bytes], i: int, raw: Any) -> _Entry:
        if not isinstance(raw, Mapping) or "value" not in raw:
            raise MerkleError(f"value {i} of the Merkle tree dump is not {{value, treeIndex}}")
        tree_index = raw.get("treeIndex")
        first_leaf = len(tree) // 2
        if (
            isinstance(tree_index, bool)
            or not isinstance(tree_index, int)
            or not first_leaf <= tree_index < len(tree)
        ):
            raise MerkleError(f"value {i} has treeIndex {tree_index!r}, which is not a leaf")
        try:
            value = encoding.normalize(raw["value"])
        except EncodingError as exc:
            raise MerkleError(f"value {i} of the Merkle tree dump: {exc}") from exc
        if encoding.hash(value) != tree[tree_index]:
            raise MerkleError(f"value {i} does not hash to the leaf at treeIndex {tree_index}")
        return _Entry(value, tree_index)

    @property
    def root(self) -> bytes:
        """The 32-byte root that a contract stores."""
        return self._tree[0]

    @property
    def root_hex(self) -> str:
        """The root as lowercase 0x-hex, as the npm package writes it."""
        return "0x" + self._tree[0].hex()

    @property
    def leaf_encoding(self) -> tuple[str, ...]:
        """The ABI types each value is encoded with."""
        return self._encoding.names

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(value index, normalized value) in the order the values were given."""
        for i, entry in enumerate(self._values):
            yield i, entry.value

    def __repr__(self) -> str:
        return (
            f"StandardMerkleTree(root={self.root_hex}, values={len(self)}, "
            f"leaf_encoding={list(self.leaf_encoding)})"
        )

    def at(self, index: int) -> tuple[Any, ...]:
        """The normalized value at value index `index`."""
        return self._values[self._check_index(index)].value

    def leaf_hash(self, value: Sequence[Any]) -> bytes:
        """The leaf hash of `value` under this tree's leaf encoding (whether or not it is in it)."""
        return self._encoding.hash(self._encoding.normalize(value))

    def get_proof(self, index_or_value: int | Sequence[Any]) -> list[bytes]:
        """The siblings from the leaf of a value up to the root, as a contract takes them.

        `index_or_value` is a value index or the value itself; raises `MerkleError` when the
        index is out of range or the value is not in the tree.
        """
        index = self._tree_index(index_or_value)
        proof = []
        while index > 0:
            proof.append(self._tree[_sibling(index)])
            index = (index - 1) // 2
        return proof

    def verify(self, index_or_value: int | Sequence[Any], proof: Sequence[bytes | str]) -> bool:
        """True when `proof` leads from the leaf of `index_or_value` to this tree's root."""
        if isinstance(index_or_value, int) and not isinstance(index_or_value, bool):
            leaf = self._tree[self._values[self._check_index(index_or_value)].tree_index]
        else:
            leaf = self.leaf_hash(index_or_value)
        return process_proof(leaf, proof) == self.root

    def dump(self) -> dict[str, Any]:
        """The tree as "standard-v1" JSON, the format `StandardMerkleTree.load` reads in Python and
        in the npm package."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self._encoding.names),
            "tree": ["0x" + node.hex() for node in self._tree],
            "values": [
                {"value": to_json(entry.value), "treeIndex": entry.tree_index}
                for entry in self._values
            ],
        }

    def _check_index(self, index: int) -> int:
        if isinstance(index, bool) or not 0 <= index < len(self._values):
            raise MerkleError(f"value index {index!r} is out of range 0..{len(self._values) - 1}")
        return index

    def _tree_index(self, index_or_value: int | Sequence[Any]) -> int:
        if isinstance(index_or_value, int) and not isinstance(index_or_value, bool):
            return self._values[self._check_index(index_or_value)].tree_index
        value_index = self._lookup.get(self.leaf_hash(index_or_value))
        if value_index is None:
            raise MerkleError(f"value {index_or_value!r} is not in the Merkle tree")
        return self._values[value_index].tree_index
