"""Answering: the engine, the current snapshot and its index (loaded lazily), asks, receipts and
verification.

Loading the model costs seconds (half a minute on first use, to convert), so nothing is loaded
until the first question or snapshot refresh. One lock serialises refreshes against asks that
switch to a new snapshot; asks themselves run concurrently.
"""

import hashlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from web3.contract import Contract

from aigora.app._asks import InFlight, RecordPayment, prepare_payment
from aigora.app._basis import Plan, admission_facts, network_universe, plan_basis
from aigora.app._context import NodeContext, StoreContext
from aigora.app._games import Move, play_games
from aigora.app._governance import Governance
from aigora.asks import Payment, fee_for_ask
from aigora.chain import Chain, last_receipt_nonce
from aigora.content import service
from aigora.core.errors import AigoraError, ContractRevert
from aigora.core.hashing import keccak
from aigora.engine import (
    FORMAT,
    FORMAT_VERSION,
    Encoder,
    IntModel,
    Trace,
    default_cache_dir,
    load_default_model,
)
from aigora.index import (
    AdmissionPolicy,
    ExactIndex,
    PassageRule,
    Snapshot,
    SnapshotState,
    current_snapshot,
    document_text,
    refresh_snapshot,
    snapshot_dir,
    split_passages,
)
from aigora.store import session_scope
from aigora.verify import (
    CHECKS_WITH_CLAIMS,
    AdmissionFacts,
    ChainRegistry,
    Claim,
    DbNonceLedger,
    HttpSource,
    LocalFiles,
    NonceLedger,
    PublicData,
    Ranking,
    ReceiptDocument,
    Sources,
    Verdict,
    check_question,
    issue_receipt,
    plan_claim,
    rank,
    sign_answer,
    stored_receipt,
    verify,
)

ENGINE_VERSION = f"{FORMAT}/{FORMAT_VERSION}"


TRACE_CACHE = 16

ASKS_AT_ONCE = max(1, os.cpu_count() or 1)
"""Asks computed at once; the rest wait their turn. An ask is mostly Python holding the GIL, so
more threads than cores add no throughput, and each thread that ran beside the one recording
its receipt stretched that short write transaction (32 at once held SQLite's write lock past
its 10 s timeout under `bench/load.py`, answering 503 Busy); waiting here has no timeout."""
"""Receipts whose trace `Answers.trace_for` keeps in memory."""


class NoSnapshot(AigoraError):
    """The node has no registered snapshot to answer from yet."""


EXCERPT_BYTES = 280


class AnswerSource(BaseModel):
    """One returned passage as people read it: its document, which passage of it (index and
    character span in the document's text), its text, and `link`, the page that shows it in
    place."""

    rank: int
    cid: str
    score: int
    author: str
    url: str
    excerpt: str
    status: str = "unrated"
    passage: int = 0
    span: tuple[int, int] = (0, 0)
    link: str = ""


def passage_link(cid: str, passage: int, start: int, end: int) -> str:
    """The page of document `cid` with the passage marked and scrolled to."""
    return f"/ui/content/{cid}?passage={passage}&start={start}&end={end}#passage"


def passage_excerpt(body: bytes, media_type: str, start: int, end: int) -> str:
    """The passage's own text (a document read whole, span (0, 0): how its body begins)."""
    text = document_text(body, media_type) if end > start else None
    if text is None:
        return body[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return text[start:end]


class Answer(BaseModel):
    """An answer: the ranked sources, the receipt's digest and the signed receipt document."""

    query: str
    results: list[AnswerSource]
    digest: str
    receipt: dict[str, Any]


class VerdictReport(BaseModel):
    """A verification's outcome: VALID or INVALID, the rule that failed and where."""

    verdict: str
    check: str
    reason: str
    digest: str
    difference: dict[str, Any] | None = None
    notes: list[str] = []

    @classmethod
    def of(cls, verdict: Verdict) -> "VerdictReport":
        return cls.model_validate(verdict.to_json())

    @property
    def valid(self) -> bool:
        return self.verdict == "VALID"


class Answers:
    """Answering on one node: the engine (loaded on first use), the current snapshot and its
    index, asks with signed receipts, verification of anyone's receipts, and the honest trace a
    dispute game needs. Snapshots, disputes and payouts share one instance."""

    def __init__(
        self, context: NodeContext, load_model: Callable[[], IntModel] = load_default_model
    ) -> None:
        self.context = context
        self._load_model = load_model
        self._lock = threading.RLock()
        self._asking = threading.BoundedSemaphore(ASKS_AT_ONCE)
        self._model: IntModel | None = None
        self._encoder: Encoder | None = None
        self._bulk_encoder: Encoder | None = None
        self._current: tuple[Snapshot, ExactIndex] | None = None
        self._traces: dict[bytes, tuple[IntModel, Trace]] = {}
        self._cuts: dict[bytes, tuple[tuple[int, int, int], ...]] = {}
        self._cuts_lock = threading.Lock()
        self._floor: int | None = None
        self._paying = InFlight()

    @property
    def model(self) -> IntModel:
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def encoder(self) -> Encoder:
        """The numpy backend: no compile step, and one query with its trace takes well under a
        second. Same bytes as the torch backend."""
        with self._lock:
            if self._encoder is None:
                self._encoder = Encoder(self.model, backend="numpy")
            return self._encoder

    def bulk_encoder(self) -> Encoder:
        """The torch backend, eager (no compile wait), for embedding many passages at once."""
        with self._lock:
            if self._bulk_encoder is None:
                self._bulk_encoder = Encoder(self.model, backend="torch", compile=False)
            return self._bulk_encoder

    @cached_property
    def governance(self) -> Governance:
        """The network's policy in force, read from its Governor (shared by every service)."""
        return Governance(self.context)

    def snapshot_plan(self) -> Plan | None:
        """In a network: the admission rule, scores and basis of the next snapshot, from the
        policy in force now and every batch found so far (None on a node of its own)."""
        context = self.context
        if context.network is None:
            return None
        _, policy = self.governance.in_force()
        universe = network_universe(
            context.db, context.chain.chain_id, context.deployment.registry.address
        )
        return plan_basis(context.db, policy, universe)

    def policy(self) -> AdmissionPolicy:
        """The admission rule in force: the network policy's (as `plan`), else `[answers]`."""
        plan = self.snapshot_plan()
        if plan is not None:
            return plan.rule
        answers = self.context.config.answers
        return AdmissionPolicy(
            min_score=answers.min_score,
            admit_unscored=answers.admit_unscored,
            exclude_statuses=tuple(answers.exclude_statuses),
            anchored_only=self.context.network is not None,
            duplicate_threshold=self.context.config.payouts.duplicate_threshold,
        )

    def refresh(self, progress: Callable[[int], None] | None = None) -> SnapshotState:
        """Snapshot newly admitted content (embedding only what is new) and register it."""
        context = self.context
        with self._lock:
            plan = self.snapshot_plan()
            state = refresh_snapshot(
                context.db,
                context.blobs,
                context.data_dir,
                self.bulk_encoder(),
                self.model.root,
                ENGINE_VERSION,
                context.chain,
                context.deployment.registry,
                context.operator,
                plan.rule if plan is not None else self.policy(),
                progress,
                self._current[0] if self._current is not None else None,
                scores=plan.scores if plan is not None else None,
                basis=plan.basis if plan is not None else None,
            )
            if state.changed or self._current is None:
                self._current = None
                self.current()
            return state

    def current(self) -> tuple[Snapshot, ExactIndex]:
        with self._lock:
            if self._current is None:
                snapshot = current_snapshot(self.context.db, self.context.data_dir, self.model.root)
                if snapshot is None:
                    raise NoSnapshot(
                        "no snapshot to answer from yet: publish text content, then run "
                        "`aigora snapshot` (the node also snapshots new content periodically)"
                    )
                self._current = (snapshot, snapshot.index)
            return self._current

    def rank(self, snapshot: Snapshot, index: ExactIndex, query: str, k: int) -> Ranking:
        """The ranking an answer reports: the one rule every verifier re-executes. (The
        sponsored-ranking example overrides this to show that any tilt is caught.)"""
        return rank(self.encoder(), snapshot, index, query, k)

    def ask(
        self, query: str, k: int, *, fee: int = 0, record: RecordPayment | None = None
    ) -> ReceiptDocument:
        """Answer with the exact top-k and a signed receipt charging `fee`, recorded before it is
        returned; `record` books what paid for it in the receipt's transaction (`answer` passes
        the voucher of a paid ask). At most `ASKS_AT_ONCE` run at a time."""
        check_question(query, k)
        with self._asking:
            return self._ask(query, k, fee=fee, record=record)

    def _ask(
        self, query: str, k: int, *, fee: int, record: RecordPayment | None
    ) -> ReceiptDocument:
        snapshot, index = self.current()
        ranking = self.rank(snapshot, index, query, min(k, len(snapshot)))
        context = self.context
        # Dated by the later of our clock and the chain's: registrations carry chain time, and
        # a verifier compares the two (a dev chain's clock may have been moved forward).
        issued_at = max(int(time.time()), context.chain.now())
        return issue_receipt(
            context.db,
            context.domain,
            context.operator.address,
            floor=self._nonce_floor(),
            record=record,
            sign=lambda nonce: sign_answer(
                context.operator,
                context.domain,
                self.model.root,
                snapshot.root,
                query,
                ranking,
                fee,
                nonce,
                issued_at,
            ),
        )

    def _nonce_floor(self) -> int:
        """The last receipt nonce this operator anchored on-chain, read once: the node is the
        only writer of its receipts while it runs."""
        with self._lock:
            if self._floor is None:
                context = self.context
                self._floor = last_receipt_nonce(
                    context.chain, context.deployment.registry, context.operator.address
                )
            return self._floor

    def answer(
        self, query: str, k: int, *, by_operator: bool, payment: Payment | None = None
    ) -> Answer:
        """`ask`, then the answer as people read it: each source's author, link, excerpt and
        reputation status beside its score. With a fee, an ask is paid by `payment` (a voucher
        on the asker's channel, checked before the answer is computed and booked with its
        receipt) or, from the operator (`by_operator`: the asker proved to be this node's
        operator), free; anyone else is refused (`fee_for_ask`)."""
        check_question(query, k)
        fee = fee_for_ask(
            int(self.context.config.answers.fee),
            by_operator=by_operator,
            paying=payment is not None,
        )
        if fee == 0 or payment is None:
            document = self.ask(query, k)
        else:
            with self._paying.hold(payment.asker):
                record = prepare_payment(self.context, payment, fee)
                document = self.ask(query, k, fee=fee, record=record)
        context = self.context
        results = []
        with session_scope(context.db) as session:
            for position, result in enumerate(document.results):
                item = service.get_content(session, result.cid)
                score = service.latest_score(session, result.cid)
                body = context.blobs.get(result.cid)
                results.append(
                    AnswerSource(
                        rank=position,
                        cid=result.cid,
                        score=result.score,
                        author=item.author,
                        url=item.url,
                        excerpt=passage_excerpt(body, item.media_type, result.start, result.end),
                        status="unrated" if score is None else score["status"],
                        passage=result.passage,
                        span=(result.start, result.end),
                        link=passage_link(result.cid, result.passage, result.start, result.end),
                    )
                )
        return Answer(
            query=document.query,
            results=results,
            digest="0x" + document.digest().hex(),
            receipt=document.to_json(),
        )

    def receipt(self, digest: str) -> ReceiptDocument:
        """A receipt this node issued, with its anchor proof once its batch is anchored."""
        return stored_receipt(self.context.db, digest)

    def trace_for(self, document: ReceiptDocument) -> tuple[IntModel, Trace]:
        """The model a receipt names and the trace this node computes with it for the receipt's
        query: the trace an honest operator committed to, and the one a challenger holds up
        against a dishonest one (cached: a game asks for it at every move)."""
        digest = document.digest()
        with self._lock:
            if digest in self._traces:
                return self._traces[digest]
        root = bytes.fromhex(document.receipt["modelRoot"][2:])
        if root == self.model.root:
            model, encoder = self.model, self.encoder()
        else:
            context = self.context
            sources = public_sources(
                context.chain, context.deployment.registry, document.operator, (), None, ()
            )
            model = sources.model(root)
            encoder = Encoder(model, backend="numpy")
        _, trace = encoder.embed_with_trace(document.query)
        with self._lock:
            while len(self._traces) >= TRACE_CACHE:
                self._traces.pop(next(iter(self._traces)))
            self._traces[digest] = (model, trace)
        return model, trace

    def play_games(self) -> list[Move]:
        """Move in every open embedding game this node answers or filed (see `node.games`)."""
        context = self.context
        if context.deployment.disputes is None:
            return []
        return play_games(
            context.chain,
            context.db,
            context.deployment.disputes,
            context.operator,
            self.trace_for,
        )

    def _loaded(self) -> list[IntModel | Snapshot]:
        loaded: list[IntModel | Snapshot] = [self.model]
        if self._current is not None:
            loaded.append(self._current[0])
        return loaded

    def plan(
        self, document: ReceiptDocument, source_url: str | None = None
    ) -> tuple[Verdict, Claim]:
        """The verdict on a receipt and the on-chain claim that proves it wrong."""
        context = self.context
        return plan_on_chain(
            document,
            context.chain,
            context.deployment.registry,
            [snapshot_dir(context.data_dir)],
            source_url,
            self._loaded(),
        )

    def verify(
        self, document: ReceiptDocument, source_url: str | None = None, model: str | None = None
    ) -> Verdict:
        """Verify any operator's receipt against this node's chain and registry; `model` (else
        `[verify] model`) pins the one model root it may answer under."""
        context = self.context
        return verify_on_chain(
            document,
            context.chain,
            context.deployment.registry,
            DbNonceLedger(context.db),
            snapshot_dirs=[snapshot_dir(context.data_dir)],
            source_url=source_url,
            loaded=self._loaded(),
            pinned_model=parse_model_root(model or context.config.verify.model),
            admission=self._admission if context.network is not None else None,
        )

    def _admission(self, document: ReceiptDocument, snapshot: Snapshot) -> AdmissionFacts:
        """What this node's own store (every batch of the network it imported) makes of the
        snapshot's committed basis."""
        context = self.context
        disputes = context.deployment.disputes
        grace = context.chain.call(disputes.functions.stale_grace()) if disputes else 0
        ours = snapshot.model_root == self.model.root
        encoder = self.bulk_encoder() if ours else None
        return admission_facts(
            context.db,
            context.blobs,
            self.governance,
            snapshot,
            issued_at=int(document.receipt["issuedAt"]),
            grace_s=grace,
            chain_id=context.chain.chain_id,
            registry=context.deployment.registry.address,
            cutter=self._cutter(encoder) if encoder is not None else None,
            embed=encoder.embed if encoder is not None else None,
            sample=lambda admitted: re_embedding_sample(document, admitted),
        )

    def _cutter(self, encoder: Encoder) -> Callable[[str], tuple[tuple[int, int, int], ...]]:
        """The passage rule over `encoder`, remembering each text's cut (a document's passages
        never change under one model, and a verifier cuts every admitted document)."""
        rule = PassageRule.of(encoder)

        def cut(text: str) -> tuple[tuple[int, int, int], ...]:
            key = hashlib.sha256(text.encode()).digest()
            with self._cuts_lock:
                if key in self._cuts:
                    return self._cuts[key]
            spans = split_passages(text, encoder.token_count, rule)
            found = tuple((i, s.start, s.end) for i, s in enumerate(spans))
            with self._cuts_lock:
                self._cuts[key] = found
            return found

        return cut


RE_EMBEDDED = 8
"""Documents besides the listed ones whose passages a verifier re-embeds per receipt."""


def re_embedding_sample(document: ReceiptDocument, admitted: frozenset[str]) -> list[str]:
    """The listed documents, and RE_EMBEDDED others the receipt's digest picks (an operator
    cannot know in advance which of its documents a verifier will re-embed)."""
    listed = {r.cid for r in document.results}
    digest = document.digest()
    others = sorted(admitted - listed, key=lambda cid: keccak(digest + cid.encode()))
    return sorted(listed & admitted) + others[:RE_EMBEDDED]


def public_sources(
    chain: Chain,
    registry: Contract,
    operator: str,
    snapshot_dirs: Sequence[Path] = (),
    source_url: str | None = None,
    loaded: Sequence[IntModel | Snapshot] = (),
) -> Sources:
    """Where public data comes from: memory and local files first, then `source_url`, then the
    operator's endpoint as registered on-chain; every file is checked against its root."""
    local = LocalFiles(
        model_dirs=[Path(default_cache_dir())], snapshot_dirs=snapshot_dirs, loaded=loaded
    )
    sources: list[PublicData] = [local]
    if source_url:
        sources.append(HttpSource(source_url))
    try:
        endpoint = ChainRegistry(chain, registry).operator(operator).endpoint
    except ContractRevert:  # not a registry at all: verification will say so
        endpoint = ""
    if endpoint.startswith(("http://", "https://")) and endpoint != source_url:
        sources.append(HttpSource(endpoint))
    return Sources(sources)


def parse_model_root(root: str | None) -> bytes | None:
    """A model root as a verifier pins it (`--model`, `[verify] model`): 0x and 64 hex digits."""
    if root is None:
        return None
    if len(root) != 66 or not root.startswith("0x"):
        raise AigoraError(f"a model root is 0x and 64 hex digits, got {root!r}")
    try:
        return bytes.fromhex(root[2:])
    except ValueError:
        raise AigoraError(f"a model root is 0x and 64 hex digits, got {root!r}") from None


def verify_on_chain(
    document: ReceiptDocument,
    chain: Chain,
    registry: Contract,
    ledger: NonceLedger | None,
    snapshot_dirs: Sequence[Path] = (),
    source_url: str | None = None,
    loaded: Sequence[IntModel | Snapshot] = (),
    pinned_model: bytes | None = None,
    admission: Callable[[ReceiptDocument, Snapshot], AdmissionFacts] | None = None,
) -> Verdict:
    """Verify a receipt against `registry` on `chain`, with public data from `public_sources`
    (what a verifier with no node of its own runs: `aigora verify --rpc`); a receipt under any
    model but `pinned_model` (when given) is INVALID; `admission` as `verify` takes it."""
    sources = public_sources(chain, registry, document.operator, snapshot_dirs, source_url, loaded)
    return _verify_with(document, chain, registry, ledger, sources, pinned_model, admission)


def _verify_with(
    document: ReceiptDocument,
    chain: Chain,
    registry: Contract,
    ledger: NonceLedger | None,
    sources: Sources,
    pinned_model: bytes | None = None,
    admission: Callable[[ReceiptDocument, Snapshot], AdmissionFacts] | None = None,
) -> Verdict:
    return verify(
        document,
        chain.chain_id,
        registry.address,
        ChainRegistry(chain, registry),
        sources,
        lambda model: Encoder(model, backend="numpy"),
        ledger,
        pinned_model,
        admission,
    )


def plan_on_chain(
    document: ReceiptDocument,
    chain: Chain,
    registry: Contract,
    snapshot_dirs: Sequence[Path] = (),
    source_url: str | None = None,
    loaded: Sequence[IntModel | Snapshot] = (),
) -> tuple[Verdict, Claim]:
    """Verify the receipt, then choose the claim that proves it wrong on-chain (`NoClaim` if
    none does). The snapshot and the honest trace come from public data, fetched once for both."""
    sources = public_sources(chain, registry, document.operator, snapshot_dirs, source_url, loaded)
    verdict = _verify_with(document, chain, registry, None, sources)
    if verdict.valid or verdict.check not in CHECKS_WITH_CLAIMS:
        return verdict, plan_claim(document, verdict, None, None)
    receipt = document.receipt
    snapshot = sources.snapshot(bytes.fromhex(receipt["snapshotRoot"][2:]))
    model = sources.model(bytes.fromhex(receipt["modelRoot"][2:]))
    _, trace = Encoder(model, backend="numpy").embed_with_trace(document.query)
    return verdict, plan_claim(document, verdict, snapshot, trace)


def verify_over_rpc(
    document: ReceiptDocument,
    rpc: str,
    registry: str | None = None,
    source_url: str | None = None,
    store: StoreContext | None = None,
    model: str | None = None,
) -> VerdictReport:
    """Verify a receipt against the registry at `registry` (default: the receipt's own) on the
    JSON-RPC node `rpc`, with no node of one's own; `store` (optional) remembers nonces and
    supplies `[verify] model` unless `model` pins one."""
    address = registry or document.domain.verifying_contract
    pinned = parse_model_root(model or (store.config.verify.model if store is not None else None))
    with Chain.connect(rpc) as chain:
        if not chain.has_code(address):
            raise AigoraError(f"no contract at {address} on {rpc}")
        contract = chain.contract("Registry", address)
        ledger = DbNonceLedger(store.db) if store is not None else None
        verdict = verify_on_chain(
            document, chain, contract, ledger, source_url=source_url, pinned_model=pinned
        )
    return VerdictReport.of(verdict)
