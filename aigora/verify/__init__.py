"""Receipts for answers, and checking them: anyone re-executes an answer from public data.

An operator answers a question with the exact top-k of a registered snapshot and signs a
`Receipt` (EIP-712) over the model, snapshot, query, engine trace, ranked results, fee and a
unique nonce. `verify` checks the domain, the pinned model if any, the signature, that the
registry and its slasher run our own contract code (so a cheater can lose its bond), the
operator's registration (not slashed, not leaving), the model and snapshot registrations (foreign
or stale snapshots fail), the anchor proof and the nonce, then checks the token ids the receipt
carries against its trace root and the model's tokenizer, re-embeds the query and re-ranks the
snapshot: VALID, or INVALID with the rule that failed and the first point of difference.
"""

from aigora.verify._answer import (
    BadQuestion,
    Ranking,
    check_question,
    rank,
    sign_answer,
    token_ids,
)
from aigora.verify._challenge import CHECKS_WITH_CLAIMS, Claim, NoClaim, plan_claim
from aigora.verify._claims import (
    EMBEDDING_OP,
    NotAnchored,
    Passage,
    QueryEmbedding,
    ResultEntry,
    anchor_arg,
    passage,
    query_embedding,
    receipt_arg,
    result_entry,
)
from aigora.verify._game import OPERATOR_PHASES, PHASES, GameError, GameState, Honest, OperatorView
from aigora.verify._ledger import DbNonceLedger, issue_receipt, stored_receipt
from aigora.verify._receipt import (
    MAX_K,
    RECEIPT_TYPES,
    RESULT_LEAF,
    Anchor,
    MalformedReceipt,
    ReceiptDocument,
    Result,
    TokenIds,
    loads_document,
    parse_document,
    query_hash,
    receipt_digest,
    result_tree,
    sign_receipt,
)
from aigora.verify._registry import (
    DISPUTES_LINKS,
    DISPUTES_PARAMETERS,
    BatchFacts,
    ChainRegistry,
    DeploymentFacts,
    OperatorFacts,
    RegistryFacts,
    SnapshotFacts,
    runs_contract,
)
from aigora.verify._sources import HttpSource, LocalFiles, PublicData, Sources, Unavailable
from aigora.verify._step import StepArguments, expected_value, step_arguments
from aigora.verify._verify import (
    STALE_GRACE_S,
    AdmissionFacts,
    Invalid,
    NonceLedger,
    Verdict,
    check_admission,
    check_tokens,
    first_difference,
    first_token_difference,
    proves_tokens,
    verify,
)

__all__ = [
    "CHECKS_WITH_CLAIMS",
    "DISPUTES_LINKS",
    "DISPUTES_PARAMETERS",
    "EMBEDDING_OP",
    "MAX_K",
    "OPERATOR_PHASES",
    "PHASES",
    "RECEIPT_TYPES",
    "RESULT_LEAF",
    "STALE_GRACE_S",
    "AdmissionFacts",
    "Anchor",
    "BadQuestion",
    "BatchFacts",
    "ChainRegistry",
    "Claim",
    "DbNonceLedger",
    "DeploymentFacts",
    "GameError",
    "GameState",
    "Honest",
    "HttpSource",
    "Invalid",
    "LocalFiles",
    "MalformedReceipt",
    "NoClaim",
    "NonceLedger",
    "NotAnchored",
    "OperatorFacts",
    "OperatorView",
    "Passage",
    "PublicData",
    "QueryEmbedding",
    "Ranking",
    "ReceiptDocument",
    "RegistryFacts",
    "Result",
    "ResultEntry",
    "SnapshotFacts",
    "Sources",
    "StepArguments",
    "TokenIds",
    "Unavailable",
    "Verdict",
    "anchor_arg",
    "check_admission",
    "check_question",
    "check_tokens",
    "expected_value",
    "first_difference",
    "first_token_difference",
    "issue_receipt",
    "loads_document",
    "parse_document",
    "passage",
    "plan_claim",
    "proves_tokens",
    "query_embedding",
    "query_hash",
    "rank",
    "receipt_arg",
    "receipt_digest",
    "result_entry",
    "result_tree",
    "runs_contract",
    "sign_answer",
    "sign_receipt",
    "step_arguments",
    "stored_receipt",
    "token_ids",
    "verify",
]
