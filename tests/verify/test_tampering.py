"""Every kind of tampering is rejected by the rule it breaks, and only by that rule: a changed
receipt field, changed contents, a wrong signer, a foreign domain, a foreign, unregistered or
stale snapshot, a reused nonce, a wrong anchor proof, token ids that are not the trace's. Input
that is not a receipt document at all is `MalformedReceipt`, never any other error."""

import itertools
import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.chain import read_snapshot
from aigora.content.anchoring import anchor_all
from aigora.content.signed import domain_for
from aigora.core.keystore import Signer
from aigora.engine import trace_op_count
from aigora.index import AdmissionPolicy
from aigora.store import session_scope
from aigora.store.content_models import ContentScoreRecord, ReputationRun
from aigora.verify import (
    Anchor,
    MalformedReceipt,
    ReceiptDocument,
    Result,
    first_token_difference,
    loads_document,
    parse_document,
    proves_tokens,
    query_hash,
    rank,
    result_tree,
    sign_answer,
    sign_receipt,
    stored_receipt,
)
from aigora.verify._verify import ANCHOR_DEADLINE_S, STALE_GRACE_S

QUESTION = "Which car is best for a family of five?"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
# Nonces for receipts signed by hand: far above what the node's own ledger issues, unique per call.
_NONCES = itertools.count(2**40)

bytes32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
private_keys = st.integers(1, SECP256K1_N - 1).map(lambda n: n.to_bytes(32, "big"))
FIELD_VALUES = {
    "operator": addresses,
    "modelRoot": bytes32,
    "snapshotRoot": bytes32,
    "queryHash": bytes32,
    "traceRoot": bytes32,
    "resultHash": bytes32,
    "k": st.integers(0, 2**32 - 1),
    "fee": st.integers(0, 2**256 - 1),
    "nonce": st.integers(0, 2**256 - 1),
    "issuedAt": st.integers(0, 2**64 - 1),
}
CAUGHT_BY = {"queryHash": "query", "resultHash": "results", "k": "results"}
"""Fields the contents check catches before the signature; every other field breaks the
signature (the recovered signer is no longer the operator the receipt names)."""


def signed_answer(
    world, query: str, *, k: int = 3, fee: int = 0, issued_at: int | None = None, snapshot=None
) -> ReceiptDocument:
    """An honest ranking signed by the world's operator by hand, under a fresh nonce."""
    current, index = world.answers.current()
    if snapshot is not None:
        current, index = snapshot
    ranking = rank(world.answers.encoder(), current, index, query, k)
    when = issued_at if issued_at is not None else max(int(time.time()), world.context.chain.now())
    return sign_answer(
        world.context.operator,
        world.context.domain,
        world.answers.model.root,
        current.root,
        query,
        ranking,
        fee,
        next(_NONCES),
        when,
    )


def resigned(document: ReceiptDocument, signer, **receipt_fields) -> ReceiptDocument:
    receipt = {**document.receipt, **receipt_fields}
    return replace(
        document, receipt=receipt, signature=sign_receipt(signer, document.domain, receipt)
    )


def rerooted(document: ReceiptDocument, results: tuple[Result, ...]) -> ReceiptDocument:
    """Changed results with k and resultHash made to match them (the signature then cannot)."""
    receipt = {**document.receipt, "k": len(results), "resultHash": result_tree(results).root_hex}
    return replace(document, receipt=receipt, results=results)


@pytest.fixture(scope="module")
def honest(world) -> ReceiptDocument:
    return world.answers.ask(QUESTION, 4)


def test_the_honest_receipt_verifies_every_time(world, honest):
    assert loads_document(honest.dumps()) == honest
    first = world.answers.verify(honest)
    assert first.valid, first.reason
    assert first.digest == "0x" + honest.digest().hex()
    again = world.answers.verify(loads_document(honest.dumps()))
    assert again.valid, again.reason  # the same receipt twice is not a reused nonce


# -- changed fields and contents ---------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_any_changed_receipt_field_is_rejected_by_its_rule(world, honest, data):
    field = data.draw(st.sampled_from(sorted(FIELD_VALUES)))
    old = honest.receipt[field]
    new = data.draw(
        FIELD_VALUES[field].filter(lambda v: str(v).lower() != str(old).lower()), label=field
    )
    tampered = replace(honest, receipt={**honest.receipt, field: new})
    verdict = world.answers.verify(loads_document(tampered.dumps()))
    assert not verdict.valid
    assert verdict.check == CAUGHT_BY.get(field, "signature"), verdict.reason
    if verdict.check == "signature":
        assert f"not by the operator {tampered.operator}" in verdict.reason


@settings(deadline=None, max_examples=25)
@given(query=st.text(min_size=1, max_size=60).filter(lambda q: q.strip() and q != QUESTION))
def test_a_changed_query_is_caught_by_its_hash_then_by_the_signature(world, honest, query):
    changed = replace(honest, query=query)
    verdict = world.answers.verify(changed)
    assert (verdict.valid, verdict.check) == (False, "query")
    rehashed = replace(
        changed, receipt={**honest.receipt, "queryHash": "0x" + query_hash(query).hex()}
    )
    verdict = world.answers.verify(rehashed)
    assert (verdict.valid, verdict.check) == (False, "signature")


@st.composite
def changed_results(draw, results: tuple[Result, ...]) -> tuple[Result, ...]:
    """Reordered, dropped, rescored or duplicated results: anything but the signed ones."""
    how = draw(st.sampled_from(["reorder", "drop", "rescore", "duplicate"]))
    if how == "reorder":
        order = draw(st.permutations(range(len(results))).filter(lambda p: list(p) != sorted(p)))
        return tuple(results[i] for i in order)
    at = draw(st.integers(0, len(results) - 1))
    if how == "drop":
        return results[:at] + results[at + 1 :]
    if how == "rescore":
        delta = draw(st.integers(-(2**40), 2**40).filter(bool))
        rescored = replace(results[at], score=results[at].score + delta)
        return (*results[:at], rescored, *results[at + 1 :])
    other = draw(st.integers(0, len(results) - 1).filter(lambda i: i != at))
    return (*results[:at], results[other], *results[at + 1 :])


@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_changed_results_are_caught_by_the_contents_then_by_the_signature(world, honest, data):
    results = data.draw(changed_results(honest.results))
    assert results != honest.results
    verdict = world.answers.verify(replace(honest, results=results))
    assert (verdict.valid, verdict.check) == (False, "results")
    if len({r.cid for r in results}) < len(results):
        verdict = world.answers.verify(rerooted(honest, results))
        assert (verdict.valid, verdict.check) == (False, "results")
        assert "twice" in verdict.reason
    else:
        verdict = world.answers.verify(rerooted(honest, results))
        assert (verdict.valid, verdict.check) == (False, "signature")


# -- signers and domains -----------------------------------------------------------------------


@settings(deadline=None, max_examples=10)
@given(key=private_keys)
def test_a_receipt_signed_by_another_key_is_rejected(world, honest, key):
    stranger = Signer.dev(key)
    as_itself = world.answers.verify(resigned(honest, stranger, operator=stranger.address))
    assert (as_itself.valid, as_itself.check) == (False, "operator")
    assert f"{stranger.address} is not a registered operator" in as_itself.reason
    as_operator = world.answers.verify(resigned(honest, stranger))
    assert (as_operator.valid, as_operator.check) == (False, "signature")
    assert f"signed by {stranger.address}" in as_operator.reason


@settings(deadline=None, max_examples=10)
@given(offset=st.integers(1, 2**40))
def test_a_receipt_for_another_chain_is_foreign(world, honest, offset):
    domain = domain_for(honest.domain.chain_id + offset, honest.domain.verifying_contract)
    foreign = replace(honest, domain=domain)
    foreign = replace(
        foreign, signature=sign_receipt(world.context.operator, domain, foreign.receipt)
    )
    verdict = world.answers.verify(loads_document(foreign.dumps()))
    assert (verdict.valid, verdict.check) == (False, "domain")
    assert f"chain {domain.chain_id}" in verdict.reason


@settings(deadline=None, max_examples=10)
@given(registry=addresses)
def test_a_receipt_for_another_registry_is_foreign(world, honest, registry):
    if registry.lower() == honest.domain.verifying_contract.lower():
        registry = to_checksum_address("0x" + "ee" * 20)
    domain = domain_for(honest.domain.chain_id, registry)
    foreign = replace(honest, domain=domain)
    foreign = replace(
        foreign, signature=sign_receipt(world.context.operator, domain, foreign.receipt)
    )
    verdict = world.answers.verify(foreign)
    assert (verdict.valid, verdict.check) == (False, "domain")
    assert f"registry {registry}" in verdict.reason


# -- nonces ------------------------------------------------------------------------------------

queries = st.sampled_from(
    [QUESTION, "Which fruit is rich in potassium?", "Is an electric car cheap to run?"]
)


@settings(deadline=None, max_examples=5)
@given(first_query=queries, second_query=queries, k=st.integers(1, 8))
def test_a_nonce_names_one_receipt(world, first_query, second_query, k):
    first = signed_answer(world, first_query, k=k)
    second = resigned(
        signed_answer(world, second_query, k=k, fee=1), world.context.operator, nonce=first.nonce
    )
    assert first.digest() != second.digest()
    assert world.answers.verify(first).valid
    reused = world.answers.verify(second)
    assert (reused.valid, reused.check) == (False, "nonce")
    assert f"0x{first.digest().hex()}" in reused.reason
    assert world.answers.verify(first).valid, "the first holder of a nonce keeps it"


def test_a_nonce_beyond_64_bits_gets_a_verdict(world):
    """A nonce is a uint256: the verifier's memory of nonces must hold any of them."""
    big = 2**64 + next(_NONCES)
    first = resigned(signed_answer(world, QUESTION), world.context.operator, nonce=big)
    verdict = world.answers.verify(first)
    assert verdict.valid, verdict.reason
    second = resigned(signed_answer(world, QUESTION, fee=1), world.context.operator, nonce=big)
    reused = world.answers.verify(second)
    assert (reused.valid, reused.check) == (False, "nonce")


# -- snapshots ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rival(world) -> SimpleNamespace:
    """A second bonded operator with its own model and snapshots in the same registry."""
    chain, deployment = world.context.chain, world.context.deployment
    token, registry = deployment.token, deployment.registry
    signer = chain.dev_signers()[1]
    bond = world.context.config.chain.min_bond
    chain.transact(world.context.operator, token.functions.mint(signer.address, bond))
    chain.transact(signer, token.functions.approve(registry.address, bond))
    chain.transact(signer, registry.functions.register_operator(bond, "none"))
    own_model = os.urandom(32)
    chain.transact(signer, registry.functions.register_model(own_model, "test/1"))
    on_real_model, on_own_model = os.urandom(32), os.urandom(32)
    real_model = world.answers.model.root
    chain.transact(signer, registry.functions.register_snapshot(on_real_model, real_model, 8))
    chain.transact(signer, registry.functions.register_snapshot(on_own_model, own_model, 8))
    return SimpleNamespace(
        signer=signer,
        own_model=own_model,
        on_real_model=on_real_model,
        on_own_model=on_own_model,
    )


def test_a_snapshot_registered_by_another_operator_is_foreign(world, honest, rival):
    """Registrations are per operator: the rival's registration of a root is not the
    operator's, so citing it fails (and squatting the operator's next root blocks nothing)."""
    root = "0x" + rival.on_real_model.hex()
    document = resigned(honest, world.context.operator, snapshotRoot=root)
    verdict = world.answers.verify(document)
    assert (verdict.valid, verdict.check) == (False, "snapshot")
    assert "not registered here by the operator" in verdict.reason


def test_a_snapshot_registered_for_another_model_is_rejected(world, honest, rival):
    document = resigned(
        honest,
        rival.signer,
        operator=rival.signer.address,
        snapshotRoot="0x" + rival.on_own_model.hex(),
    )
    verdict = world.answers.verify(document)
    assert (verdict.valid, verdict.check) == (False, "snapshot")
    assert f"registered for model 0x{rival.own_model.hex()}" in verdict.reason


@settings(deadline=None, max_examples=10)
@given(root=bytes32)
def test_an_unregistered_snapshot_or_model_is_rejected(world, honest, root):
    snapshot = world.answers.verify(resigned(honest, world.context.operator, snapshotRoot=root))
    assert (snapshot.valid, snapshot.check) == (False, "snapshot")
    assert f"snapshot {root} is not registered" in snapshot.reason
    model = world.answers.verify(resigned(honest, world.context.operator, modelRoot=root))
    assert (model.valid, model.check) == (False, "model")
    assert f"model {root} is not registered" in model.reason


@pytest.fixture(scope="module")
def superseded(open_world_at, tmp_path_factory) -> SimpleNamespace:
    """A world whose operator registered a newer snapshot an hour ago (chain time)."""
    w = open_world_at(tmp_path_factory.mktemp("stale") / "node")
    old = w.answers.current()
    w.publish("The Chrysler Pacifica hybrid minivan seats eight and plugs in at home.")
    state = w.answers.refresh()
    assert state.changed
    registry = w.context.deployment.registry
    operator = w.context.operator.address
    root = bytes.fromhex(state.root[2:])
    registered_at = read_snapshot(w.context.chain, registry, operator, root).timestamp
    w.context.chain.advance_time(3600)
    return SimpleNamespace(world=w, old=old, new_root=state.root, registered_at=registered_at)


def test_answers_from_the_newest_snapshot_stay_valid(superseded):
    verdict = superseded.world.answers.verify(superseded.world.answers.ask(QUESTION, 3))
    assert verdict.valid, verdict.reason


@settings(deadline=None, max_examples=8)
@given(delay=st.integers(0, 3 * STALE_GRACE_S))
def test_an_older_snapshot_is_stale_only_after_the_grace(superseded, delay):
    document = signed_answer(
        superseded.world,
        QUESTION,
        snapshot=superseded.old,
        issued_at=superseded.registered_at + delay,
    )
    verdict = superseded.world.answers.verify(document)
    if delay > STALE_GRACE_S:
        assert (verdict.valid, verdict.check) == (False, "snapshot")
        assert "stale" in verdict.reason
        assert superseded.new_root in verdict.reason
    else:
        assert verdict.valid, verdict.reason


# -- anchors -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def anchored(world) -> SimpleNamespace:
    document = world.answers.ask("Which minivan is the most reliable?", 2)
    digest = "0x" + document.digest().hex()
    pending = stored_receipt(world.context.db, digest)
    context = world.context
    batches = anchor_all(context.db, context.chain, context.deployment.registry, context.operator)
    return SimpleNamespace(
        pending=pending,
        document=stored_receipt(context.db, digest),
        batches={b.kind: b.batch_id for b in batches},
    )


def test_a_copy_without_its_proof_verifies_with_a_note(world, anchored):
    """The copy taken before anchoring: its batch is on-chain now (the operator has anchored past
    its nonce), so the note says where to get the proof rather than "check again later"."""
    assert anchored.pending.anchor is None
    verdict = world.answers.verify(anchored.pending)
    assert verdict.valid, verdict.reason
    assert any("carries no anchor proof" in note for note in verdict.notes)


def test_an_anchored_receipt_carries_a_proof_that_verifies(world, anchored):
    assert anchored.document.anchor is not None
    assert anchored.document.anchor.batch_id == anchored.batches["receipts"]
    verdict = world.answers.verify(loads_document(anchored.document.dumps()))
    assert verdict.valid, verdict.reason
    assert not any("not anchored" in note for note in verdict.notes)


@settings(deadline=None, max_examples=20)
@given(proof=st.lists(bytes32, max_size=4))
def test_a_wrong_anchor_proof_is_rejected(world, anchored, proof):
    anchor = anchored.document.anchor
    if tuple(proof) == anchor.proof:
        proof = [*proof, "0x" + "00" * 32]
    verdict = world.answers.verify(
        anchored.document.with_anchor(Anchor(anchor.batch_id, tuple(proof)))
    )
    assert (verdict.valid, verdict.check) == (False, "anchor")
    assert f"batch {anchor.batch_id}" in verdict.reason


def test_a_wrong_anchor_batch_is_rejected(world, anchored):
    proof = anchored.document.anchor.proof
    missing = world.answers.verify(anchored.document.with_anchor(Anchor(10**6, proof)))
    assert (missing.valid, missing.check) == (False, "anchor")
    assert "not anchored" in missing.reason
    content = Anchor(anchored.batches["content"], proof)
    wrong_kind = world.answers.verify(anchored.document.with_anchor(content))
    assert (wrong_kind.valid, wrong_kind.check) == (False, "anchor")
    assert "not a batch of receipts" in wrong_kind.reason


# -- token ids ---------------------------------------------------------------------------------


def test_the_receipt_carries_the_query_tokens_proven_against_its_trace_root(world, honest):
    encoder = world.answers.encoder()
    assert list(honest.tokens.ids) == encoder.tokenize([QUESTION])[0].tolist()
    assert honest.to_json()["tokens"]["ids"] == list(honest.tokens.ids)
    _, trace = encoder.embed_with_trace(QUESTION)
    assert trace_op_count(world.answers.model.header) == len(trace)
    assert proves_tokens(honest, len(trace))
    assert not proves_tokens(honest, len(trace) * 2)  # a proof of another tree's depth


def _ids_changed(document):
    ids = document.tokens.ids
    return replace(document, tokens=replace(document.tokens, ids=(*ids[:2], ids[2] + 1, *ids[3:])))


def _id_appended(document):
    return replace(document, tokens=replace(document.tokens, ids=(*document.tokens.ids, 102)))


def _proof_flipped(document):
    first, *rest = document.tokens.proof
    flipped = bytes([first[0] ^ 1]) + first[1:]
    return replace(document, tokens=replace(document.tokens, proof=(flipped, *rest)))


def _proof_cut(document):
    return replace(document, tokens=replace(document.tokens, proof=document.tokens.proof[:-1]))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_ids_changed, "not op 0 of its traceRoot"),
        (_id_appended, "not op 0 of its traceRoot"),
        (_proof_flipped, "not op 0 of its traceRoot"),
        (_proof_cut, "not op 0 of its traceRoot"),
        (lambda d: replace(d, tokens=None), "does not carry the token ids"),
    ],
)
def test_token_ids_that_are_not_the_trace_s_are_invalid(world, honest, tamper, reason):
    """The token ids are outside the signed struct but inside `traceRoot`: any change to them or
    their proof is caught by the tokens check, before re-execution."""
    tampered = loads_document(tamper(honest).dumps())
    verdict = world.answers.verify(tampered)
    assert (verdict.valid, verdict.check) == (False, "tokens")
    assert reason in verdict.reason


def test_the_first_token_difference_names_position_ids_and_strings():
    names = {101: "[CLS]", 2029: "which", 102: "[SEP]", 10460: "sponsor"}
    assert first_token_difference([101, 2029, 102], [101, 2029, 102], names.get) is None
    assert first_token_difference([101, 2029, 10460, 102], [101, 2029, 102], names.get) == {
        "position": 2,
        "claimed": {"id": 10460, "token": "sponsor"},
        "expected": {"id": 102, "token": "[SEP]"},
    }
    longer = first_token_difference([101, 2029, 102, 102], [101, 2029, 102], names.get)
    assert longer == {"position": 3, "claimed": {"id": 102, "token": "[SEP]"}, "expected": None}
    shorter = first_token_difference([101], [101, 2029], names.get)
    assert shorter == {"position": 1, "claimed": None, "expected": {"id": 2029, "token": "which"}}


# -- malformed input ---------------------------------------------------------------------------


def _set(path: tuple, value):
    def mutate(data: dict) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return mutate


_DELETE = object()
MALFORMED = {
    "no version": _set(("version",), _DELETE),
    "version 3": _set(("version",), 3),
    "version 1 (before passages)": _set(("version",), 1),
    "no receipt": _set(("receipt",), _DELETE),
    "no results": _set(("results",), _DELETE),
    "empty results": _set(("results",), []),
    "receipt field missing": _set(("receipt", "traceRoot"), _DELETE),
    "extra receipt field": _set(("receipt", "tip"), 1),
    "bad hex root": _set(("receipt", "modelRoot"), "0x" + "zz" * 32),
    "short root": _set(("receipt", "snapshotRoot"), "0x" + "ab" * 31),
    "root without 0x": _set(("receipt", "queryHash"), "ab" * 33),
    "bad operator": _set(("receipt", "operator"), "0x1234"),
    "negative k": _set(("receipt", "k"), -1),
    "k as a float": _set(("receipt", "k"), 4.0),
    "k as a bool": _set(("receipt", "k"), True),
    "k beyond uint32": _set(("receipt", "k"), 2**32),
    "fee beyond uint256": _set(("receipt", "fee"), str(2**256)),
    "negative nonce": _set(("receipt", "nonce"), "-3"),
    "signature too short": _set(("signature",), "0x" + "ab" * 64),
    "non-Aigora domain": _set(("domain", "name"), "Uniswap"),
    "domain version 2": _set(("domain", "version"), "2"),
    "domain without chain": _set(("domain", "chainId"), _DELETE),
    "zero chain": _set(("domain", "chainId"), 0),
    "empty query": _set(("query",), "   "),
    "long query": _set(("query",), "q" * 2001),
    "rank numbers from 1": lambda d: [r.update(rank=i + 1) for i, r in enumerate(d["results"])],
    "ranks swapped": lambda d: d["results"].reverse(),
    "upper-case CID": lambda d: d["results"][0].update(cid=d["results"][0]["cid"].upper()),
    "score as text": _set(("results", 0, "score"), "high"),
    "anchor without proof": _set(("anchor",), {"batchId": 1}),
    "anchor proof not hex": _set(("anchor",), {"batchId": 1, "proof": ["0xnope"]}),
    "tokens as a list": _set(("tokens",), [101, 102]),
    "tokens without proof": _set(("tokens", "proof"), _DELETE),
    "no token ids": _set(("tokens", "ids"), []),
    "negative token id": _set(("tokens", "ids", 0), -1),
    "token id as a float": _set(("tokens", "ids", 0), 101.0),
    "token id as text": _set(("tokens", "ids", 0), "101"),
    "token id beyond int32": _set(("tokens", "ids", 0), 2**31),
    "tokens proof not hex": _set(("tokens", "proof", 0), "0xnope"),
    "tokens proof too deep": _set(("tokens", "proof"), ["0x" + "ab" * 32] * 33),
    # Integers as decimal strings: only digits, optionally one minus sign.
    "k with two minus signs": _set(("receipt", "k"), "--1"),
    "score with two minus signs": _set(("results", 0, "score"), "--5"),
    "k with 5000 digits": _set(("receipt", "k"), "1" * 5000),
    # A score is an int256 leaf of resultHash, like fee is a uint256: out of range is malformed.
    "score beyond int256": _set(("results", 0, "score"), 2**255),
    # Hex is exactly 0x and hex digits: no blanks that shorten the value.
    "signature with blanks": _set(("signature",), "0x" + "ab" * 64 + "  "),
    "anchor proof with blanks": _set(
        ("anchor",), {"batchId": 1, "proof": ["0x" + "ab" * 31 + "  "]}
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_documents_are_refused(honest, case):
    data = honest.to_json()
    MALFORMED[case](data)
    with pytest.raises(MalformedReceipt):
        parse_document(data)


@pytest.mark.parametrize("text", ["", "not json", "{", "[]", "null", "1", '"receipt"', b"\xff\xfe"])
def test_text_that_is_not_a_document_is_malformed(text):
    with pytest.raises(MalformedReceipt):
        loads_document(text)


TRICKY = ["--1", "-0", "0x", "0x" + "00" * 32, "0x" + "0" * 63 + " ", " 1", "1" * 5000, "١٢"]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**60)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(TRICKY),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(deadline=None, max_examples=200)
@given(junk=json_values)
def test_junk_is_malformed_never_another_error(junk):
    with pytest.raises(MalformedReceipt):
        parse_document(junk)
    with pytest.raises(MalformedReceipt):
        loads_document(json.dumps(junk))


def _paths(value, prefix=()):
    """Every path to a value inside decoded JSON."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@settings(deadline=None, max_examples=150)
@given(data=st.data())
def test_a_damaged_document_is_malformed_or_gets_a_verdict(world, honest, data):
    """Replace any one value in an honest document with junk: parsing refuses it with
    `MalformedReceipt`, or verification answers VALID/INVALID; nothing else ever escapes."""
    document = honest.to_json()
    path = data.draw(st.sampled_from(list(_paths(document))[1:]), label="path")
    _set(path, data.draw(json_values, label="junk"))(document)
    try:
        parsed = parse_document(document)
    except MalformedReceipt:
        return
    verdict = world.answers.verify(parsed)
    assert verdict.valid == (parsed == honest), verdict.reason


# -- operators that are leaving ------------------------------------------------------------------


def test_an_unbonding_operator_is_not_answerable_for_new_receipts(world, honest):
    """An operator asks to unbond its whole bond: receipts it issues from then on are INVALID
    (the bond only waits for receipts anchored before); one issued before still passes the
    operator rule (here it then fails on the snapshot, which is not this operator's)."""
    chain, deployment = world.context.chain, world.context.deployment
    token, registry = deployment.token, deployment.registry
    leaver = Signer.dev(os.urandom(32))
    chain.send_ether(world.context.operator, leaver.address, 10**18)
    bond = world.context.config.chain.min_bond
    chain.transact(world.context.operator, token.functions.mint(leaver.address, bond))
    chain.transact(leaver, token.functions.approve(registry.address, bond))
    chain.transact(leaver, registry.functions.register_operator(bond, "none"))
    before = resigned(
        honest, leaver, operator=leaver.address, issuedAt=chain.now(), nonce=next(_NONCES)
    )
    chain.advance_time(10)
    chain.transact(leaver, registry.functions.request_unbond(bond))
    after = resigned(
        honest, leaver, operator=leaver.address, issuedAt=chain.now() + 1, nonce=next(_NONCES)
    )
    late = world.answers.verify(after)
    assert (late.valid, late.check) == (False, "operator")
    assert "not answerable for receipts issued since" in late.reason
    early = world.answers.verify(before)
    assert (early.valid, early.check) == (False, "snapshot")


def test_content_shrinking_back_to_an_older_set_is_served_under_a_new_root(open_world_at, tmp_path):
    """A passage is published, snapshotted, then rated "not helpful" and dropped: the admitted set
    equals the first snapshot's again. The node registers and serves a new root (the next
    generation), neither the first root (registered earlier, so its answers would look stale)
    nor the second (which still holds the dropped passage), and its answers verify."""
    w = open_world_at(tmp_path / "node")
    first = w.answers.current()[0]
    dropped = w.publish("A minivan review that the community will rate as not helpful.")
    grown = w.answers.refresh()
    assert grown.changed
    with session_scope(w.context.db) as session:
        run = ReputationRun(
            algorithm_version="test",
            attestation_root="0x" + "00" * 32,
            attestation_count=0,
            params_json="{}",
            result_cid="test",
            result_digest="0x" + "00" * 32,
            computed_at=datetime.now(UTC),
        )
        session.add(run)
        session.flush()
        for cid in (*first.cids, dropped):
            status = "not helpful" if cid == dropped else "helpful"
            session.add(
                ContentScoreRecord(
                    run_id=run.id,
                    cid=cid,
                    score=0.5,
                    ci_low=0.4,
                    ci_high=0.6,
                    factor=0.0,
                    n_ratings=5,
                    status=status,
                )
            )
    w.answers.policy = lambda: AdmissionPolicy(exclude_statuses=("not helpful",))
    w.context.chain.advance_time(STALE_GRACE_S + 1)
    shrunk = w.answers.refresh()
    assert shrunk.changed
    assert shrunk.root not in (first.root_hex, grown.root)
    served = w.answers.current()[0]
    assert (served.root_hex, served.cids) == (shrunk.root, first.cids)
    w.context.chain.advance_time(STALE_GRACE_S + 1)
    verdict = w.answers.verify(w.answers.ask(QUESTION, 3))
    assert verdict.valid, verdict.reason


def test_a_receipt_left_unanchored_past_the_deadline_is_not_backed(open_world_at, tmp_path):
    """An operator that never anchors a receipt keeps it out of every dispute: a day after it
    was issued, verify calls it unbacked (a world of its own: chain time moves a day)."""
    w = open_world_at(tmp_path / "node")
    document = signed_answer(w, QUESTION)  # signed, never recorded, so never anchored
    fresh = w.answers.verify(document)
    assert fresh.valid, fresh.reason
    assert any("not anchored yet" in note for note in fresh.notes)
    w.context.chain.advance_time(ANCHOR_DEADLINE_S + 60)
    verdict = w.answers.verify(document)
    assert (verdict.valid, verdict.check) == (False, "anchor")
    assert "nobody can challenge it" in verdict.reason
