"""Which one-step claim proves a wrong answer on-chain, chosen from public data alone.

Verification says *that* a receipt is wrong; a dispute needs *one step* the contract recomputes.
`plan_claim` re-derives the ranking facts and picks the cheapest claim that holds, in this order:

1. **stale** — the operator had registered a newer snapshot for the model well before answering;
2. **score** — a listed passage's claimed score differs from its exact dot product with the query;
3. **order** — two adjacent results are out of order by their own claimed scores (then passage
   key);
4. **omission** — a passage not listed ranks before the last listed one;
5. **embedding** — the operator's trace (hence its query embedding) is not the honest one: a game
   over the trace (`aigora.verify._game`) ends at one element the contract recomputes.

Claims 2 and 4 use the query embedding the operator committed to in its trace, so they need it
to equal the honest one (same trace root); when the trace roots differ, the embedding claim comes
first, whatever else is wrong.

The game cannot judge op 0, the token ids: the contract cannot tokenize text, so a game whose
first differing op is `tokens` ends with the challenger unable to move, and its bond lost. An
embedding claim is therefore filed only when the receipt proves, against its own `traceRoot`,
that its token ids are the honest trace's. When it does not (other ids, a bad proof, none
carried), every verifier still proves the receipt wrong off-chain (`check_tokens`), but the one
claim left on-chain is an order claim over the receipt's own scores, if they are out of order.
"""

from dataclasses import dataclass

import numpy as np

from aigora.core.errors import AigoraError
from aigora.engine import TOKENS_OP, Trace
from aigora.index import Snapshot
from aigora.verify._claims import (
    EMBEDDING_OP,
    Passage,
    QueryEmbedding,
    ResultEntry,
    passage,
    query_embedding,
    result_entry,
)
from aigora.verify._receipt import ReceiptDocument
from aigora.verify._verify import Verdict, first_token_difference, proves_tokens

KINDS = ("score", "order", "omission", "stale", "embedding")
CHECKS_WITH_CLAIMS = ("tokens", "ranking", "trace")
"""Failed checks after which a claim may hold: the answer itself may be wrong. (A receipt
failing an earlier check binds nobody, except a stale snapshot's, which has its own claim.)"""


class NoClaim(AigoraError):
    """The receipt cannot be disputed on-chain (it is valid, or wrong in a way no claim covers)."""


@dataclass(frozen=True)
class Claim:
    kind: str
    reason: str
    entry: ResultEntry | None = None
    lower: ResultEntry | None = None
    passage: Passage | None = None
    query: QueryEmbedding | None = None
    newer_snapshot: bytes | None = None
    trace: Trace | None = None


def _ranks_before(a: tuple[int, bytes], b: tuple[int, bytes]) -> bool:
    """Score descending, then CID digest ascending."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] < b[1])


def plan_claim(
    document: ReceiptDocument, verdict: Verdict, snapshot: Snapshot | None, trace: Trace | None
) -> Claim:
    """The claim to file against `document`, given its INVALID `verdict`, the snapshot it names
    and the honest trace of its query; NoClaim says why there is none."""
    if verdict.valid:
        raise NoClaim("the receipt is VALID: there is nothing to challenge")
    difference = verdict.difference or {}
    if verdict.check == "snapshot" and "newer_snapshot" in difference:
        newer = bytes.fromhex(difference["newer_snapshot"][2:])
        return Claim("stale", verdict.reason, newer_snapshot=newer)
    if verdict.check not in CHECKS_WITH_CLAIMS:
        raise NoClaim(
            f"the receipt fails the {verdict.check} check ({verdict.reason}); it binds nobody "
            "on-chain, so there is nothing to dispute"
        )
    if snapshot is None or trace is None:
        raise NoClaim("the snapshot and the query's trace are needed to build a claim")
    if "0x" + trace.root.hex() != document.receipt["traceRoot"]:
        problem = token_problem(document, verdict, trace)
        if problem is not None:
            order = order_claim(document)
            if order is not None:
                return order
            raise NoClaim(
                f"no claim can win on-chain: {problem}; every verifier proves the receipt "
                "wrong off-chain, but the contract cannot check tokenization, so an embedding "
                "game could stop at op 0 and cost the challenger its bond"
            )
        return Claim(
            "embedding",
            "the operator's engine trace differs from the honest one (trace root "
            f"{document.receipt['traceRoot']}, honest 0x{trace.root.hex()})",
            trace=trace,
        )
    query = np.asarray(trace.output(EMBEDDING_OP), dtype=np.int64)
    proof = query_embedding(trace)
    for rank, result in enumerate(document.results):
        position = snapshot.positions.get(result.key)
        if position is None:
            raise NoClaim(
                f"result {rank} ({result.ref.id}) is not in the snapshot: not provable yet"
            )
        true = int(snapshot.embeddings[position].astype(np.int64) @ query)
        if true != result.score:
            return Claim(
                "score",
                f"rank {rank}: {result.ref.id} scores {true}, the receipt claims {result.score}",
                entry=result_entry(document, rank),
                passage=passage(snapshot, position),
                query=proof,
            )
    order = order_claim(document)
    if order is not None:
        return order
    listed = {r.key for r in document.results}
    scores = snapshot.embeddings.astype(np.int64) @ query
    order_of = np.lexsort((np.arange(len(snapshot)), -scores))
    last = document.results[-1]
    last_key = (last.score, last.key)
    for position in order_of:
        missing = snapshot.passages[int(position)]
        if missing.key in listed:
            continue
        candidate = (int(scores[position]), missing.key)
        if _ranks_before(candidate, last_key):
            return Claim(
                "omission",
                f"{missing.id} (score {candidate[0]}) ranks before the last result but is not "
                "listed",
                entry=result_entry(document, len(document.results) - 1),
                passage=passage(snapshot, int(position)),
                query=proof,
            )
        break
    raise NoClaim("no one-step claim holds for this receipt")


def order_claim(document: ReceiptDocument) -> Claim | None:
    """An order claim when two adjacent results are out of order by the receipt's own scores
    (then passage key): it needs nothing but the receipt, so it holds whatever the operator
    embedded."""
    keys = [(r.score, r.key) for r in document.results]
    for rank in range(len(keys) - 1):
        if not _ranks_before(keys[rank], keys[rank + 1]):
            return Claim(
                "order",
                f"ranks {rank} and {rank + 1} are out of order by their own scores",
                entry=result_entry(document, rank),
                lower=result_entry(document, rank + 1),
            )
    return None


def token_problem(document: ReceiptDocument, verdict: Verdict, trace: Trace) -> str | None:
    """Why an embedding game over `document` could end at op 0, or None when the receipt proves
    against its `traceRoot` that its token ids are the honest trace's (then the first differing
    op, if any, is one the contract recomputes). The reason is one line."""
    if not proves_tokens(document, len(trace)):
        if verdict.check == "tokens":
            return verdict.reason
        return "the receipt does not prove its token ids against its traceRoot"
    honest = trace.output(TOKENS_OP).tolist()
    difference = first_token_difference(document.tokens.ids, honest, lambda _id: None)
    if difference is None:
        return None
    where = f"token position {difference['position']}"
    if verdict.check == "tokens":
        where = verdict.reason
    return f"the operator embedded other token ids than the query's ({where})"
