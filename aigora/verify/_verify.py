"""Verifying a receipt: every rule as a small function, then re-execution from public data.

`verify` answers VALID, or INVALID with the rule that failed, a reason a person can act on and,
for a wrong ranking, the first point of difference (rank, claimed CID and score, recomputed CID
and score); for token ids that are not the query's, the first differing position (both ids and
their token strings). Input that is not a receipt at all is `MalformedReceipt`, which callers
report as unusable input rather than INVALID. Rules run cheapest first; tokenization runs once
the model is fetched, re-execution last.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from aigora.chain import ZERO_ADDRESS
from aigora.core.cid import digest_of
from aigora.core.errors import AigoraError
from aigora.core.merkle import leaf_hash, process_proof
from aigora.engine import TOKENS_OP, Encoder, IntModel, trace_op_count, verify_trace_op
from aigora.index import DEFAULT_DUPLICATE_THRESHOLD, Snapshot
from aigora.verify._answer import rank
from aigora.verify._receipt import (
    MAX_K,
    RECEIPT_LEAF,
    ReceiptDocument,
    Result,
    query_hash,
    recover_receipt_signer,
    result_tree,
)
from aigora.verify._registry import DISPUTES_PARAMETERS, DeploymentFacts, RegistryFacts
from aigora.verify._sources import PublicData

KIND_RECEIPTS = 2
STALE_GRACE_S = 600
"""An operator may keep answering from its previous snapshot this long after registering a new
one (answers in flight); after that, answering from an old snapshot hides newer content."""
CLOCK_SKEW_S = 300
ANCHOR_DEADLINE_S = 24 * 3600
"""How long after issuing a receipt its operator has to anchor it. A node anchors every
`anchor_interval_s` (30 s by default), so a day covers a node that was down for hours; a receipt
still unanchored after that cannot be challenged, so nothing backs it."""


class Invalid(Exception):
    """A rule failed: `check` names it, `reason` says why, `difference` locates a wrong ranking."""

    def __init__(self, check: str, reason: str, difference: dict[str, Any] | None = None):
        super().__init__(reason)
        self.check = check
        self.reason = reason
        self.difference = difference


@dataclass(frozen=True)
class Verdict:
    valid: bool
    check: str
    reason: str
    digest: str
    difference: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def word(self) -> str:
        return "VALID" if self.valid else "INVALID"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.word,
            "check": self.check,
            "reason": self.reason,
            "digest": self.digest,
            "difference": self.difference,
            "notes": list(self.notes),
        }


class NonceLedger(Protocol):
    """Receipts a verifier has seen: one (domain, operator, nonce) must name one digest."""

    def remember(self, document: ReceiptDocument, digest: bytes) -> bytes | None:
        """Record the receipt; return the digest of a different receipt already seen under the
        same nonce, else None."""
        ...


# -- the rules ---------------------------------------------------------------------------------


def check_domain(document: ReceiptDocument, expected_chain_id: int, expected_registry: str) -> None:
    domain = document.domain
    if domain.chain_id != expected_chain_id:
        raise Invalid(
            "domain",
            f"the receipt is for chain {domain.chain_id}, not this chain ({expected_chain_id})",
        )
    if domain.verifying_contract.lower() != expected_registry.lower():
        raise Invalid(
            "domain",
            f"the receipt is for registry {domain.verifying_contract}, not {expected_registry}",
        )


def check_model_pin(document: ReceiptDocument, pinned_model: bytes | None) -> None:
    """A verifier that pins a model accepts answers under that model alone: an operator may
    register an edited model openly, and registration says nothing about what the model is."""
    if pinned_model is None:
        return
    model_root = document.receipt["modelRoot"]
    if model_root.lower() != "0x" + pinned_model.hex():
        raise Invalid(
            "model",
            f"the receipt answers under model {model_root}, not the pinned model "
            f"0x{pinned_model.hex()}",
        )


def check_contents(document: ReceiptDocument) -> None:
    """The query and results in the document are the ones the receipt commits to."""
    receipt = document.receipt
    if receipt["queryHash"] != "0x" + query_hash(document.query).hex():
        raise Invalid("query", "the query text does not match the receipt's queryHash")
    if int(receipt["k"]) != len(document.results) or not 1 <= len(document.results) <= MAX_K:
        raise Invalid(
            "results",
            f"the receipt says k={receipt['k']} but lists {len(document.results)} results",
        )
    keys = [r.key for r in document.results]
    if len(set(keys)) != len(keys):
        raise Invalid("results", "a passage appears twice in the results")
    if result_tree(document.results).root_hex != receipt["resultHash"]:
        raise Invalid("results", "the listed results do not match the receipt's resultHash")


def check_signature(document: ReceiptDocument) -> None:
    try:
        signer = recover_receipt_signer(document)
    except AigoraError as exc:
        raise Invalid("signature", f"the signature is malformed: {exc}") from None
    if signer.lower() != document.operator.lower():
        raise Invalid(
            "signature", f"signed by {signer}, not by the operator {document.operator} it names"
        )


def check_registry_code(facts: DeploymentFacts) -> None:
    """The registry is ours: a contract of other code can say anything about operators."""
    if not facts.registry_genuine:
        raise Invalid(
            "registry", f"the registry {facts.registry} does not run Aigora's Registry.vy code"
        )


def check_slasher(facts: DeploymentFacts) -> None:
    """The registry's slasher is our disputes contract, wired to this registry, its token and our
    step verifier: only then can a cheating operator lose its bond."""
    slasher = facts.slasher
    if slasher == ZERO_ADDRESS:
        raise Invalid(
            "slasher",
            f"the registry {facts.registry} names no slasher, so no dispute can take a bond",
        )
    if not facts.slasher_genuine:
        raise Invalid(
            "slasher",
            f"the registry's slasher {slasher} does not run Aigora's Disputes.vy code, so "
            "disputes may never take a bond",
        )
    links = facts.links
    if links["registry"].lower() != facts.registry.lower():
        raise Invalid(
            "slasher",
            f"the registry's slasher {slasher} judges for registry {links['registry']}, "
            f"not {facts.registry}",
        )
    if links["token"].lower() != facts.token.lower():
        raise Invalid(
            "slasher",
            f"the registry's slasher {slasher} takes bonds in token {links['token']}, not the "
            f"registry's {facts.token}",
        )
    if not facts.step_verifier_genuine:
        raise Invalid(
            "slasher",
            f"the registry's slasher {slasher} steps with {links['step_verifier']}, which does "
            "not run Aigora's StepVerifier.vy code",
        )


def dispute_terms(facts: DeploymentFacts) -> list[str]:
    """The terms a challenger plays under, as verdict notes (checked by `check_slasher`)."""
    terms = ", ".join(
        f"{name} {facts.parameters[getter]} {unit}" for getter, name, unit in DISPUTES_PARAMETERS
    )
    # The registry holds a bond until its last receipts batch is past the challenge window and
    # no dispute is open, so a window longer than the unbonding delay loses nothing.
    return [f"disputes {facts.slasher}: {terms} (treasury {facts.links['treasury']})"]


def check_operator(document: ReceiptDocument, registry: RegistryFacts) -> None:
    """The operator is bonded and answerable: not slashed, and not leaving. An operator whose bond
    fell below the minimum (it asked to unbond it) is answerable only for receipts issued before
    it asked: the registry holds the bond for those until their challenge windows are over."""
    facts = registry.operator(document.operator)
    if not facts.registered:
        raise Invalid("operator", f"{document.operator} is not a registered operator")
    if facts.slashed:
        raise Invalid("operator", f"operator {document.operator} has been slashed")
    if facts.active:
        return
    since = facts.unbonding_since
    if since is None or int(document.receipt["issuedAt"]) >= since:
        raise Invalid(
            "operator",
            f"operator {document.operator} is leaving (bond {facts.bond} below the minimum"
            + ("" if since is None else f", unbonding since {since}")
            + "): it is not answerable for receipts issued since",
        )


@dataclass(frozen=True)
class AdmissionFacts:
    """What a verifier's own store makes of a snapshot's committed basis (`SnapshotBasis`):
    `policy_problem` when the committed policy is unknown or was not the one in force;
    `admitted` (text content the policy admits, in the universe), `refused` (CID -> the
    policy's reason), `reputation` (the digest of the run the universe gives), and what the
    store cannot decide: `missing_batches` (of the universe, not imported here) and
    `skipped_held` (batches the operator said nobody could serve, which this store holds),
    `skipped_only` (CIDs this store holds only from such batches). `late_batch` is (id, time)
    of a batch past the universe that was anchored more than the grace before the answer: the
    universe was frozen, not merely behind."""

    policy_problem: str | None
    admitted: frozenset[str] = frozenset()
    refused: Mapping[str, str] = field(default_factory=dict)
    reputation: bytes = bytes(32)
    missing_batches: tuple[int, ...] = ()
    skipped_held: tuple[int, ...] = ()
    late_batch: tuple[int, int] | None = None
    skipped_only: frozenset[str] = frozenset()
    published: Mapping[str, tuple] = field(default_factory=dict)
    """CID -> its publication order key (`aigora.index.Candidate.published`)."""
    duplicate_threshold: int = DEFAULT_DUPLICATE_THRESHOLD
    cuts: Mapping[str, tuple[tuple[int, int, int], ...]] = field(default_factory=dict)
    """CID -> the passage rule's (index, start, end) of each admitted document held here."""
    texts: Mapping[str, str] = field(default_factory=dict)
    """CID -> the text of the documents whose passages are re-embedded (a sample)."""
    embed: Callable[[list[str]], np.ndarray] | None = None
    """The registered model's engine, to re-embed `texts`' passages."""


def check_admission(snapshot: Snapshot, facts: AdmissionFacts) -> list[str]:
    """The snapshot holds exactly what its policy admits: the policy it names was in force, its
    scores are the run its universe gives, no admitted CID is missing (censorship) and no
    refused CID is in it. Returns notes on what could not be decided here."""
    basis = snapshot.basis
    if basis is None:
        raise Invalid("admission", "the snapshot commits to no policy, in a governed network")
    if facts.policy_problem is not None:
        raise Invalid("admission", facts.policy_problem)
    if facts.late_batch is not None:
        batch, at = facts.late_batch
        raise Invalid(
            "admission",
            f"the snapshot's universe stops at batch {basis.through_batch}, but batch {batch} "
            f"was anchored at {at}, longer than the grace before this answer: content and "
            "ratings since then were left out",
        )
    if facts.reputation != basis.reputation:
        raise Invalid(
            "admission",
            f"the snapshot's scores come from reputation run 0x{basis.reputation.hex()}, but "
            f"the batches up to {basis.through_batch} give run 0x{facts.reputation.hex()}",
        )
    held = snapshot.documents
    missing = sorted(facts.admitted - held, key=digest_of)
    if missing:
        raise Invalid(
            "admission",
            f"censorship: {missing[0]} is admitted by the policy in force but missing from "
            f"the snapshot ({len(missing)} admitted CID(s) missing)",
            {"cid": missing[0], "missing": len(missing)},
        )
    for cid in sorted(held, key=digest_of):
        if cid in facts.refused:
            raise Invalid(
                "admission",
                f"{cid} is in the snapshot, but the policy excludes it: {facts.refused[cid]}",
                {"cid": cid, "reason": facts.refused[cid]},
            )
    check_copies(snapshot, facts.duplicate_threshold, facts.published)
    check_cuts(snapshot, facts.cuts)
    check_passage_embeddings(snapshot, facts.texts, facts.embed)
    notes = []
    unknown = [
        cid
        for cid in sorted(held, key=digest_of)
        if cid not in facts.admitted and cid not in facts.skipped_only
    ]
    if unknown and not facts.missing_batches:
        raise Invalid(
            "admission",
            f"{unknown[0]} is in the snapshot, but no batch of its universe anchored it (this "
            f"verifier holds them all): {len(unknown)} such CID(s)",
            {"cid": unknown[0]},
        )
    if unknown:
        notes.append(f"admission: {len(unknown)} snapshot CID(s) unknown here, e.g. {unknown[0]}")
    held_skipped = [cid for cid in sorted(held, key=digest_of) if cid in facts.skipped_only]
    if held_skipped:
        notes.append(
            f"admission: {len(held_skipped)} snapshot CID(s) this verifier holds only from "
            f"skipped batches, e.g. {held_skipped[0]}"
        )
    if facts.missing_batches:
        notes.append(f"admission: batches {list(facts.missing_batches)} not imported here")
    if facts.skipped_held:
        notes.append(
            f"admission: the operator skipped batches {list(facts.skipped_held)} as unavailable, "
            "which this verifier holds"
        )
    return notes


def _held_passages(snapshot: Snapshot) -> dict[str, dict[tuple[int, int, int], np.ndarray]]:
    """CID -> (index, start, end) -> embedding of every passage the snapshot holds, items and
    copies alike."""
    held: dict[str, dict[tuple[int, int, int], np.ndarray]] = {}
    for position, p in enumerate(snapshot.passages):
        held.setdefault(p.cid, {})[(p.index, p.start, p.end)] = snapshot.embeddings[position]
    for c in snapshot.copies:
        p = c.passage
        held.setdefault(p.cid, {})[(p.index, p.start, p.end)] = c.embedding
    return held


def check_cuts(snapshot: Snapshot, cuts: Mapping[str, tuple[tuple[int, int, int], ...]]) -> None:
    """The snapshot holds each document (this store knows) as exactly the passage rule's
    passages: none dropped (hidden from every answer), none re-cut, none made up."""
    held = _held_passages(snapshot)
    for cid in sorted(cuts.keys() & held.keys(), key=digest_of):
        expected, got = set(cuts[cid]), set(held[cid])
        if expected == got:
            continue
        extra, missing = sorted(got - expected), sorted(expected - got)
        what = (
            f"passage {missing[0][0]} [{missing[0][1]}, {missing[0][2]}) is missing"
            if missing
            else f"its passage {extra[0][0]} [{extra[0][1]}, {extra[0][2]}) is not the rule's"
        )
        raise Invalid(
            "admission",
            f"the snapshot does not hold {cid} as the passage rule cuts it: {what} "
            f"({len(missing)} missing, {len(extra)} not the rule's)",
            {"cid": cid, "missing": len(missing), "extra": len(extra)},
        )


def check_passage_embeddings(
    snapshot: Snapshot,
    texts: Mapping[str, str],
    embed: Callable[[list[str]], np.ndarray] | None,
) -> None:
    """The passages of the documents in `texts` (a sample the verifier picks) embed, with the
    registered model, to exactly the snapshot's vectors: nothing else ranks under their keys."""
    if embed is None or not texts:
        return
    held = _held_passages(snapshot)
    for cid in sorted(texts.keys() & held.keys(), key=digest_of):
        spans = sorted(held[cid])
        vectors = embed([texts[cid][start:end] for _, start, end in spans])
        for span, vector in zip(spans, vectors, strict=True):
            if not np.array_equal(held[cid][span], vector):
                raise Invalid(
                    "admission",
                    f"the snapshot's embedding of {cid}#{span[0]} is not the model's embedding "
                    "of that passage's text",
                    {"cid": cid, "passage": f"{cid}#{span[0]}"},
                )


def check_copies(snapshot: Snapshot, threshold: int, published: Mapping[str, tuple]) -> None:
    """Every passage the snapshot leaves out as a copy is one: its embedding is the original's
    byte for byte, or their exact dot product is at least `threshold`, and the original was
    published first (by `published`, where this store knows both). Otherwise the operator hid
    a passage from every answer and its author from every usage share."""
    for copy in snapshot.copies:
        original = snapshot.passages[copy.of]
        a = copy.embedding.astype(np.int64)
        b = snapshot.embeddings[copy.of].astype(np.int64)
        if not np.array_equal(a, b) and int(a @ b) < threshold:
            raise Invalid(
                "admission",
                f"{copy.passage.id} is left out as a copy of {original.id}, but their dot "
                f"product {int(a @ b)} is below the duplicate threshold {threshold}",
                {"cid": copy.passage.cid, "passage": copy.passage.id},
            )
        first, then = published.get(original.cid), published.get(copy.passage.cid)
        if first is not None and then is not None and then < first:
            raise Invalid(
                "admission",
                f"{copy.passage.id} is left out as a copy of {original.id}, which was "
                "published after it: the earlier publication is the original",
                {"cid": copy.passage.cid, "passage": copy.passage.id},
            )


def check_listed_originals(
    document: ReceiptDocument, snapshot: Snapshot, facts: AdmissionFacts
) -> None:
    """No listed passage is a copy: no item of the snapshot published before it has the same
    embedding or a dot product with it at or above the threshold (the star rule makes every
    other item a representative, so this is exactly "it represents its group"). A copy kept
    in would take the usage share of its original's author."""
    if not facts.published:
        return
    embeddings = snapshot.embeddings.astype(np.int64)
    for result in document.results:
        position = snapshot.positions.get(result.key)
        if position is None or result.cid not in facts.published:
            continue
        mine = (facts.published[result.cid], result.passage)
        vector = embeddings[position]
        near = np.flatnonzero(
            (embeddings @ vector >= facts.duplicate_threshold) | (embeddings == vector).all(axis=1)
        )
        for other in near:
            passage = snapshot.passages[int(other)]
            when = facts.published.get(passage.cid)
            if int(other) != position and when is not None and (when, passage.index) < mine:
                raise Invalid(
                    "admission",
                    f"{result.ref.id} is listed, but it copies {passage.id}, published "
                    "earlier: a copy must be left out, its usage going to the original",
                    {"cid": result.cid, "passage": result.ref.id, "original": passage.id},
                )


def check_snapshot(
    document: ReceiptDocument, registry: RegistryFacts, stale_grace_s: int = STALE_GRACE_S
) -> None:
    """Model and snapshot are registered, by this operator, for each other, and the snapshot was
    the operator's current one when the receipt was issued (a newer one registered more than
    `stale_grace_s` before it, the disputes contract's grace, makes it stale)."""
    receipt = document.receipt
    model_root = bytes.fromhex(receipt["modelRoot"][2:])
    snapshot_root = bytes.fromhex(receipt["snapshotRoot"][2:])
    if not registry.model_registered(model_root):
        raise Invalid("model", f"model {receipt['modelRoot']} is not registered")
    facts = registry.snapshot(document.operator, snapshot_root)
    if facts is None:
        raise Invalid(
            "snapshot",
            f"snapshot {receipt['snapshotRoot']} is not registered here by the operator",
        )
    if facts.model_root != model_root:
        raise Invalid(
            "snapshot",
            f"snapshot {receipt['snapshotRoot']} was registered for model 0x"
            f"{facts.model_root.hex()}, not {receipt['modelRoot']}",
        )
    issued = int(receipt["issuedAt"])
    if issued + CLOCK_SKEW_S < facts.timestamp:
        raise Invalid("snapshot", "the receipt is dated before its snapshot was registered")
    newer = [
        (root, at)
        for root, at in registry.snapshots_of(document.operator, model_root)
        if at > facts.timestamp and at + stale_grace_s < issued
    ]
    if newer:
        root, at = newer[0]
        raise Invalid(
            "snapshot",
            f"stale snapshot: the operator registered 0x{root.hex()} at {at}, "
            f"{issued - at} s before this answer, but answered from an older one",
            {"newer_snapshot": "0x" + root.hex(), "registered_at": at},
        )


def check_anchor(document: ReceiptDocument, registry: RegistryFacts, digest: bytes) -> str | None:
    """None when anchored and proven; a note when not anchored yet; Invalid for a bad proof, or
    for a receipt its operator left unanchored past the deadline (unchallengeable: unbacked)."""
    if document.anchor is None:
        through = registry.operator(document.operator).anchored_through
        if document.nonce <= through:
            return (
                f"this copy carries no anchor proof, but the operator has anchored its receipts "
                f"through nonce {through}: ask its node for this receipt's proof (GET "
                "/receipts/DIGEST); a receipt left out of its batch can never be challenged"
            )
        age = registry.now() - int(document.receipt["issuedAt"])
        if age > ANCHOR_DEADLINE_S:
            raise Invalid(
                "anchor",
                f"not anchored {age} s after it was issued (operators anchor within "
                f"{ANCHOR_DEADLINE_S} s): nobody can challenge it, so no bond backs it",
            )
        return "not anchored yet: the operator anchors receipts in batches; check again later"
    batch = registry.batch(document.anchor.batch_id)
    if batch is None:
        raise Invalid("anchor", f"batch {document.anchor.batch_id} is not anchored")
    if batch.kind != KIND_RECEIPTS:
        raise Invalid("anchor", f"batch {document.anchor.batch_id} is not a batch of receipts")
    if batch.anchorer.lower() != document.operator.lower():
        raise Invalid(
            "anchor",
            f"batch {document.anchor.batch_id} was anchored by {batch.anchorer}, not by the "
            "operator: only the operator's own anchor makes its receipt challengeable",
        )
    if not batch.first_nonce <= document.nonce <= batch.last_nonce:
        raise Invalid(
            "anchor",
            f"batch {document.anchor.batch_id} covers nonces {batch.first_nonce}-"
            f"{batch.last_nonce}, not the receipt's {document.nonce}",
        )
    issued = int(document.receipt["issuedAt"])
    if issued > batch.timestamp + CLOCK_SKEW_S:
        raise Invalid("anchor", "the receipt is dated after the batch that anchors it")
    if batch.timestamp - issued > ANCHOR_DEADLINE_S:
        raise Invalid(
            "anchor",
            f"anchored {batch.timestamp - issued} s after the date it carries (operators anchor "
            f"within {ANCHOR_DEADLINE_S} s): a receipt dated back could dodge a newer snapshot "
            "or policy",
        )
    leaf = leaf_hash(RECEIPT_LEAF, [digest])
    if process_proof(leaf, document.anchor.proof) != batch.root:
        raise Invalid(
            "anchor", f"the proof does not put the receipt in batch {document.anchor.batch_id}"
        )
    return None


def check_nonce(document: ReceiptDocument, ledger: NonceLedger, digest: bytes) -> None:
    other = ledger.remember(document, digest)
    if other is not None:
        raise Invalid(
            "nonce",
            f"nonce {document.nonce} reused: receipt 0x{other.hex()} by the same operator "
            "already has it",
        )


def first_difference(
    claimed: tuple[Result, ...], expected: tuple[Result, ...]
) -> dict[str, Any] | None:
    """Where two rankings first differ (rank, both passages and scores), None if they are
    equal. A passage is named `CID#index`."""
    for position in range(max(len(claimed), len(expected))):
        a = claimed[position] if position < len(claimed) else None
        b = expected[position] if position < len(expected) else None
        if a != b:
            return {
                "rank": position,
                "claimed": None if a is None else _difference_side(a),
                "expected": None if b is None else _difference_side(b),
            }
    return None


def _difference_side(result: Result) -> dict[str, Any]:
    return {
        "cid": result.cid,
        "passage": result.ref.id,
        "span": [result.start, result.end],
        "score": result.score,
    }


def describe(difference: dict[str, Any]) -> str:
    claimed, expected, at = difference["claimed"], difference["expected"], difference["rank"]
    if claimed is None:
        return f"rank {at}: the receipt omits {expected['passage']} (score {expected['score']})"
    if expected is None:
        return f"rank {at}: the receipt lists an extra {claimed['passage']}"
    if claimed["passage"] == expected["passage"] and claimed["span"] == expected["span"]:
        return (
            f"rank {at}: {claimed['passage']} scores {expected['score']}, "
            f"the receipt claims {claimed['score']}"
        )
    return (
        f"rank {at}: expected {expected['passage']} (score {expected['score']}), the receipt "
        f"lists {claimed['passage']} (claims score {claimed['score']})"
    )


def proves_tokens(document: ReceiptDocument, op_count: int) -> bool:
    """The document carries token ids, and its proof shows they are op 0 (`tokens`) of the
    trace of `op_count` ops that the receipt's `traceRoot` commits to."""
    carried = document.tokens
    if carried is None:
        return False
    root = bytes.fromhex(document.receipt["traceRoot"][2:])
    ids = np.asarray(carried.ids, dtype=np.int64)
    return verify_trace_op(root, 0, TOKENS_OP, ids, carried.proof, op_count)


def first_token_difference(
    claimed: Sequence[int], expected: Sequence[int], token: Callable[[int], str | None]
) -> dict[str, Any] | None:
    """Where two token id sequences first differ (position, each side's id and token string,
    None for a side that has ended), None if they are equal."""
    for position in range(max(len(claimed), len(expected))):
        a = int(claimed[position]) if position < len(claimed) else None
        b = int(expected[position]) if position < len(expected) else None
        if a != b:
            return {
                "position": position,
                "claimed": None if a is None else {"id": a, "token": token(a)},
                "expected": None if b is None else {"id": b, "token": token(b)},
            }
    return None


def describe_tokens(difference: dict[str, Any]) -> str:
    claimed, expected, at = difference["claimed"], difference["expected"], difference["position"]
    if expected is None:
        return (
            f"token position {at}: the receipt embeds an extra token {claimed['id']} "
            f"{claimed['token']!r} after the query's last one"
        )
    if claimed is None:
        return (
            f"token position {at}: the receipt's tokens end where the query has "
            f"{expected['id']} {expected['token']!r}"
        )
    return (
        f"token position {at}: the receipt embeds token {claimed['id']} {claimed['token']!r}, "
        f"the query tokenizes to {expected['id']} {expected['token']!r}"
    )


def check_tokens(
    document: ReceiptDocument,
    expected: Sequence[int],
    op_count: int,
    token: Callable[[int], str | None],
) -> None:
    """The receipt carries its token ids, they are op 0 of the trace `traceRoot` commits to (a
    trace of `op_count` ops), and they are `expected`: the query as the registered model's
    tokenizer splits it. Tokenization is the one step of an answer the disputes contract cannot
    recompute, so every verifier checks it here, off-chain; `token` names an id's string."""
    if document.tokens is None:
        raise Invalid(
            "tokens", "the receipt document does not carry the token ids its trace starts from"
        )
    if not proves_tokens(document, op_count):
        raise Invalid(
            "tokens", "the receipt's token ids are not op 0 of its traceRoot: the proof fails"
        )
    difference = first_token_difference(document.tokens.ids, expected, token)
    if difference is not None:
        raise Invalid("tokens", describe_tokens(difference), difference)


def check_execution(document: ReceiptDocument, encoder: Encoder, snapshot: Snapshot) -> None:
    """Re-run the engine and the ranking; the first difference decides."""
    receipt = document.receipt
    if snapshot.model_root != encoder.model.root:
        raise Invalid("snapshot", "the snapshot was embedded with another model")
    k = min(int(receipt["k"]), len(snapshot))
    expected = rank(encoder, snapshot, snapshot.index, document.query, k)
    difference = first_difference(document.results, expected.results)
    if difference is not None:
        raise Invalid("ranking", describe(difference), difference)
    if "0x" + expected.trace_root.hex() != receipt["traceRoot"]:
        raise Invalid("trace", "the query's engine trace root differs from the receipt's")


# -- the whole check ---------------------------------------------------------------------------


def verify(
    document: ReceiptDocument,
    chain_id: int,
    registry_address: str,
    registry: RegistryFacts,
    sources: PublicData,
    encoder_for: Callable[[IntModel], Encoder],
    ledger: NonceLedger | None = None,
    pinned_model: bytes | None = None,
    admission: Callable[[ReceiptDocument, Snapshot], AdmissionFacts] | None = None,
) -> Verdict:
    """Run every rule against `document`; the first that fails makes it INVALID. With
    `pinned_model`, a receipt under any other model is INVALID; with `admission` (a verifier
    that follows the governed network), the snapshot must hold exactly what its policy admits."""
    digest = document.digest()
    notes: list[str] = []
    try:
        check_domain(document, chain_id, registry_address)
        check_model_pin(document, pinned_model)
        check_contents(document)
        check_signature(document)
        deployment = registry.deployment()
        check_registry_code(deployment)
        check_slasher(deployment)
        notes.extend(dispute_terms(deployment))
        check_operator(document, registry)
        check_snapshot(document, registry, deployment.stale_grace_s)
        note = check_anchor(document, registry, digest)
        if note:
            notes.append(note)
        if ledger is not None:
            check_nonce(document, ledger, digest)
        receipt = document.receipt
        model = sources.model(bytes.fromhex(receipt["modelRoot"][2:]))
        encoder = encoder_for(model)
        expected = encoder.tokenize([document.query])[0].tolist()
        check_tokens(document, expected, trace_op_count(model.header), encoder.token)
        snapshot = sources.snapshot(bytes.fromhex(receipt["snapshotRoot"][2:]))
        check_execution(document, encoder, snapshot)
        if admission is not None:
            facts = admission(document, snapshot)
            notes.extend(check_admission(snapshot, facts))
            check_listed_originals(document, snapshot, facts)
    except Invalid as exc:
        return Verdict(
            False, exc.check, exc.reason, "0x" + digest.hex(), exc.difference, tuple(notes)
        )
    return Verdict(
        True,
        "all",
        "re-executed: same ranking, scores and trace",
        "0x" + digest.hex(),
        None,
        tuple(notes),
    )
