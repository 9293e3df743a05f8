"""Receipts for answers, and checking them: anyone re-executes an answer from public data.

An operator answers a question with the exact top-k of a registered snapshot and signs a
`Receipt` (EIP-712) over the model, snapshot, query, engine trace, ranked results, fee and a
unique nonce. `verify` checks the domain, the signature, the operator's registration, the model
and snapshot registrations (foreign or stale snapshots fail), the anchor proof and the nonce,
then re-embeds the query and re-ranks the snapshot: VALID, or INVALID with the rule that failed
and the first point of difference.
"""

from aigora.verify._answer import BadQuestion, Ranking, check_question, rank, sign_answer
from aigora.verify._ledger import DbNonceLedger, issue_receipt, stored_receipt
from aigora.verify._receipt import (
    MAX_K,
    RECEIPT_TYPES,
    RESULT_LEAF,
    Anchor,
    MalformedReceipt,
    ReceiptDocument,
    Result,
    loads_document,
    parse_document,
    query_hash,
    receipt_digest,
    result_tree,
    sign_receipt,
)
from aigora.verify._registry import ChainRegistry, RegistryFacts
from aigora.verify._sources import HttpSource, LocalFiles, PublicData, Sources, Unavailable
from aigora.verify._verify import Invalid, NonceLedger, Verdict, first_difference, verify

__all__ = [
    "MAX_K",
    "RECEIPT_TYPES",
    "RESULT_LEAF",
    "Anchor",
    "BadQuestion",
    "ChainRegistry",
    "DbNonceLedger",
    "HttpSource",
    "Invalid",
    "LocalFiles",
    "MalformedReceipt",
    "NonceLedger",
    "PublicData",
    "Ranking",
    "ReceiptDocument",
    "RegistryFacts",
    "Result",
    "Sources",
    "Unavailable",
    "Verdict",
    "check_question",
    "first_difference",
    "issue_receipt",
    "loads_document",
    "parse_document",
    "query_hash",
    "rank",
    "receipt_digest",
    "result_tree",
    "sign_answer",
    "sign_receipt",
    "stored_receipt",
    "verify",
]
