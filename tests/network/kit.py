"""What the network tests share: one signing domain, signers, stores ("nodes"), signed items and
a peer double that serves batches from memory, honestly or as a test tells it to lie."""

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from aigora.content import Signed, batch_tree, domain_for, sign
from aigora.core.cid import cid_of
from aigora.core.eip712 import Domain
from aigora.core.keystore import Signer
from aigora.network import FoundBatch, PeerUnavailable
from aigora.store import BlobStore, make_engine, migrate, sqlite_url

DOMAIN = domain_for(31337, "0x" + "ab" * 20)
ALICE = Signer.dev(bytes([1]) * 32)
BOB = Signer.dev(bytes([2]) * 32)
CAROL = Signer.dev(bytes([3]) * 32)


@dataclass
class Node:
    db: Engine
    blobs: BlobStore


@dataclass
class MemoryPeer:
    """A peer serving whatever it was given: batches by root, bodies by CID. What it serves is
    up to the test, so it can lie in any way a real peer could."""

    name: str = "memory-peer"
    batches: dict[str, list[Signed]] = field(default_factory=dict)
    served_bodies: dict[str, bytes] = field(default_factory=dict)
    requests: int = 0

    def items(self, root: str, expected: int) -> list[Signed]:
        self.requests += 1
        if root not in self.batches:
            raise PeerUnavailable(f"{self.name} has no batch {root}")
        return list(self.batches[root])

    def bodies(self, cids: list[str]) -> dict[str, bytes]:
        missing = [cid for cid in cids if cid not in self.served_bodies]
        if missing:
            raise PeerUnavailable(f"{self.name} has no body {missing[0]}")
        return {cid: self.served_bodies[cid] for cid in cids}


def manifest(body: bytes, author: Signer = ALICE, created_at: int | None = None) -> Signed:
    message = {
        "author": author.address,
        "cid": cid_of(body),
        "mediaType": "text/plain",
        "license": "CC-BY-4.0",
        "url": "",
        "parents": [],
        "createdAt": created_at or int(time.time()) - 100,
    }
    return sign("content", author, DOMAIN, message)


def attestation(
    cid: str, verdict: str = "accurate", by: Signer = BOB, created_at: int | None = None
) -> Signed:
    message = {
        "attester": by.address,
        "cid": cid,
        "verdict": verdict,
        "reason": "",
        "createdAt": created_at or int(time.time()) - 100,
    }
    return sign("attestation", by, DOMAIN, message)


def vouch(trustee: str, by: Signer = ALICE, created_at: int | None = None) -> Signed:
    message = {
        "truster": by.address,
        "trustee": trustee,
        "createdAt": created_at or int(time.time()) - 100,
    }
    return sign("trust", by, DOMAIN, message)


def digest_of(item: Signed, domain: Domain = DOMAIN) -> str:
    return "0x" + item.digest(domain).hex()


def anchored(
    items: list[Signed], *, batch_id: int, kind: int, anchorer: str = ALICE.address
) -> FoundBatch:
    """The event a registry would have logged for anchoring `items` as one batch."""
    root = "0x" + batch_tree([digest_of(item) for item in items]).root.hex()
    return FoundBatch(
        batch_id=batch_id,
        kind=kind,
        anchorer=anchorer,
        root=root,
        item_count=len(items),
        block_number=10 + batch_id,
        tx_hash="0x" + f"{batch_id:064x}",
    )


def serve(peer: MemoryPeer, items: list[Signed], bodies: dict[str, bytes], **batch) -> FoundBatch:
    found = anchored(items, **batch)
    peer.batches[found.root] = items
    peer.served_bodies.update(bodies)
    return found


def make_node(path: Path) -> Node:
    db = make_engine(sqlite_url(path / "aigora.db"))
    migrate(db)
    return Node(db, BlobStore(path / "blobs"))
