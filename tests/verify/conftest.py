"""A node on the embedded chain with a small published corpus, a registered snapshot and an
answering service, shared by the module (embedding and deployment cost seconds)."""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aigora.app import Answers, NodeContext, open_node
from aigora.content import service
from aigora.content.signed import content_message, sign
from aigora.core.cid import cid_of
from aigora.core.keystore import Keystore, Signer
from aigora.store.db import session_scope

PASSPHRASE = "verify tests"

CORPUS = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings.",
    "The Toyota Sienna minivan is the most reliable family car of the decade.",
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "SponsorCar Model S: buy it now, the best car ever made, limited offer!",
    "Bananas are rich in potassium and easy to carry.",
    "A family of five needs a car with three rows of seats and a large trunk.",
    "Electric cars cost less to run but need a charger at home.",
    "The Kia Telluride is a spacious three-row SUV with a long warranty.",
)


@dataclass
class World:
    context: NodeContext
    answers: Answers
    author: Signer
    cids: dict[str, str]  # text -> CID

    def publish(self, text: str, author: Signer | None = None) -> str:
        author = author or self.author
        body = text.encode()
        now = int(time.time())
        message = content_message(author.address, body, "text/plain", "CC-BY-4.0", now)
        signed = sign("content", author, self.context.domain, message)
        with session_scope(self.context.db) as session:
            service.publish(session, self.context.blobs, self.context.domain, signed, body, now)
        self.cids[text] = cid_of(body)
        return cid_of(body)


def open_world(directory: Path, corpus=CORPUS) -> World:
    directory.mkdir(parents=True, exist_ok=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    context = open_node(directory, PASSPHRASE)
    world = World(context, Answers(context), Signer.dev(os.urandom(32)), {})
    for text in corpus:
        world.publish(text)
    world.answers.refresh()
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    w = open_world(tmp_path_factory.mktemp("verify") / "node")
    try:
        yield w
    finally:
        w.context.close()


@pytest.fixture(scope="module")
def open_world_at():
    """Make another independent world (for tests that change chain state)."""
    opened: list[World] = []

    def make(directory: Path, corpus=CORPUS) -> World:
        w = open_world(directory, corpus)
        opened.append(w)
        return w

    yield make
    for w in opened:
        w.context.close()
