"""Disputes: each claim recomputed on-chain from real receipts, snapshots and traces, both ways.

Inputs are built with the project's own code (snapshot, engine trace, ranking, signing, anchoring,
`aigora.verify._claims` argument builders), so a passing challenge also proves that the contract's
digest and leaf encodings are byte for byte those of Python.
"""

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigora.chain import Chain
from aigora.chain.client import TxResult, TxSigner
from aigora.chain.deploy import DisputeParams, deploy_disputes
from aigora.content.anchoring import batch_tree
from aigora.content.signed import domain_for
from aigora.core import ordered_merkle
from aigora.core.cid import cid_of
from aigora.core.errors import ContractRevert
from aigora.core.hashing import keccak
from aigora.core.keystore import Signer
from aigora.engine import Trace
from aigora.engine._commit import TensorLeaf, chunk_leaf_hash
from aigora.index import PassageRef, Snapshot
from aigora.verify import Anchor, Ranking, ReceiptDocument, Result, sign_answer
from aigora.verify._claims import (
    anchor_arg,
    passage,
    query_embedding,
    receipt_arg,
    result_entry,
)

from .conftest import FUNDS, Setup

DIM = 384
ITEMS = 10
OP_COUNT = 95  # the default model's trace: StepVerifier(6 layers).op_count()
K = 4
OPERATOR_BOND = 5_000
CHALLENGER_BOND = 500
TREASURY_BPS = 1_000
CHALLENGE_WINDOW = 7 * 24 * 3600
RESPONSE_WINDOW = 24 * 3600
STALE_GRACE = 600
KIND_SCORE, KIND_ORDER, KIND_STALE, KIND_OMISSION = 1, 2, 3, 4
OPEN, CHALLENGER_WON, CHALLENGER_LOST = 1, 2, 3
QUESTION = "which passage answers this?"
BURN = "0x000000000000000000000000000000000000dEaD"
REWARD_BPS = 5_000  # RegistryParams' default: challengers share half a slash, half is burned


@pytest.fixture
def chain() -> Iterator[Chain]:
    """These tests run on the embedded chain only (the registry tests cover both backends)."""
    with Chain.embedded() as c:
        yield c


# ---- the world: an operator with a registered snapshot, a query trace, receipts -----------------


@dataclass(repr=False)
class World:
    setup: Setup
    disputes: object
    treasury: str
    model_root: bytes
    snapshot: Snapshot
    trace: Trace
    scores: np.ndarray
    nonces: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    keys: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    @property
    def chain(self) -> Chain:
        return self.setup.chain

    @property
    def operator(self) -> TxSigner:
        return self.setup.alice

    @property
    def challenger(self) -> TxSigner:
        return self.setup.bob

    def balance(self, who: str) -> int:
        return self.setup.balance(who)

    def honest(self) -> list[Result]:
        """The exact top-k: score descending, then CID ascending (= snapshot position)."""
        order = sorted(range(len(self.snapshot)), key=lambda i: (-int(self.scores[i]), i))
        return [Result.of(self.snapshot.passages[i], int(self.scores[i])) for i in order[:K]]

    def answer(
        self,
        results: Sequence[Result] | None = None,
        *,
        operator: Signer | None = None,
        snapshot_root: bytes | None = None,
    ) -> ReceiptDocument:
        """A receipt signed by the operator and anchored by it in a receipts batch of four
        digests covering its nonce."""
        ranking = Ranking(self.trace.root, tuple(self.honest() if results is None else results))
        document = sign_answer(
            operator or self.operator,
            domain_for(self.chain.chain_id, self.setup.registry.address),
            self.model_root,
            snapshot_root or self.snapshot.root,
            QUESTION,
            ranking,
            fee=0,
            nonce=next(self.nonces),
            issued_at=self.chain.now(),
        )
        return self.anchor(document, by=operator or self.operator)

    def anchor(
        self, document: ReceiptDocument, kind: int = 2, by: TxSigner | None = None
    ) -> ReceiptDocument:
        """Anchor the receipt: as receipts (kind 2) by `by` over the nonce range [nonce, nonce],
        else as content or attestations by the registry's owner."""
        digest = document.digest()
        others = [keccak(b"other %d %d %d" % (kind, document.nonce, i)) for i in range(3)]
        tree = batch_tree(["0x" + d.hex() for d in (digest, *others)])
        registry = self.setup.registry
        if kind == 2:
            nonce = document.nonce
            call = registry.functions.anchor_receipts(tree.root, 1, nonce, nonce)
            self.chain.transact(by or self.operator, call)
        else:
            self.chain.transact(self.setup.owner, registry.functions.anchor(kind, tree.root, 4))
        batch_id = self.chain.call(registry.functions.batch_count())
        proof = tuple("0x" + p.hex() for p in tree.get_proof([digest]))
        return document.with_anchor(Anchor(batch_id, proof))

    def position(self, cid: str) -> int:
        return self.snapshot.positions[PassageRef.whole(cid).key]

    def challenge(self, name: str, *args, sender: TxSigner | None = None) -> TxResult:
        """Approve the bond and call `challenge_<name>` as the challenger."""
        sender = sender or self.challenger
        token, disputes = self.setup.token, self.disputes
        self.chain.transact(sender, token.functions.approve(disputes.address, CHALLENGER_BOND))
        return self.chain.transact(sender, getattr(disputes.functions, f"challenge_{name}")(*args))

    def common(self, document: ReceiptDocument) -> tuple:
        return (receipt_arg(document), document.signature, anchor_arg(document))

    def score_args(self, document: ReceiptDocument, rank: int, position: int | None = None):
        entry = result_entry(document, rank)
        if position is None:
            position = self.position(document.results[rank].cid)
        return (
            *self.common(document),
            entry.as_arg(),
            passage(self.snapshot, position).as_arg(),
            query_embedding(self.trace).as_arg(),
        )

    def order_args(self, document: ReceiptDocument, upper: int) -> tuple:
        return (
            *self.common(document),
            result_entry(document, upper).as_arg(),
            result_entry(document, upper + 1).as_arg(),
        )

    def omission_args(self, document: ReceiptDocument, position: int) -> tuple:
        return (
            *self.common(document),
            result_entry(document, len(document.results) - 1).as_arg(),
            passage(self.snapshot, position).as_arg(),
            query_embedding(self.trace).as_arg(),
        )

    def resolved(self, result: TxResult):
        (log,) = self.chain.events_in(result, self.disputes.events.DisputeResolved)
        return log.args

    def opened(self, result: TxResult):
        (log,) = self.chain.events_in(result, self.disputes.events.DisputeOpened)
        return log.args

    def dispute(self, dispute_id: int) -> dict:
        names = ("digest", "kind", "challenger", "operator", "passage_key", "result_hash")
        values = self.chain.call(self.disputes.functions.disputes(dispute_id))
        return dict(zip((*names, "deadline", "status"), values, strict=True))

    def operator_state(self, who: str) -> tuple[int, int, bool]:
        bond, unbonding, _, _, _, slashed = self.chain.call(
            self.setup.registry.functions.operators(who)
        )
        return bond, unbonding, slashed

    def new_operator(self) -> Signer:
        """A fresh funded, bonded operator (its receipts cite the world's snapshot)."""
        signer = Signer.dev(keccak(b"operator %d" % next(self.keys)))
        owner = self.setup.owner
        self.chain.send_ether(owner, signer.address, 10**18)
        self.chain.transact(owner, self.setup.token.functions.mint(signer.address, FUNDS))
        self.setup.register(signer, OPERATOR_BOND)
        return signer


def random_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.integers(-128, 128, size=(n, DIM), dtype=np.int16).astype(np.int8)
    vectors[0, :7] = [-128, 127, -128, 127, 0, -1, 1]
    return vectors


@pytest.fixture
def world(setup: Setup) -> World:
    rng = np.random.default_rng(7)
    chain, registry = setup.chain, setup.registry
    treasury = chain.dev_signers()[4].address
    params = DisputeParams(
        challenger_bond=CHALLENGER_BOND,
        challenge_window_s=CHALLENGE_WINDOW,
        response_window_s=RESPONSE_WINDOW,
        stale_grace_s=STALE_GRACE,
        treasury=treasury,
        treasury_bps=TREASURY_BPS,
    )
    disputes, _ = deploy_disputes(chain, setup.owner, setup.token.address, registry.address, params)
    query = random_vectors(rng, 1)[0]
    embeddings = random_vectors(rng, ITEMS)
    scores = embeddings.astype(np.int64) @ query.astype(np.int64)
    # Two passages with one embedding tie at the top: the CID breaks the tie.
    top = int(np.argmax(scores))
    twin = (top + 1) % ITEMS
    embeddings[twin] = embeddings[top]
    cids = [cid_of(b"passage %d" % i) for i in range(ITEMS)]
    model_root = keccak(b"model")
    snapshot = Snapshot.of(model_root, dict(zip(cids, embeddings, strict=True)))
    pool = rng.integers(-(2**31), 2**31, size=(DIM,), dtype=np.int64)
    # The contract knows the model's op count (95): the embedding is the last op.
    fillers = [(f"filler.{i}", np.zeros(1, np.int32)) for i in range(OP_COUNT - 2)]
    trace = Trace([*fillers, ("pool", pool), ("embedding", query)])
    scores = snapshot.embeddings.astype(np.int64) @ query.astype(np.int64)
    setup.register(setup.alice, OPERATOR_BOND)
    chain.transact(setup.alice, registry.functions.register_model(model_root, "int8-v1"))
    chain.transact(
        setup.alice, registry.functions.register_snapshot(snapshot.root, model_root, ITEMS)
    )
    return World(setup, disputes, treasury, model_root, snapshot, trace, scores)


def swapped(results: Sequence[Result], rank: int) -> list[Result]:
    out = list(results)
    out[rank], out[rank + 1] = out[rank + 1], out[rank]
    return out


# ---- parity with Python ----------------------------------------------------------------------


def test_receipt_digest_matches_python(world: World):
    document = world.answer()
    onchain = world.chain.call(world.disputes.functions.receipt_digest(receipt_arg(document)))
    assert onchain == document.digest()


def test_dot_matches_numpy(world: World):
    rng = np.random.default_rng(1)
    pairs = [
        (np.full(DIM, -128, np.int8), np.full(DIM, -128, np.int8)),
        (np.full(DIM, -128, np.int8), np.full(DIM, 127, np.int8)),
        (np.full(DIM, 127, np.int8), np.full(DIM, 127, np.int8)),
        (np.zeros(DIM, np.int8), np.full(DIM, -1, np.int8)),
        *((random_vectors(rng, 1)[0], random_vectors(rng, 1)[0]) for _ in range(6)),
    ]
    for a, b in pairs:
        expected = int(a.astype(np.int64) @ b.astype(np.int64))
        assert world.chain.call(world.disputes.functions.dot(a.tobytes(), b.tobytes())) == expected
    with pytest.raises(ContractRevert, match="vectors must be 384 bytes"):
        world.chain.call(world.disputes.functions.dot(b"\x01" * 383, b"\x01" * 383))


def test_leaf_encodings_match_python(world: World):
    """The query embedding's tensor leaf, as `_commit` builds it, is what the contract hashes: an
    honest score challenge passes every proof check and fails only on the claim."""
    query = query_embedding(world.trace)
    assert query.op_index == OP_COUNT - 1
    chunk_leaf = chunk_leaf_hash(query.op_index, 0, world.trace.output("embedding").tobytes())
    leaf = TensorLeaf(query.op_index, "embedding", "int8", (DIM,), chunk_leaf)
    assert world.trace.prove(query.op_index, 0).tensor == leaf
    assert ordered_merkle.verify(
        world.trace.root, leaf.hash(), query.op_index, OP_COUNT, query.tensor_proof
    )
    assert len(query.tensor_proof) == 7  # 95 ops: a positional tree of depth 7
    result = world.challenge("score", *world.score_args(world.answer(), 0))
    assert world.resolved(result).challenger_won is False


# ---- claims that hold: the operator is slashed -------------------------------------------------


def assert_operator_slashed(
    world: World, result: TxResult, document: ReceiptDocument, dispute_id: int
) -> None:
    """The challenger has its bond back; the whole bond is taken, half burned and half kept by
    the registry for the challengers, whom it pays once the share window is over."""
    taken = OPERATOR_BOND
    pool = taken * REWARD_BPS // 10_000
    log = world.resolved(result)
    assert (log.dispute_id, log.digest, log.challenger_won) == (
        dispute_id,
        document.digest(),
        True,
    )
    assert (log.paid_to, log.amount) == (world.challenger.address, CHALLENGER_BOND)
    (slashed,) = world.chain.events_in(result, world.setup.registry.events.OperatorSlashed)
    assert (slashed.args.amount, slashed.args.burned, slashed.args.pool) == (
        taken,
        taken - pool,
        pool,
    )
    assert world.operator_state(world.operator.address) == (0, 0, True)
    assert world.balance(world.challenger.address) == FUNDS
    assert world.balance(BURN) == taken - pool
    assert world.balance(world.treasury) == 0
    assert world.balance(world.disputes.address) == 0
    registry = world.setup.registry
    collect = registry.functions.collect_reward(dispute_id)
    with pytest.raises(ContractRevert, match="the share window is still open"):
        world.chain.transact(world.setup.carol, collect)
    world.chain.advance_time(RESPONSE_WINDOW + 1)
    world.chain.transact(world.setup.carol, collect)  # anyone may relay it
    assert world.balance(world.challenger.address) == FUNDS + pool
    with pytest.raises(ContractRevert, match="no reward to collect"):
        world.chain.transact(world.setup.carol, collect)
    assert world.chain.call(world.disputes.functions.judged(document.digest())) is True
    dispute = world.dispute(dispute_id)
    assert (dispute["status"], dispute["digest"]) == (CHALLENGER_WON, document.digest())
    assert (dispute["operator"], dispute["challenger"]) == (
        world.operator.address,
        world.challenger.address,
    )


def test_wrong_score_is_slashed(world: World):
    results = world.honest()
    results[1] = Result(results[1].cid, results[1].score + 1)
    document = world.answer(results)
    result = world.challenge("score", *world.score_args(document, 1))
    opened = world.opened(result)
    assert (opened.kind, opened.challenger) == (KIND_SCORE, world.challenger.address)
    assert_operator_slashed(world, result, document, opened.dispute_id)


def test_results_out_of_order_are_slashed(world: World):
    document = world.answer(swapped(world.honest(), 2))
    result = world.challenge("order", *world.order_args(document, 2))
    assert world.opened(result).kind == KIND_ORDER
    assert_operator_slashed(world, result, document, world.opened(result).dispute_id)


def test_tie_broken_against_cid_order_is_slashed(world: World):
    honest = world.honest()
    assert honest[0].score == honest[1].score
    document = world.answer(swapped(honest, 0))
    result = world.challenge("order", *world.order_args(document, 0))
    assert_operator_slashed(world, result, document, world.opened(result).dispute_id)


def register_newer_snapshot(world: World) -> Snapshot:
    newer = world.snapshot.changed({cid_of(b"new passage"): np.ones(DIM, np.int8)}, [])
    world.chain.transact(
        world.operator,
        world.setup.registry.functions.register_snapshot(newer.root, world.model_root, len(newer)),
    )
    return newer


def test_stale_snapshot_is_slashed(world: World):
    newer = register_newer_snapshot(world)
    world.chain.advance_time(STALE_GRACE + 1)
    document = world.answer()
    result = world.challenge("stale", *world.common(document), newer.root)
    assert world.opened(result).kind == KIND_STALE
    assert_operator_slashed(world, result, document, world.opened(result).dispute_id)


def test_an_open_dispute_does_not_shield_the_receipt(world: World):
    """Were an open dispute to block others, an operator could park a false omission claim of
    its own on a bad receipt until the window closed."""
    honest = world.honest()
    document = world.answer(honest[1:])
    missing = world.position(honest[0].cid)
    opened = world.opened(world.challenge("omission", *world.omission_args(document, missing)))
    carol = world.setup.carol
    world.chain.transact(
        world.setup.alice, world.setup.token.functions.transfer(carol.address, CHALLENGER_BOND)
    )
    side = world.opened(world.challenge("score", *world.score_args(document, 0), sender=carol))
    assert side.dispute_id != opened.dispute_id
    assert world.dispute(side.dispute_id)["status"] == CHALLENGER_LOST
    assert world.dispute(opened.dispute_id)["status"] == OPEN


def test_omission_unrebutted_is_slashed_after_the_deadline(world: World):
    chain, disputes = world.chain, world.disputes
    honest = world.honest()
    document = world.answer(honest[1:])
    missing = world.position(honest[0].cid)
    result = world.challenge("omission", *world.omission_args(document, missing))
    opened = world.opened(result)
    assert opened.kind == KIND_OMISSION
    assert opened.deadline == chain.now() + RESPONSE_WINDOW
    assert chain.events_in(result, disputes.events.DisputeResolved) == []
    assert world.balance(disputes.address) == CHALLENGER_BOND
    dispute = world.dispute(opened.dispute_id)
    assert (dispute["status"], dispute["passage_key"]) == (OPEN, honest[0].key)
    timeout = disputes.functions.resolve_timeout(opened.dispute_id)
    with pytest.raises(ContractRevert, match="the response window is still open"):
        chain.transact(world.setup.carol, timeout)
    chain.advance_time(RESPONSE_WINDOW + 1)
    rebut = disputes.functions.rebut_omission(opened.dispute_id, result_entry(document, 0).as_arg())
    with pytest.raises(ContractRevert, match="the response window is over"):
        chain.transact(world.operator, rebut)
    resolved = chain.transact(world.setup.carol, timeout)
    assert_operator_slashed(world, resolved, document, opened.dispute_id)
    with pytest.raises(ContractRevert, match="dispute already resolved"):
        chain.transact(world.setup.carol, timeout)
    with pytest.raises(ContractRevert, match="no such dispute"):
        chain.transact(world.setup.carol, disputes.functions.resolve_timeout(99))


# ---- claims that fail: the challenger's bond goes to the operator ------------------------------


def assert_challenger_lost(world: World, result: TxResult, document: ReceiptDocument) -> None:
    cut = CHALLENGER_BOND * TREASURY_BPS // 10_000
    log = world.resolved(result)
    assert log.challenger_won is False
    assert world.chain.events_in(result, world.setup.registry.events.OperatorSlashed) == []
    assert (log.paid_to, log.amount) == (world.operator.address, CHALLENGER_BOND - cut)
    assert world.balance(world.challenger.address) == FUNDS - CHALLENGER_BOND
    assert world.balance(world.operator.address) == FUNDS - OPERATOR_BOND + CHALLENGER_BOND - cut
    assert world.balance(world.treasury) == cut
    assert world.balance(world.disputes.address) == 0
    assert world.operator_state(world.operator.address) == (OPERATOR_BOND, 0, False)
    assert world.chain.call(world.disputes.functions.judged(document.digest())) is False
    assert world.dispute(log.dispute_id)["status"] == CHALLENGER_LOST


def test_right_score_costs_the_challenger(world: World):
    document = world.answer()
    result = world.challenge("score", *world.score_args(document, 3))
    assert_challenger_lost(world, result, document)


def test_right_order_costs_the_challenger(world: World):
    document = world.answer()
    result = world.challenge("order", *world.order_args(document, 0))  # a tie, CIDs in order
    assert_challenger_lost(world, result, document)
    again = world.challenge("order", *world.order_args(document, 2))
    assert world.resolved(again).challenger_won is False


def test_fresh_snapshot_costs_the_challenger(world: World):
    newer = register_newer_snapshot(world)
    document = world.answer()  # issued within the grace period
    result = world.challenge("stale", *world.common(document), newer.root)
    assert_challenger_lost(world, result, document)


def test_stale_needs_the_operators_newer_snapshot(world: World):
    """A newer snapshot by someone else, or the receipt's own snapshot, proves nothing."""
    setup = world.setup
    setup.register(setup.carol, OPERATOR_BOND)
    newer = world.snapshot.changed({cid_of(b"carol's passage"): np.ones(DIM, np.int8)}, [])
    setup.chain.transact(
        setup.carol, setup.registry.functions.register_snapshot(newer.root, world.model_root, 11)
    )
    world.chain.advance_time(STALE_GRACE + 1)
    document = world.answer()
    result = world.challenge("stale", *world.common(document), world.snapshot.root)
    assert world.resolved(result).challenger_won is False
    result = world.challenge("stale", *world.common(document), newer.root)
    assert world.resolved(result).challenger_won is False
    assert world.operator_state(world.operator.address) == (OPERATOR_BOND, 0, False)


def test_omission_of_a_lower_passage_costs_the_challenger_at_once(world: World):
    document = world.answer()
    order = sorted(range(ITEMS), key=lambda i: (-int(world.scores[i]), i))
    result = world.challenge("omission", *world.omission_args(document, order[K]))
    assert world.opened(result).kind == KIND_OMISSION
    assert_challenger_lost(world, result, document)


def test_omission_rebutted_costs_the_challenger(world: World):
    chain, disputes = world.chain, world.disputes
    document = world.answer()
    claimed = world.position(document.results[1].cid)
    result = world.challenge("omission", *world.omission_args(document, claimed))
    dispute_id = world.opened(result).dispute_id
    wrong = disputes.functions.rebut_omission(dispute_id, result_entry(document, 2).as_arg())
    with pytest.raises(ContractRevert, match="entry key differs from the disputed passage"):
        chain.transact(world.operator, wrong)
    forged = result_entry(document, 1)
    bad_proof = (forged.rank, forged.key, forged.score + 1, list(forged.proof))
    with pytest.raises(ContractRevert, match="result proof does not match"):
        chain.transact(world.operator, disputes.functions.rebut_omission(dispute_id, bad_proof))
    rebut = disputes.functions.rebut_omission(dispute_id, result_entry(document, 1).as_arg())
    rebutted = chain.transact(world.operator, rebut)
    assert_challenger_lost(world, rebutted, document)
    with pytest.raises(ContractRevert, match="dispute already resolved"):
        chain.transact(world.operator, rebut)
    with pytest.raises(ContractRevert, match="dispute already resolved"):
        chain.transact(world.operator, disputes.functions.resolve_timeout(dispute_id))
    # The receipt was not judged against its operator, so another claim may follow.
    again = world.challenge("order", *world.order_args(document, 2))
    assert world.resolved(again).challenger_won is False


# ---- inputs that are refused before any claim is judged -----------------------------------------


def test_bad_signatures_are_refused(world: World):
    document = world.answer()
    receipt, signature, anchor = world.common(document)
    args = world.score_args(document, 0)[3:]
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = r + (n - s).to_bytes(32, "big") + bytes([55 - v])
    cases = {
        "signature is not the operator's": bytes(signature[:64]) + bytes([55 - v]),
        "signature s must be in the lower half": high_s,
        "signature v must be 27 or 28": bytes(signature[:64]) + b"\x00",
        "signature must be 65 bytes": bytes(signature[:64]),
    }
    for reason, bad in cases.items():
        with pytest.raises(ContractRevert, match=reason):
            world.challenge("score", receipt, bad, anchor, *args)
    other = sign_answer(
        world.setup.carol,
        document.domain,
        world.model_root,
        world.snapshot.root,
        QUESTION,
        Ranking(world.trace.root, document.results),
        fee=0,
        nonce=document.nonce,
        issued_at=int(document.receipt["issuedAt"]),
    )
    with pytest.raises(ContractRevert, match="signature is not the operator's"):
        world.challenge("score", receipt, other.signature, anchor, *args)
    stranger = sign_answer(
        world.setup.carol,
        document.domain,
        world.model_root,
        world.snapshot.root,
        QUESTION,
        Ranking(world.trace.root, document.results),
        fee=0,
        nonce=1,
        issued_at=world.chain.now(),
    )
    with pytest.raises(ContractRevert, match="not a bonded operator"):
        world.anchor(stranger, by=world.setup.carol)  # only a bonded operator anchors receipts
    in_ours = stranger.with_anchor(document.anchor)
    with pytest.raises(ContractRevert, match=r"not registered"):
        world.challenge("score", *world.score_args(in_ours, 0))
    assert world.balance(world.challenger.address) == FUNDS


def test_unanchored_receipts_are_refused(world: World):
    document = world.answer()
    receipt, signature, (batch_id, proof) = world.common(document)
    args = world.score_args(document, 0)[3:]
    with pytest.raises(ContractRevert, match="not a receipts batch"):
        world.challenge("score", receipt, signature, (batch_id + 1, proof), *args)
    with pytest.raises(ContractRevert, match="receipt is not in the anchored batch"):
        world.challenge("score", receipt, signature, (batch_id, proof[1:]), *args)
    as_content = world.anchor(document, kind=0)
    with pytest.raises(ContractRevert, match="not a receipts batch"):
        world.challenge("score", *world.score_args(as_content, 0))
    later = world.answer()  # its batch covers only its own nonce
    with pytest.raises(ContractRevert, match="nonce is not in the batch's range"):
        world.challenge("score", *world.score_args(document.with_anchor(later.anchor), 0))


def test_wrong_proofs_are_refused(world: World):
    document = world.answer()
    receipt, signature, anchor = world.common(document)
    entry, passage_arg, query = world.score_args(document, 0)[3:]
    other = world.score_args(document, 1)[4]
    flipped = bytes([passage_arg[2][0] ^ 1]) + passage_arg[2][1:]
    cases = {
        "result proof does not match": ((entry[0], entry[1], entry[2] + 1, entry[3]), passage_arg),
        "result rank is not below k": ((K, entry[1], entry[2], entry[3]), passage_arg),
        "passage proof does not match": (entry, (*passage_arg[:2], flipped, passage_arg[3])),
        "passage embedding must be 384 bytes": (entry, (*passage_arg[:2], b"", passage_arg[3])),
        "passage key differs from the result's key": (entry, other),
    }
    for reason, (bad_entry, bad_passage) in cases.items():
        with pytest.raises(ContractRevert, match=reason):
            world.challenge("score", receipt, signature, anchor, bad_entry, bad_passage, query)
    bad_query = (query[0], bytes(DIM), query[2])
    swapped_siblings = (query[0], query[1], [query[2][1], query[2][0], *query[2][2:]])
    for bad in (bad_query, swapped_siblings):
        with pytest.raises(ContractRevert, match="query embedding proof does not match"):
            world.challenge("score", receipt, signature, anchor, entry, passage_arg, bad)
    with pytest.raises(ContractRevert, match="the embedding is the trace's last op"):
        world.challenge(
            "score", receipt, signature, anchor, entry, passage_arg, (query[0] - 1, *query[1:])
        )
    with pytest.raises(ContractRevert, match="proof must have the trace tree's depth"):
        world.challenge(
            "score", receipt, signature, anchor, entry, passage_arg, (*query[:2], query[2][:-1])
        )
    with pytest.raises(ContractRevert, match="the two results are not neighbours"):
        world.challenge(
            "order",
            receipt,
            signature,
            anchor,
            result_entry(document, 0).as_arg(),
            result_entry(document, 2).as_arg(),
        )
    with pytest.raises(ContractRevert, match="the entry is not the last result"):
        world.challenge("omission", receipt, signature, anchor, entry, passage_arg, query)
    assert world.balance(world.challenger.address) == FUNDS


def test_missing_allowance_is_refused(world: World):
    document = world.answer()
    with pytest.raises(ContractRevert, match="insufficient allowance"):
        world.chain.transact(
            world.challenger,
            world.disputes.functions.challenge_score(*world.score_args(document, 0)),
        )


def test_challenge_window_closes(world: World):
    document = world.answer()
    world.chain.advance_time(CHALLENGE_WINDOW + 1)
    with pytest.raises(ContractRevert, match="the challenge window is over"):
        world.challenge("score", *world.score_args(document, 0))


def test_deploy_names_the_slasher(world: World):
    registry, disputes = world.setup.registry, world.disputes
    assert world.chain.call(registry.functions.slasher()) == disputes.address
    assert world.chain.call(disputes.functions.challenger_bond()) == CHALLENGER_BOND
    assert world.chain.call(disputes.functions.treasury()) == world.treasury
    with pytest.raises(ContractRevert, match="treasury share above 10000 bps"):
        world.chain.deploy(
            world.setup.owner,
            "Disputes",
            world.setup.token.address,
            registry.address,
            1,
            1,
            1,
            0,
            world.treasury,
            10_001,
            world.chain.call(disputes.functions.step_verifier()),
        )


# ---- conservation over random disputes ----------------------------------------------------------


def faulty_receipt(world: World, operator: Signer, kind: int, holds: bool):
    """A receipt by `operator` and the challenge that the contract will judge as `holds`."""
    honest = world.honest()
    if kind == KIND_SCORE:
        results = list(honest)
        if holds:
            results[2] = Result(results[2].cid, results[2].score - 3)
        document = world.answer(results, operator=operator)
        return document, "score", world.score_args(document, 2)
    if kind == KIND_ORDER:
        document = world.answer(swapped(honest, 1) if holds else honest, operator=operator)
        return document, "order", world.order_args(document, 1)
    if kind == KIND_STALE:
        newer = world.snapshot.changed(
            {cid_of(b"item %d" % next(world.keys)): np.ones(DIM, np.int8)}, []
        )
        registry = world.setup.registry
        world.chain.transact(
            operator, registry.functions.register_snapshot(newer.root, world.model_root, 11)
        )
        if holds:
            world.chain.advance_time(STALE_GRACE + 1)
        document = world.answer(operator=operator)
        return document, "stale", (*world.common(document), newer.root)
    document = world.answer(honest[1:] if holds else honest, operator=operator)
    return document, "omission", world.omission_args(document, world.position(honest[0].cid))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from([KIND_SCORE, KIND_ORDER, KIND_STALE, KIND_OMISSION]),
    holds=st.booleans(),
    rebut=st.booleans(),
)
def test_random_disputes_conserve_tokens(world: World, kind: int, holds: bool, rebut: bool):
    chain, setup, disputes = world.chain, world.setup, world.disputes
    operator = world.new_operator()
    challenger = setup.bob
    accounts = [operator.address, challenger.address, world.treasury]
    accounts += [disputes.address, setup.registry.address, setup.alice.address, setup.carol.address]
    accounts.append(BURN)
    before = {a: world.balance(a) for a in accounts}
    supply = chain.call(setup.token.functions.totalSupply())
    _, name, args = faulty_receipt(world, operator, kind, holds)
    result = world.challenge(name, *args, sender=challenger)
    if kind == KIND_OMISSION and holds:
        dispute_id = world.opened(result).dispute_id
        if rebut:  # the passage is not a result: no rebuttal proof exists, so time runs out
            with pytest.raises(ContractRevert):
                chain.transact(setup.carol, disputes.functions.rebut_omission(dispute_id, args[3]))
        chain.advance_time(RESPONSE_WINDOW + 1)
        result = chain.transact(setup.carol, disputes.functions.resolve_timeout(dispute_id))
    log = world.resolved(result)
    assert log.challenger_won is holds
    after = {a: world.balance(a) for a in accounts}
    assert sum(after.values()) == sum(before.values())
    assert chain.call(setup.token.functions.totalSupply()) == supply
    assert all(value >= 0 for value in after.values())
    taken = OPERATOR_BOND if holds else 0
    pool = taken * REWARD_BPS // 10_000
    cut = 0 if holds else CHALLENGER_BOND * TREASURY_BPS // 10_000
    assert after[world.treasury] - before[world.treasury] == cut
    assert after[BURN] - before[BURN] == taken - pool
    assert after[challenger.address] - before[challenger.address] == (
        0 if holds else -CHALLENGER_BOND
    )
    assert after[disputes.address] == 0
    if holds:  # the challenger's share, once the share window is over
        chain.advance_time(RESPONSE_WINDOW + 1)
        registry = setup.registry
        chain.transact(setup.carol, registry.functions.collect_reward(log.dispute_id))
        assert world.balance(challenger.address) - before[challenger.address] == pool
