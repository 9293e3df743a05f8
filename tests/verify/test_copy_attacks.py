"""Attacks on the copy rule and on passages, found by the review of commit 23fbe36, each played
against the real engine, store and embedded chain, with the attacker's loss asserted (or, where
the weakness stands, an xfail naming it).

- A challenger proves the snapshot's copies leaf as if it were a passage: with exactly four
  copies the leaf's committed preimage is 4 x 96 = 384 bytes, the size of an embedding, so the
  contract would take it as one and open an omission claim nobody can rebut.
"""

import os

import numpy as np
import pytest

from aigora.app import file_claim
from aigora.chain import read_operator
from aigora.content.anchoring import anchor_all
from aigora.core.errors import ContractRevert
from aigora.core.keystore import Signer
from aigora.index import embedding_hash
from aigora.verify import stored_receipt
from aigora.verify._challenge import EMBEDDING_OP, Claim
from aigora.verify._claims import Passage, query_embedding, result_entry

from .conftest import CORPUS

QUESTIONS = (
    "Which car should I buy for my family?",
    "What fruit is easy to carry?",
    "Is an electric car cheap to run?",
    "Which SUV has three rows?",
    "How many passengers fit in a minivan?",
    "crash test safety ratings",
)
DIM = 384  # Disputes.vy's DIM: the embedding bytes a passage proof takes


def _anchored(world, document):
    context = world.context
    anchor_all(context.db, context.chain, context.deployment.registry, context.operator)
    return stored_receipt(context.db, "0x" + document.digest().hex())


def _challenger(world):
    context = world.context
    chain, token, disputes = context.chain, context.deployment.token, context.deployment.disputes
    challenger = chain.dev_signers()[5]
    bond = chain.call(disputes.functions.challenger_bond())
    chain.transact(context.operator, token.functions.transfer(challenger.address, 3 * bond))
    return challenger


def test_the_copies_leaf_is_never_a_provable_passage(open_world_at, tmp_path):
    """Four copies (another account's upper-cased republications): the copies leaf's third
    field is keccak256 of what the challenger can rebuild from the public snapshot. That must
    never be 384 bytes, or the leaf proves as a passage of key COPIES_TAG that no result can
    ever rebut, and an honest operator loses its bond to an omission claim."""
    world = open_world_at(tmp_path / "node", CORPUS)
    copier = Signer.dev(os.urandom(32))
    for text in CORPUS[:4]:
        world.publish(text.upper(), copier)
    world.answers.refresh()
    snapshot = world.answers.current()[0]
    assert len(snapshot.copies) == 4
    context = world.context
    chain, disputes = context.chain, context.deployment.disputes
    challenger = _challenger(world)
    # What the attacker rebuilds from the public snapshot file: the copies leaf and its records,
    # which are 384 bytes for four copies.
    position, tag, _ = snapshot.copies_leaf()
    data = b"".join(
        c.passage.key + snapshot.passages[c.of].key + embedding_hash(c.embedding)
        for c in snapshot.copies
    )
    assert len(data) == DIM
    assert len(snapshot.copies_commitment()) == 32
    forged = np.frombuffer(data, dtype=np.int8).astype(np.int64)
    leaf_index = len(snapshot) + 1  # no basis on a node of its own: generation, then copies
    proof = snapshot.tree.get_proof(leaf_index)
    # The attacker picks an honest receipt whose last result the forged "passage" outranks.
    for question in QUESTIONS:
        document = world.answers.ask(question, len(snapshot))
        assert world.answers.verify(document).valid
        _, trace = world.answers.encoder().embed_with_trace(question)
        query = np.asarray(trace.output(EMBEDDING_OP), dtype=np.int64)
        if int(forged @ query) > document.results[-1].score:
            break
    else:
        pytest.fail("no question lets the forged passage outrank a last result")
    document = _anchored(world, document)
    claim = Claim(
        "omission",
        "the copies leaf, proven as a passage",
        entry=result_entry(document, len(document.results) - 1),
        passage=Passage(position, tag, data, tuple(proof)),
        query=query_embedding(trace),
    )
    # Before the fix this claim opened, `rebut_omissions` found nothing to rebut, and after the
    # response window the honest operator was slashed.
    with pytest.raises(ContractRevert, match="passage proof does not match"):
        file_claim(chain, disputes, context.deployment.token, challenger, document, claim)
    assert not read_operator(chain, context.deployment.registry, context.operator.address).slashed
