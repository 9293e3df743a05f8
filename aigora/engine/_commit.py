"""Commitments to integer tensors: the canonical encoding, tensor roots, and element proofs.

A model and an execution trace are both an ordered list of named integer tensors, and both are
committed to the same way, so one verifier (and later one contract) checks either:

- **Canonical bytes** of a tensor: its elements in C (row-major) order, each little-endian
  two's complement of its dtype's width (`int8`, `uint8`, `int16`, `int32`, `int64`).
- **Chunks**: the canonical bytes cut into `CHUNK_BYTES` = 1024-byte pieces (the last may be
  shorter; an empty tensor has one empty chunk). A chunk holds whole elements, since every
  element width divides 1024.
- **Tensor root**: the OpenZeppelin StandardMerkleTree root over the chunk leaves
  `abi.encode(uint256 tensorIndex, uint256 chunkIndex, bytes chunk)`.
- **List root** (the model root): the StandardMerkleTree root over one leaf per tensor,
  `abi.encode(uint256 tensorIndex, string name, string dtype, uint256[] shape, bytes32 tensorRoot)`,
  tensors indexed in ascending name order.
- A **trace** (see `_trace`) hashes the same chunk and tensor leaves, ops indexed in execution
  order, but builds positional trees (`aigora.core.ordered_merkle`) at both levels, so that a
  dispute can walk them to the first differing op and chunk.

One element is proven by its chunk and two short Merkle proofs: chunk -> tensor root, and tensor
leaf -> list root. A contract recomputes both leaf hashes with `abi.encode` and `keccak256`.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aigora.core.hashing import keccak
from aigora.core.merkle import StandardMerkleTree, leaf_hash, verify_proof

CHUNK_BYTES = 1024
CHUNK_LEAF = ("uint256", "uint256", "bytes")
TENSOR_LEAF = ("uint256", "string", "string", "uint256[]", "bytes32")
DTYPES = ("int8", "uint8", "int16", "int32", "int64")
"""The only dtypes a committed tensor may have."""


def canonical_bytes(array: np.ndarray) -> bytes:
    """The tensor's elements in C order, little-endian; refuses dtypes outside `DTYPES`."""
    name = array.dtype.name
    if name not in DTYPES:
        raise ValueError(f"cannot commit to a {name} tensor; integer dtypes only: {DTYPES}")
    return np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def chunks(data: bytes) -> list[bytes]:
    """`data` cut into CHUNK_BYTES pieces; one empty chunk for empty data."""
    return [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]


_BYTES_OFFSET = (3 * 32).to_bytes(32, "big")
"""Where `abi.encode(uint256, uint256, bytes)` puts the bytes: after the three head words."""


def chunk_leaf_hash(index: int, chunk_index: int, chunk: bytes) -> bytes:
    """The leaf hash of chunk `chunk_index` of tensor `index`, as both tree kinds use it:
    keccak256(keccak256(abi.encode(index, chunk_index, chunk))). The encoding is written out
    (the two words, the offset of the bytes, their length, the bytes zero-padded to a whole
    word) because a trace hashes one leaf per KiB of every op's output at every answer, and
    eth_abi's general encoder was two thirds of an ask's time (`bench/load.py`); it is the
    same bytes as `leaf_hash(CHUNK_LEAF, ...)`, which `tests/engine/test_trace.py` checks."""
    if not (0 <= index < 2**256 and 0 <= chunk_index < 2**256):
        raise ValueError("a tensor and a chunk index are uint256")
    encoded = b"".join(
        (
            index.to_bytes(32, "big"),
            chunk_index.to_bytes(32, "big"),
            _BYTES_OFFSET,
            len(chunk).to_bytes(32, "big"),
            chunk,
            bytes(-len(chunk) % 32),
        )
    )
    return keccak(keccak(encoded))


def _chunk_tree(index: int, data: bytes) -> StandardMerkleTree:
    return StandardMerkleTree.of([(index, i, c) for i, c in enumerate(chunks(data))], CHUNK_LEAF)


def tensor_root(index: int, array: np.ndarray) -> bytes:
    """The Merkle root over the chunks of tensor number `index`."""
    return _chunk_tree(index, canonical_bytes(array)).root


@dataclass(frozen=True)
class TensorLeaf:
    """What the list root commits to for one tensor."""

    index: int
    name: str
    dtype: str
    shape: tuple[int, ...]
    root: bytes

    def value(self) -> tuple[int, str, str, tuple[int, ...], bytes]:
        return (self.index, self.name, self.dtype, self.shape, self.root)

    def hash(self) -> bytes:
        """The leaf hash a list tree (sorted or positional) holds for this tensor."""
        return leaf_hash(TENSOR_LEAF, self.value())

    @property
    def chunk_count(self) -> int:
        """How many chunks the tensor's canonical bytes cut into (one for an empty tensor)."""
        size = int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize
        return max(1, -(-size // CHUNK_BYTES))


def tensor_leaves(named: Sequence[tuple[str, np.ndarray]]) -> list[TensorLeaf]:
    """One leaf per tensor, indexed by position in `named`."""
    return [
        TensorLeaf(i, name, array.dtype.name, tuple(array.shape), tensor_root(i, array))
        for i, (name, array) in enumerate(named)
    ]


def list_tree(leaves: Sequence[TensorLeaf]) -> StandardMerkleTree:
    """The StandardMerkleTree over tensor leaves (the model or trace tree)."""
    return StandardMerkleTree.of([leaf.value() for leaf in leaves], TENSOR_LEAF)


@dataclass(frozen=True)
class ElementProof:
    """Everything needed to check one element of one committed tensor against a list root."""

    tensor: TensorLeaf
    tensor_proof: tuple[bytes, ...]
    chunk_index: int
    chunk: bytes
    chunk_proof: tuple[bytes, ...]


def prove_element(
    leaves: Sequence[TensorLeaf],
    tree: StandardMerkleTree,
    array: np.ndarray,
    index: int,
    element_index: int,
) -> ElementProof:
    """A proof that element `element_index` (C order) of tensor `index` is what `array` holds."""
    leaf = leaves[index]
    size = int(np.prod(leaf.shape, dtype=np.int64))
    if not 0 <= element_index < size:
        raise IndexError(f"element {element_index} is outside {leaf.name} of {size} elements")
    data = canonical_bytes(array)
    chunk_index = element_index * array.dtype.itemsize // CHUNK_BYTES
    chunk_tree = _chunk_tree(leaf.index, data)
    return ElementProof(
        tensor=leaf,
        tensor_proof=tuple(tree.get_proof(index)),
        chunk_index=chunk_index,
        chunk=chunks(data)[chunk_index],
        chunk_proof=tuple(chunk_tree.get_proof(chunk_index)),
    )


def proven_value(proof: ElementProof, index: int, element_index: int) -> int | None:
    """The value `proof`'s chunk holds for element `element_index` of tensor `index`, or None
    when the proof's leaf is another tensor or its chunk does not hold that element (the
    Merkle paths are checked separately)."""
    leaf = proof.tensor
    if leaf.index != index or leaf.dtype not in DTYPES:
        return None
    itemsize = np.dtype(leaf.dtype).itemsize
    size = int(np.prod(leaf.shape, dtype=np.int64))
    offset = element_index * itemsize - proof.chunk_index * CHUNK_BYTES
    if not 0 <= element_index < size or not 0 <= offset <= len(proof.chunk) - itemsize:
        return None
    raw = proof.chunk[offset : offset + itemsize]
    return int.from_bytes(raw, "little", signed=leaf.dtype != "uint8")


def verify_element(
    root: bytes, index: int, element_index: int, value: int, proof: ElementProof
) -> bool:
    """True when `proof` shows that element `element_index` of tensor `index` equals `value`
    in the model (a sorted list tree) with `root`. Never raises on a malformed proof."""
    if proven_value(proof, index, element_index) != value:
        return False
    leaf = proof.tensor
    chunk_value = (leaf.index, proof.chunk_index, proof.chunk)
    if not verify_proof(leaf.root, CHUNK_LEAF, chunk_value, list(proof.chunk_proof)):
        return False
    return verify_proof(root, TENSOR_LEAF, leaf.value(), list(proof.tensor_proof))
