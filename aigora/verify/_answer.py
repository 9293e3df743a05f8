"""Answering a question: embed it with the integer engine, rank the snapshot exactly, sign.

`rank` is the one ranking rule, used by the operator to answer and by every verifier to
re-execute: score = exact int8 dot product, order = score descending, then passage key
ascending (the snapshot's order), top k.
"""

from dataclasses import dataclass
from typing import Any

from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError
from aigora.engine import TOKENS_OP, Encoder, Trace
from aigora.index import ExactIndex, Snapshot
from aigora.verify._receipt import (
    MAX_K,
    MAX_QUERY_CHARS,
    ReceiptDocument,
    Result,
    TokenIds,
    query_hash,
    result_tree,
    sign_receipt,
)


class BadQuestion(AigoraError):
    """The question or k cannot be answered as asked."""


def check_question(query: str, k: int) -> None:
    if not isinstance(query, str) or not query.strip():
        raise BadQuestion("the question is empty")
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuestion(f"the question is longer than {MAX_QUERY_CHARS} characters")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise BadQuestion(f"k must be between 1 and {MAX_K}, got {k!r}")


@dataclass(frozen=True)
class Ranking:
    """What an answer reports: the trace root of the query's embedding, the ranked results and
    the token ids the embedding started from (op 0 of that trace, with its proof)."""

    trace_root: bytes
    results: tuple[Result, ...]
    tokens: TokenIds | None = None


def token_ids(trace: Trace) -> TokenIds:
    """Op 0 of `trace` (the token ids, `tokens`) with its positional proof against the root."""
    op = trace.index(TOKENS_OP)
    return TokenIds(tuple(int(i) for i in trace.output(op)), trace.prove_op(op))


def rank(encoder: Encoder, snapshot: Snapshot, index: ExactIndex, query: str, k: int) -> Ranking:
    """The exact top-k of `query` over `snapshot`, and the root of the query's engine trace."""
    embedding, trace = encoder.embed_with_trace(query)
    positions, scores = index.search(embedding[None, :], k)
    results = tuple(
        Result.of(snapshot.passages[int(p)], int(s))
        for p, s in zip(positions[0], scores[0], strict=True)
    )
    return Ranking(trace.root, results, token_ids(trace))


def sign_answer(
    signer: Any,
    domain: Domain,
    model_root: bytes,
    snapshot_root: bytes,
    query: str,
    ranking: Ranking,
    fee: int,
    nonce: int,
    issued_at: int,
) -> ReceiptDocument:
    """The signed receipt document of a ranking."""
    receipt = {
        "operator": signer.address,
        "modelRoot": "0x" + model_root.hex(),
        "snapshotRoot": "0x" + snapshot_root.hex(),
        "queryHash": "0x" + query_hash(query).hex(),
        "traceRoot": "0x" + ranking.trace_root.hex(),
        "resultHash": result_tree(ranking.results).root_hex,
        "k": len(ranking.results),
        "fee": fee,
        "nonce": nonce,
        "issuedAt": issued_at,
    }
    signature = sign_receipt(signer, domain, receipt)
    return ReceiptDocument(
        domain, receipt, signature, query, ranking.results, tokens=ranking.tokens
    )
