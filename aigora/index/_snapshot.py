"""Corpus snapshots: the ordered passages and int8 embeddings an operator answers from, under one
root.

A snapshot is a pure value. Its items are passages (`PassageRef`: document CID, passage index,
character span; see `_passages`), sorted by their 32-byte passage key, so the root depends only
on the set of (passage, embedding) pairs and the model, and "position ascending" is the
ranking's tie-break "passage key ascending".

Each item is one OpenZeppelin StandardMerkleTree leaf `(position, passageKey, keccak256(embedding))`
with the embedding as its int8 bytes (two's complement, C order). A contract can therefore check
one passage's embedding with a proof and recompute its score itself (the dispute issue).

Copies are not items. A passage that is a near-duplicate of an earlier publication's passage
(`copies`: the copy, the position of the item it copies, its embedding) is left out of the
ranking, so no answer lists it and no usage share reaches it; the copies are committed to by one
more leaf, `(.., COPIES_TAG, keccak256(abi.encode(count, keccak256(copy key || original's key
|| keccak256(embedding) ...))))`, so anyone can check each claim (the same normalised text, or a
dot product at or above the threshold) and that nothing was hidden as a "copy" that is not one.
Its preimage is 64 bytes whatever the count: were it the records themselves, four copies would
make it 384 bytes, an embedding's size, and the leaf would prove as a passage (of key
COPIES_TAG) that no result can rebut.

One more leaf, `(n, GENERATION_TAG, generation)` after the n items, numbers the snapshot in its
node's history: each change makes the next generation, so a node whose content shrinks back to an
older set still gets a new root, registered after the one it replaces (a stale-snapshot claim
compares registration times). No passage can be proven against that leaf: its third field is not
the keccak256 of any embedding anyone can find.

In a network one last leaf, `(n + 1, BASIS_TAG, keccak256(abi.encode(policyHash,
throughBatch, reputationDigest, skippedHash)))`, commits the snapshot to what it was built
under (`SnapshotBasis`): the policy in force, the last registry batch its universe reaches,
the reputation run its scores came from (zero when the policy uses no scores) and the batches
it had to skip. Anyone holding the same batches re-derives the admitted set from these and
compares (`aigora verify`). Like the generation leaf, no passage proves against it.
"""

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path

import numpy as np

from aigora.core.cid import cid_from_digest, digest_of
from aigora.core.errors import AigoraError
from aigora.core.hashing import keccak
from aigora.core.merkle import StandardMerkleTree
from aigora.index._passages import PassageError, PassageRef
from aigora.index._search import ExactIndex

SNAPSHOT_LEAF = ("uint256", "bytes32", "bytes32")
"""Leaf encoding: position, the passage key, keccak256 of the int8 embedding bytes."""

FORMAT_VERSION = 4
READS_VERSIONS = (4,)  # 4: items are passages (older files belong to older model roots)
GENERATION_TAG = keccak(b"aigora.snapshot.generation")
BASIS_TAG = keccak(b"aigora.snapshot.basis")
COPIES_TAG = keccak(b"aigora.snapshot.copies")
ZERO_DIGEST = bytes(32)


class SnapshotError(AigoraError):
    """A snapshot is malformed, empty, or does not match the root it was fetched by."""


def embedding_hash(vector: np.ndarray) -> bytes:
    """keccak256 of one int8 embedding's bytes: what a leaf (and a contract) commits to."""
    return keccak(np.ascontiguousarray(vector, dtype=np.int8).tobytes())


@dataclass(frozen=True)
class SnapshotBasis:
    """What a network snapshot was built under: `policy_hash` (the policy in force),
    `through_batch` (its universe is content anchored in registry batches up to this id),
    `skipped` (batch ids up to it that nobody could serve this node, left out),
    `reputation` (the digest of the reputation run its scores came from; zero when the policy
    uses no scores)."""

    policy_hash: bytes
    through_batch: int
    reputation: bytes = ZERO_DIGEST
    skipped: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.policy_hash) != 32 or len(self.reputation) != 32:
            raise SnapshotError("a snapshot basis's policy hash and reputation are 32 bytes")
        if not 0 <= self.through_batch < 2**64:
            raise SnapshotError(f"through batch {self.through_batch} is out of range")
        if list(self.skipped) != sorted(set(self.skipped)) or any(
            not 0 < b <= self.through_batch for b in self.skipped
        ):
            raise SnapshotError("skipped batches must be distinct, sorted, and up to through_batch")

    def commitment(self) -> bytes:
        skipped = keccak(b"".join(b.to_bytes(32, "big") for b in self.skipped))
        return keccak(
            self.policy_hash + self.through_batch.to_bytes(32, "big") + self.reputation + skipped
        )

    def to_json(self) -> dict:
        return {
            "policy_hash": "0x" + self.policy_hash.hex(),
            "through_batch": self.through_batch,
            "reputation": "0x" + self.reputation.hex(),
            "skipped": list(self.skipped),
        }


@dataclass(frozen=True)
class Copy:
    """A passage left out as a copy: `passage`, the snapshot position of the item it copies
    (`of`), and its own int8 `embedding` (so the claim can be checked)."""

    passage: PassageRef
    of: int
    embedding: np.ndarray = field(repr=False, compare=False)


def _as_passage(item: PassageRef | str) -> PassageRef:
    return item if isinstance(item, PassageRef) else PassageRef.whole(item)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """`model_root` (32 bytes), `passages` sorted by key, `embeddings` int8 (n, d) in that order,
    the snapshot's `generation` in its node's history, in a network its `basis`, and the
    `copies` left out (sorted by key)."""

    model_root: bytes
    passages: tuple[PassageRef, ...]
    embeddings: np.ndarray = field(repr=False)
    generation: int = 0
    basis: SnapshotBasis | None = None
    copies: tuple[Copy, ...] = ()

    def __post_init__(self) -> None:
        if len(self.model_root) != 32:
            raise SnapshotError("a snapshot's model root must be 32 bytes")
        if not self.passages:
            raise SnapshotError("a snapshot needs at least one item")
        embeddings = self.embeddings
        if embeddings.dtype != np.int8 or embeddings.ndim != 2:
            raise SnapshotError(
                f"embeddings must be int8 (n, d), got {embeddings.dtype} {embeddings.shape}"
            )
        if not 0 <= self.generation < 2**256:
            raise SnapshotError(f"generation {self.generation} is not a uint256")
        if embeddings.shape[0] != len(self.passages):
            raise SnapshotError(
                f"{len(self.passages)} passages but {embeddings.shape[0]} embeddings"
            )
        keys = [p.key for p in self.passages]
        if any(a >= b for a, b in pairwise(keys)):
            raise SnapshotError("snapshot passages must be unique and sorted by key")
        copy_keys = [c.passage.key for c in self.copies]
        if any(a >= b for a, b in pairwise(copy_keys)) or set(copy_keys) & set(keys):
            raise SnapshotError("copies must be unique, sorted by key, and not items")
        for c in self.copies:
            if not 0 <= c.of < len(self.passages) or c.embedding.shape != (embeddings.shape[1],):
                raise SnapshotError(f"copy {c.passage.id} names no item, or its embedding is bad")
        frozen = np.ascontiguousarray(embeddings)
        frozen.flags.writeable = False
        object.__setattr__(self, "embeddings", frozen)

    @classmethod
    def of(
        cls,
        model_root: bytes,
        items: Mapping[PassageRef | str, np.ndarray],
        generation: int = 0,
        basis: SnapshotBasis | None = None,
        copies: Mapping[PassageRef, tuple[PassageRef, np.ndarray]] | None = None,
    ) -> "Snapshot":
        """The snapshot of `items` (passage -> int8 embedding; a bare CID is a document taken
        as one passage) in canonical order, leaving out `copies` (copy -> (the item it copies,
        its embedding))."""
        if not items:
            raise SnapshotError("nothing to snapshot: no admitted content has an embedding")
        by_passage = {_as_passage(p): np.asarray(e) for p, e in items.items()}
        passages = sorted(by_passage, key=lambda p: p.key)
        embeddings = np.stack([by_passage[p] for p in passages])
        position = {p: i for i, p in enumerate(passages)}
        left_out = []
        for copy, (original, embedding) in sorted((copies or {}).items(), key=lambda kv: kv[0].key):
            if original not in position:
                raise SnapshotError(f"copy {copy.id} copies {original.id}, which is not an item")
            left_out.append(Copy(copy, position[original], np.asarray(embedding, dtype=np.int8)))
        return cls(model_root, tuple(passages), embeddings, generation, basis, tuple(left_out))

    def items(self) -> dict[PassageRef, np.ndarray]:
        return {p: self.embeddings[i] for i, p in enumerate(self.passages)}

    def copy_map(self) -> dict[PassageRef, tuple[PassageRef, np.ndarray]]:
        return {c.passage: (self.passages[c.of], c.embedding) for c in self.copies}

    def changed(
        self,
        added: Mapping[PassageRef | str, np.ndarray],
        removed: Iterable[str],
        basis: SnapshotBasis | None = None,
        copies: Mapping[PassageRef, tuple[PassageRef, np.ndarray]] | None = None,
    ) -> "Snapshot":
        """The next generation, with `added` items, without the passages of the `removed`
        documents (CIDs), under `basis`, with `copies` (default: the kept ones); the embeddings
        of the items kept are reused, never recomputed. No change, no new generation."""
        drop = set(removed) & self.documents
        copies = (
            {c: v for c, v in self.copy_map().items() if c.cid not in drop and v[0].cid not in drop}
            if copies is None
            else dict(copies)
        )
        same_copies = {c: o for c, (o, _) in copies.items()} == {
            c.passage: self.passages[c.of] for c in self.copies
        }
        if not added and not drop and basis == self.basis and same_copies:
            return self  # same items: keep the tree (and index) already built
        items = {p: e for p, e in self.items().items() if p.cid not in drop}
        items.update({_as_passage(p): e for p, e in added.items()})
        return Snapshot.of(self.model_root, items, self.generation + 1, basis, copies)

    def __len__(self) -> int:
        return len(self.passages)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @cached_property
    def cids(self) -> tuple[str, ...]:
        """The document CID of each item, in item order (a document with several passages
        appears several times)."""
        return tuple(p.cid for p in self.passages)

    @cached_property
    def documents(self) -> frozenset[str]:
        """The CIDs of the documents with at least one item or copy here."""
        return frozenset(self.cids) | {c.passage.cid for c in self.copies}

    @cached_property
    def positions(self) -> dict[bytes, int]:
        """Passage key -> position."""
        return {p.key: i for i, p in enumerate(self.passages)}

    def position_of(self, passage: PassageRef) -> int | None:
        return self.positions.get(passage.key)

    def leaf(self, position: int) -> tuple[int, bytes, bytes]:
        return (position, self.passages[position].key, embedding_hash(self.embeddings[position]))

    @cached_property
    def index(self) -> ExactIndex:
        """The exact search index over this snapshot, built once per snapshot (its float copy
        of a million passages takes seconds to make)."""
        return ExactIndex(self.embeddings)

    def generation_leaf(self) -> tuple[int, bytes, bytes]:
        return (len(self), GENERATION_TAG, self.generation.to_bytes(32, "big"))

    def basis_leaf(self) -> tuple[int, bytes, bytes] | None:
        if self.basis is None:
            return None
        return (len(self) + 1, BASIS_TAG, self.basis.commitment())

    def copies_commitment(self) -> bytes:
        """keccak256(abi.encode(count, keccak256(the copies' records))): a 64-byte preimage,
        never the 384 bytes of an embedding (four 96-byte records are), so the copies leaf
        never proves as a passage of key COPIES_TAG, which no result could rebut."""
        records = keccak(
            b"".join(
                c.passage.key + self.passages[c.of].key + embedding_hash(c.embedding)
                for c in self.copies
            )
        )
        return keccak(len(self.copies).to_bytes(32, "big") + records)

    def copies_leaf(self) -> tuple[int, bytes, bytes] | None:
        if not self.copies:
            return None
        position = len(self) + (2 if self.basis is not None else 1)
        return (position, COPIES_TAG, self.copies_commitment())

    @cached_property
    def tree(self) -> StandardMerkleTree:
        leaves = [self.leaf(i) for i in range(len(self))]
        extra = [self.generation_leaf(), self.basis_leaf(), self.copies_leaf()]
        return StandardMerkleTree.of(
            [*leaves, *(leaf for leaf in extra if leaf is not None)], SNAPSHOT_LEAF
        )

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    def prove(self, position: int) -> list[bytes]:
        """The Merkle proof of item `position`'s leaf against `root`."""
        return self.tree.get_proof(position)

    # -- files ---------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The snapshot as one .npz (model root, generation, passages, embeddings, basis,
        copies): what others fetch."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            version=np.array([FORMAT_VERSION], dtype=np.int64),
            model_root=np.frombuffer(self.model_root, dtype=np.uint8),
            generation=np.frombuffer(self.generation.to_bytes(32, "big"), dtype=np.uint8),
            **_passage_arrays("", self.passages),
            embeddings=self.embeddings,
            **self._basis_arrays(),
            **_passage_arrays("copy_", [c.passage for c in self.copies]),
            copy_of=np.array([c.of for c in self.copies], dtype=np.int64),
            copy_embeddings=np.array([c.embedding for c in self.copies], dtype=np.int8).reshape(
                len(self.copies), self.dim
            ),
        )
        return buffer.getvalue()

    def _basis_arrays(self) -> dict[str, np.ndarray]:
        basis = self.basis
        if basis is None:
            return {}
        return {
            "basis_policy": np.frombuffer(basis.policy_hash, dtype=np.uint8),
            "basis_through": np.array([basis.through_batch], dtype=np.int64),
            "basis_reputation": np.frombuffer(basis.reputation, dtype=np.uint8),
            "basis_skipped": np.array(basis.skipped, dtype=np.int64),
        }

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the old file or the new one, never half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_bytes(self.to_bytes())
        partial.replace(path)

    @classmethod
    def from_bytes(cls, data: bytes, expected_root: bytes | None = None) -> "Snapshot":
        """Parse a snapshot file; with `expected_root`, refuse one whose root differs."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                version = int(arrays["version"][0])
                if version not in READS_VERSIONS:
                    raise SnapshotError(f"snapshot format {version} is not supported")
                model_root = arrays["model_root"].astype(np.uint8).tobytes()
                generation = int.from_bytes(arrays["generation"].astype(np.uint8).tobytes(), "big")
                passages = _read_passages(arrays, "")
                embeddings = np.array(arrays["embeddings"])
                basis = None
                if "basis_policy" in arrays:
                    basis = SnapshotBasis(
                        policy_hash=arrays["basis_policy"].astype(np.uint8).tobytes(),
                        through_batch=int(arrays["basis_through"][0]),
                        reputation=arrays["basis_reputation"].astype(np.uint8).tobytes(),
                        skipped=tuple(int(b) for b in arrays["basis_skipped"]),
                    )
                copied = _read_passages(arrays, "copy_")
                of = [int(i) for i in arrays["copy_of"]]
                copy_embeddings = np.array(arrays["copy_embeddings"], dtype=np.int8)
        except (OSError, ValueError, KeyError, IndexError, EOFError, PassageError) as exc:
            raise SnapshotError(f"not a snapshot file: {exc}") from None
        if len(of) != len(copied) or copy_embeddings.shape[0] != len(copied):
            raise SnapshotError("a snapshot's copies must have one position and embedding each")
        copies = tuple(Copy(p, i, e) for p, i, e in zip(copied, of, copy_embeddings, strict=True))
        snapshot = cls(model_root, passages, embeddings, generation, basis, copies)
        if expected_root is not None and snapshot.root != expected_root:
            raise SnapshotError(
                f"the snapshot's root is {snapshot.root_hex}, not 0x{expected_root.hex()}"
            )
        return snapshot

    @classmethod
    def load(cls, path: Path, expected_root: bytes | None = None) -> "Snapshot":
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SnapshotError(f"cannot read snapshot {path}: {exc.strerror}") from None
        return cls.from_bytes(data, expected_root)


def _passage_arrays(prefix: str, passages) -> dict[str, np.ndarray]:
    return {
        f"{prefix}cid_digests": np.frombuffer(
            b"".join(digest_of(p.cid) for p in passages), dtype=np.uint8
        ).reshape(len(passages), 32),
        f"{prefix}spans": np.array(
            [(p.index, p.start, p.end) for p in passages], dtype=np.int64
        ).reshape(len(passages), 3),
    }


def _read_passages(arrays, prefix: str) -> tuple[PassageRef, ...]:
    digests = arrays[f"{prefix}cid_digests"].astype(np.uint8)
    spans = arrays[f"{prefix}spans"].astype(np.int64)
    if digests.ndim != 2 or digests.shape[1] != 32 or spans.shape != (digests.shape[0], 3):
        raise SnapshotError("snapshot passages must be (n, 32) digests and (n, 3) spans")
    cids: dict[bytes, str] = {}
    out = []
    for row, (index, start, end) in zip(digests, spans.tolist(), strict=True):
        digest = row.tobytes()
        cid = cids.get(digest) or cids.setdefault(digest, cid_from_digest(digest))
        out.append(PassageRef(cid, index, start, end))
    return tuple(out)
