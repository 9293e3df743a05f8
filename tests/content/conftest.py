"""A store, a domain and signers for content tests (no chain needed except for anchoring)."""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from aigora.content.signed import domain_for, sign
from aigora.core.cid import cid_of
from aigora.core.eip712 import Domain
from aigora.core.keystore import Signer
from aigora.store.blobs import BlobStore
from aigora.store.db import make_engine, migrate, sqlite_url


@dataclass
class World:
    db: Engine
    blobs: BlobStore
    domain: Domain
    alice: Signer
    bob: Signer
    now: int

    def manifest(self, body: bytes, author: Signer | None = None, **fields):
        message = {
            "author": (author or self.alice).address,
            "cid": cid_of(body),
            "mediaType": "text/plain",
            "license": "CC-BY-4.0",
            "url": "",
            "parents": [],
            "createdAt": self.now,
        }
        message.update(fields)
        return sign("content", author or self.alice, self.domain, message)

    def attestation(self, cid: str, verdict: str = "accurate", by: Signer | None = None, **fields):
        message = {
            "attester": (by or self.alice).address,
            "cid": cid,
            "verdict": verdict,
            "reason": "",
            "createdAt": self.now,
        }
        message.update(fields)
        return sign("attestation", by or self.alice, self.domain, message)

    def vouch(self, trustee: str, by: Signer | None = None, created_at: int | None = None):
        message = {
            "truster": (by or self.alice).address,
            "trustee": trustee,
            "createdAt": created_at or self.now,
        }
        return sign("trust", by or self.alice, self.domain, message)


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    db = make_engine(sqlite_url(tmp_path / "a.db"))
    migrate(db)
    domain = domain_for(31337, "0x" + "ab" * 20)
    yield World(
        db,
        BlobStore(tmp_path / "blobs"),
        domain,
        Signer.dev(os.urandom(32)),
        Signer.dev(os.urandom(32)),
        int(time.time()),
    )
    db.dispose()
