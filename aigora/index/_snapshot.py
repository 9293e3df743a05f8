"""Corpus snapshots: the ordered CIDs and int8 embeddings an operator answers from, under one root.

A snapshot is a pure value. Its items are sorted by CID in binary form (equivalently by the
CID's sha2-256 digest: every CID of ours shares one 4-byte prefix), so the root depends only on
the set of (CID, embedding) pairs and the model, and "position ascending" is the ranking's
tie-break "CID ascending". The base32 spelling sorts differently (its alphabet puts digits after
letters), which is why the binary form is the one that counts, on-chain and off.

Each item is one OpenZeppelin StandardMerkleTree leaf `(position, cidDigest, keccak256(embedding))`
with the embedding as its int8 bytes (two's complement, C order). A contract can therefore check
one passage's embedding with a proof and recompute its score itself (the dispute issue).

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
from aigora.index._search import ExactIndex

SNAPSHOT_LEAF = ("uint256", "bytes32", "bytes32")
"""Leaf encoding: position, the CID's sha2-256 digest, keccak256 of the int8 embedding bytes."""

FORMAT_VERSION = 3
READS_VERSIONS = (2, 3)  # 2: before snapshots committed to a basis
GENERATION_TAG = keccak(b"aigora.snapshot.generation")
BASIS_TAG = keccak(b"aigora.snapshot.basis")
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


@dataclass(frozen=True, eq=False)
class Snapshot:
    """`model_root` (32 bytes), `cids` sorted by digest, `embeddings` int8 (n, d) in that order,
    the snapshot's `generation` in its node's history and, in a network, its `basis`."""

    model_root: bytes
    cids: tuple[str, ...]
    embeddings: np.ndarray = field(repr=False)
    generation: int = 0
    basis: SnapshotBasis | None = None

    def __post_init__(self) -> None:
        if len(self.model_root) != 32:
            raise SnapshotError("a snapshot's model root must be 32 bytes")
        if not self.cids:
            raise SnapshotError("a snapshot needs at least one item")
        embeddings = self.embeddings
        if embeddings.dtype != np.int8 or embeddings.ndim != 2:
            raise SnapshotError(
                f"embeddings must be int8 (n, d), got {embeddings.dtype} {embeddings.shape}"
            )
        if not 0 <= self.generation < 2**256:
            raise SnapshotError(f"generation {self.generation} is not a uint256")
        if embeddings.shape[0] != len(self.cids):
            raise SnapshotError(f"{len(self.cids)} CIDs but {embeddings.shape[0]} embeddings")
        digests = [digest_of(cid) for cid in self.cids]
        if any(a >= b for a, b in pairwise(digests)):
            raise SnapshotError("snapshot CIDs must be unique and sorted by digest")
        frozen = np.ascontiguousarray(embeddings)
        frozen.flags.writeable = False
        object.__setattr__(self, "embeddings", frozen)

    @classmethod
    def of(
        cls,
        model_root: bytes,
        items: Mapping[str, np.ndarray],
        generation: int = 0,
        basis: SnapshotBasis | None = None,
    ) -> "Snapshot":
        """The snapshot of `items` (CID -> int8 embedding), in canonical order."""
        if not items:
            raise SnapshotError("nothing to snapshot: no admitted content has an embedding")
        cids = sorted(items, key=digest_of)
        embeddings = np.stack([np.asarray(items[c]) for c in cids])
        return cls(model_root, tuple(cids), embeddings, generation, basis)

    def changed(
        self,
        added: Mapping[str, np.ndarray],
        removed: Iterable[str],
        basis: SnapshotBasis | None = None,
    ) -> "Snapshot":
        """The next generation, with `added` items and without `removed` ones, under `basis`;
        the embeddings of the items kept are reused, never recomputed. No change (items and
        basis alike), no new generation."""
        drop = set(removed) & self.positions.keys()
        if not added and not drop and basis == self.basis:
            return self  # same items: keep the tree (and index) already built
        if not added and not drop:
            return Snapshot(self.model_root, self.cids, self.embeddings, self.generation + 1, basis)
        keep = np.array([c not in drop for c in self.cids], dtype=bool)
        if not added:  # removals only: no re-sort, the kept rows stay in order
            cids = tuple(c for c, k in zip(self.cids, keep, strict=True) if k)
            return Snapshot(
                self.model_root, cids, self.embeddings[keep], self.generation + 1, basis
            )
        items = {c: self.embeddings[i] for i, c in enumerate(self.cids) if c not in drop}
        items.update(added)
        return Snapshot.of(self.model_root, items, self.generation + 1, basis)

    def __len__(self) -> int:
        return len(self.cids)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @cached_property
    def positions(self) -> dict[str, int]:
        return {cid: i for i, cid in enumerate(self.cids)}

    def leaf(self, position: int) -> tuple[int, bytes, bytes]:
        return (position, digest_of(self.cids[position]), embedding_hash(self.embeddings[position]))

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

    @cached_property
    def tree(self) -> StandardMerkleTree:
        leaves = [self.leaf(i) for i in range(len(self))]
        extra = [self.generation_leaf()]
        if self.basis is not None:
            extra.append(self.basis_leaf())
        return StandardMerkleTree.of([*leaves, *extra], SNAPSHOT_LEAF)

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
        """The snapshot as one .npz (model root, generation, CID digests, embeddings): what others
        fetch."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            version=np.array([FORMAT_VERSION], dtype=np.int64),
            model_root=np.frombuffer(self.model_root, dtype=np.uint8),
            generation=np.frombuffer(self.generation.to_bytes(32, "big"), dtype=np.uint8),
            cid_digests=np.frombuffer(
                b"".join(digest_of(c) for c in self.cids), dtype=np.uint8
            ).reshape(len(self), 32),
            embeddings=self.embeddings,
            **self._basis_arrays(),
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
                model_root = arrays["model_root"].astype(np.uint8).tobytes()
                generation = int.from_bytes(arrays["generation"].astype(np.uint8).tobytes(), "big")
                digests = arrays["cid_digests"].astype(np.uint8)
                embeddings = np.array(arrays["embeddings"])
                basis = None
                if "basis_policy" in arrays:
                    basis = SnapshotBasis(
                        policy_hash=arrays["basis_policy"].astype(np.uint8).tobytes(),
                        through_batch=int(arrays["basis_through"][0]),
                        reputation=arrays["basis_reputation"].astype(np.uint8).tobytes(),
                        skipped=tuple(int(b) for b in arrays["basis_skipped"]),
                    )
        except (OSError, ValueError, KeyError, IndexError, EOFError) as exc:
            raise SnapshotError(f"not a snapshot file: {exc}") from None
        if version not in READS_VERSIONS:
            raise SnapshotError(f"snapshot format {version} is not supported")
        if digests.ndim != 2 or digests.shape[1] != 32:
            raise SnapshotError("snapshot CID digests must be (n, 32) bytes")
        cids = tuple(cid_from_digest(row.tobytes()) for row in digests)
        snapshot = cls(model_root, cids, embeddings, generation, basis)
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
