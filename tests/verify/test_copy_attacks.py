"""Attacks on the copy rule and on passages, found by the review of commit 23fbe36, each played
against the real engine, store and embedded chain, with the attacker's loss asserted (or, where
the weakness stands, a strict xfail naming it).

- A challenger proves the snapshot's copies leaf as if it were a passage: with exactly four
  copies the leaf's committed preimage was 4 x 96 = 384 bytes, the size of an embedding, so the
  contract took it as one and opened an omission claim nobody can rebut (fixed: the leaf
  commits to (count, keccak256 of the records), 64 bytes).
- A copier backdates its signed createdAt: on a node of its own (received order) and across
  registry batches it stays the copy, and an operator swapping original and copy is INVALID;
  within one batch the signed time decides, so it wins (xfail).
- An operator drops, re-cuts or re-embeds passages of an admitted document: the verifier cuts
  every admitted document by the rule (`check_cuts`) and re-embeds a sample, the listed
  documents and others the receipt's digest picks (`check_passage_embeddings`): INVALID.
- Regrouping after an original is removed took a document's passages in key order, so which of
  its passages stayed the item depended on the node's history (fixed: passage order).
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from aigora.app import file_claim
from aigora.app._basis import admission_rule, derive_admission
from aigora.chain import read_operator
from aigora.content import Universe
from aigora.content.anchoring import anchor_all
from aigora.core.cid import cid_of
from aigora.core.errors import ContractRevert
from aigora.core.hashing import keccak
from aigora.core.keystore import Signer
from aigora.engine import Encoder, load_default_model
from aigora.engine.evaluation import held_out_sentences
from aigora.governance import genesis_policy
from aigora.index import (
    AdmissionPolicy,
    PassageRef,
    PassageRule,
    Snapshot,
    SnapshotBasis,
    build_snapshot,
    embedding_hash,
    passages_of,
    split_passages,
)
from aigora.store import (
    Anchor,
    AnchorKind,
    BlobStore,
    ContentItem,
    make_engine,
    migrate,
    session_scope,
    sqlite_url,
)
from aigora.verify import AdmissionFacts, Invalid, check_admission, stored_receipt
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


# -- publication order, and what a verifier re-derives from its store -------------------------

CHAIN_ID = 31337
REGISTRY = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
SEEDS = ["0x" + "11" * 20, "0x" + "22" * 20]
ORIGINAL_AUTHOR = "0x" + "a1" * 20
COPIER = "0x" + "c0" * 20
WHEN = datetime(2026, 3, 1, tzinfo=UTC)
ARTICLE = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings. "
    "Its third row folds flat, and the boot then holds a week of camping gear."
)


@dataclass(frozen=True)
class Published:
    body: str
    author: str
    created_at: int  # the signed createdAt: the author's own claim
    received_s: int  # seconds after WHEN that this node received it
    batch: int | None = None  # the registry batch that anchored it


@pytest.fixture(scope="module")
def encoder():
    return Encoder(load_default_model(), backend="numpy")


def _store(tmp_path: Path, items: list[Published]):
    engine = make_engine(sqlite_url(tmp_path / "db" / "aigora.db"))
    migrate(engine)
    blobs = BlobStore(tmp_path / "blobs")
    anchors: dict[int, int] = {}
    with session_scope(engine) as session:
        for item in items:
            anchor_id = None
            if item.batch is not None and item.batch not in anchors:
                anchor = Anchor(
                    chain_id=CHAIN_ID,
                    kind=AnchorKind.CONTENT,
                    root="0x" + keccak(str(item.batch).encode()).hex(),
                    batch_id=item.batch,
                    tx_hash="0x" + "ab" * 32,
                    block_number=item.batch + 1,
                    item_count=1,
                    anchored_by=ORIGINAL_AUTHOR,
                    anchored_at=WHEN,
                )
                session.add(anchor)
                session.flush()
                anchors[item.batch] = anchor.id
            if item.batch is not None:
                anchor_id = anchors[item.batch]
            body = item.body.encode()
            session.add(
                ContentItem(
                    cid=blobs.put(body),
                    author=item.author,
                    media_type="text/plain",
                    license="CC0-1.0",
                    url="",
                    url_hash=None,
                    created_at=item.created_at,
                    size=len(body),
                    digest="0x" + keccak(body).hex(),
                    signature="0x" + "00" * 65,
                    received_at=WHEN + timedelta(seconds=item.received_s),
                    anchor_id=anchor_id,
                )
            )
    return engine, blobs


def _network(engine, blobs, encoder, through_batch: int):
    """The honest snapshot of the universe up to `through_batch` under the genesis policy, and
    what a verifier holding the same batches makes of it."""
    policy = genesis_policy(SEEDS)
    basis = SnapshotBasis(policy_hash=policy.hash(), through_batch=through_batch)
    rule = admission_rule(policy, Universe(through_batch=through_batch))
    with session_scope(engine) as session:
        built = build_snapshot(session, blobs, encoder, encoder.model.root, rule, basis=basis)
    cut = PassageRule.of(encoder)

    def cutter(text):
        spans = split_passages(text, encoder.token_count, cut)
        return [(i, s.start, s.end) for i, s in enumerate(spans)]

    derived = derive_admission(
        engine, blobs, policy, basis, chain_id=CHAIN_ID, registry=REGISTRY, cutter=cutter
    )
    facts = AdmissionFacts(
        policy_problem=None,
        admitted=derived.admitted,
        refused=derived.refused,
        reputation=derived.reputation,
        missing_batches=derived.missing_batches,
        published=derived.published,
        duplicate_threshold=derived.duplicate_threshold,
        cuts=derived.cuts,
        texts=derived.texts,
        embed=encoder.embed,
    )
    return built.snapshot, facts


def test_on_a_node_of_its_own_a_backdated_copy_is_still_the_copy(tmp_path, encoder):
    """The copier signs createdAt 1 (1970); the node received it after the original: the
    node's order is what it received when, so the copy is the copy."""
    copy = ARTICLE.upper()
    engine, blobs = _store(
        tmp_path,
        [Published(ARTICLE, ORIGINAL_AUTHOR, 1_700_000_000, 0), Published(copy, COPIER, 1, 5)],
    )
    with session_scope(engine) as session:
        built = build_snapshot(session, blobs, encoder, encoder.model.root, AdmissionPolicy())
    snapshot = built.snapshot
    assert snapshot.cids == (cid_of(ARTICLE.encode()),)
    assert [c.passage.cid for c in snapshot.copies] == [cid_of(copy.encode())]


def _backdated_copy(tmp_path: Path, encoder, copy_batch: int):
    """The original anchored in batch 1, then its copy, signed as of 1970, in `copy_batch`."""
    engine, blobs = _store(
        tmp_path,
        [
            Published(ARTICLE, ORIGINAL_AUTHOR, 1_700_000_000, 0, batch=1),
            Published(ARTICLE.upper(), COPIER, 1, 5, batch=copy_batch),
        ],
    )
    return _network(engine, blobs, encoder, through_batch=copy_batch)


@pytest.mark.xfail(
    strict=True,
    reason="same-batch backdating: in a network, publication order within one registry batch "
    "is the signed createdAt, which only has an upper bound (no earlier than anything); a "
    "copier who gets its manifest into the original's batch (the same node, within its anchor "
    "interval) and signs an older createdAt becomes the original and takes its usage",
)
def test_in_a_network_a_backdated_copy_in_the_same_batch_is_still_the_copy(tmp_path, encoder):
    snapshot, facts = _backdated_copy(tmp_path, encoder, copy_batch=1)
    check_admission(snapshot, facts)  # the verifier agrees with whatever the order gave
    assert snapshot.cids == (cid_of(ARTICLE.encode()),)


def test_in_a_network_a_later_batch_is_the_copy_whatever_it_signed(tmp_path, encoder):
    snapshot, facts = _backdated_copy(tmp_path, encoder, copy_batch=2)
    assert snapshot.cids == (cid_of(ARTICLE.encode()),)
    check_admission(snapshot, facts)
    # An operator that swaps them (the copier kept, the original left out as its copy) is
    # caught by the verifier's publication order.
    original, copied = snapshot.passages[0], snapshot.copies[0]
    swapped = Snapshot.of(
        snapshot.model_root,
        {copied.passage: copied.embedding},
        basis=snapshot.basis,
        copies={original: (copied.passage, snapshot.embeddings[0])},
    )
    with pytest.raises(Invalid, match="published after it"):
        check_admission(swapped, facts)


def _long_article(encoder) -> str:
    sentences = held_out_sentences(24)
    return "\n\n".join(" ".join(sentences[i : i + 4]) for i in range(0, 24, 4))


def _tampered(snapshot: Snapshot, cid: str, how: str, encoder, text: str) -> Snapshot:
    items = snapshot.items()
    mine = sorted((p for p in items if p.cid == cid), key=lambda p: p.index)
    if how == "passages dropped":  # censor all but the first passage of the document
        for p in mine[1:]:
            del items[p]
    elif how == "span not the rule's":  # one passage "spanning" the whole document
        for p in mine:
            del items[p]
        items[PassageRef(cid, 0, 0, len(text))] = encoder.embed([text[:300]])[0]
    elif how == "other text embedded":  # the passage's place holds an advert's embedding
        items[mine[1]] = encoder.embed(["SponsorCar: buy it now, the best car ever made"])[0]
    return Snapshot.of(snapshot.model_root, items, basis=snapshot.basis)


@pytest.mark.parametrize("how", ["passages dropped", "span not the rule's", "other text embedded"])
def test_an_operator_cannot_recut_or_reembed_an_admitted_document(tmp_path, encoder, how):
    text = _long_article(encoder)
    engine, blobs = _store(
        tmp_path,
        [
            Published(text, ORIGINAL_AUTHOR, 1_700_000_000, 0, batch=1),
            Published(ARTICLE, COPIER, 1_700_000_001, 1, batch=1),
        ],
    )
    snapshot, facts = _network(engine, blobs, encoder, through_batch=1)
    cid = cid_of(text.encode())
    assert sum(p.cid == cid for p in snapshot.passages) >= 3
    check_admission(snapshot, facts)  # the honest snapshot passes
    with pytest.raises(Invalid):
        check_admission(_tampered(snapshot, cid, how, encoder, text), facts)


def _twice(encoder, rule) -> tuple[str, str]:
    """A passage-long sentence X, and a document of X twice whose second passage's key sorts
    before its first's (so key order and passage order differ)."""
    for j in range(64):
        sentence = f"{j} " + " ".join(["the family car seats seven and folds its row flat"] * 9)
        twice = f"{sentence}.\n\n{sentence}."
        first, second = passages_of(cid_of(twice.encode()), twice, encoder.token_count, rule)
        if second.key < first.key:
            return f"{sentence}.", twice
    raise AssertionError("no variant puts the second passage's key first")


def test_regrouping_keeps_a_documents_first_passage_as_its_item(tmp_path, encoder):
    """A's X is copied twice by B (X, then X again). When A is removed, B's passages are grouped
    again: the first of B's two passages must be the item, as a fresh build makes it, whatever
    their keys' order, so the snapshot does not depend on the node's history."""
    rule = PassageRule.of(encoder)
    once, twice = _twice(encoder, rule)
    engine, blobs = _store(
        tmp_path,
        [
            Published(once, ORIGINAL_AUTHOR, 1_700_000_000, 0),
            Published(twice, COPIER, 1_700_000_001, 1),
        ],
    )
    removed = AdmissionPolicy(removed={cid_of(once.encode()): "withdrawn"})
    root = encoder.model.root
    with session_scope(engine) as session:
        before = build_snapshot(session, blobs, encoder, root, AdmissionPolicy()).snapshot
        assert len(before.copies) == 2
        again = build_snapshot(session, blobs, encoder, root, removed, previous=before).snapshot
        fresh = build_snapshot(session, blobs, encoder, root, removed).snapshot
    assert [p.index for p in fresh.passages] == [0]
    assert again.passages == fresh.passages
    assert again.copy_map().keys() == fresh.copy_map().keys()
