"""The signed receipt of one answer, and the JSON document that carries it.

`Receipt` is EIP-712 typed data in the domain `Aigora`/`1` (chain id, registry address), so a
receipt never replays on another chain or deployment:

    Receipt{operator, modelRoot, snapshotRoot, queryHash, traceRoot, resultHash, k, fee, nonce,
            issuedAt}

- `queryHash` = keccak256(query as UTF-8).
- `traceRoot` = the engine trace root of embedding the query (its last op is the query's int8
  embedding, which a contract can check one element of).
- `resultHash` = the StandardMerkleTree root over `(rank, passageKey, score)` leaves
  (`uint256, bytes32, int256`), one per ranked result, so one result is provable on-chain. The
  passage key (`aigora.index.passage_key`) names the document's CID, the passage's index and
  its character span, so a result says which place in which document it is.
- `k` = the number of ranked results (the request's k, capped at the snapshot's size).
- `fee` in the token's smallest unit; `nonce` unique per operator and domain; `issuedAt` unix s.

The document adds what re-execution needs: the query text, the ranked results, the signature,
the query's token ids as the operator embedded them with their proof against `traceRoot` (op 0
of the trace, `tokens`; the signed struct needs no field of its own, as `traceRoot` commits to
them) and, once the receipt's batch is anchored, the anchor (batch id and Merkle proof of the
digest). The token ids let any verifier check tokenization, the one step of an answer no contract
can recompute, without trusting the node, and let a challenger see before filing whether an
embedding game could end at op 0.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aigora.content.signed import domain_for
from aigora.core.cid import InvalidCID, digest_of
from aigora.core.eip712 import Domain, hash_typed, recover_typed, sign_typed, typed_data
from aigora.core.errors import AigoraError, EncodingError
from aigora.core.hashing import keccak
from aigora.core.merkle import StandardMerkleTree
from aigora.index import PassageError, PassageRef

DOCUMENT_VERSION = 2
"""2: results are passages (CID, passage index, span)."""
MAX_K = 100
MAX_QUERY_CHARS = 2000
RESULT_LEAF = ("uint256", "bytes32", "int256")
MAX_TOKEN_IDS = 4096
"""Far above any model's `max_tokens`: the most token ids a document may carry."""
MAX_PROOF_DEPTH = 32
RECEIPT_LEAF = ("bytes32",)
"""Anchored receipt batches are trees over receipt digests, like content and attestations."""

RECEIPT_TYPES = {
    "Receipt": [
        {"name": "operator", "type": "address"},
        {"name": "modelRoot", "type": "bytes32"},
        {"name": "snapshotRoot", "type": "bytes32"},
        {"name": "queryHash", "type": "bytes32"},
        {"name": "traceRoot", "type": "bytes32"},
        {"name": "resultHash", "type": "bytes32"},
        {"name": "k", "type": "uint32"},
        {"name": "fee", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "issuedAt", "type": "uint64"},
    ]
}
_FIELDS = tuple(f["name"] for f in RECEIPT_TYPES["Receipt"])
_BYTES32_FIELDS = ("modelRoot", "snapshotRoot", "queryHash", "traceRoot", "resultHash")
_AMOUNT_FIELDS = ("fee", "nonce")


class MalformedReceipt(AigoraError):
    """The input is not a receipt document at all (unusable input, not an invalid receipt)."""


@dataclass(frozen=True)
class Result:
    """One ranked passage: its document's CID, its exact integer score, and which passage of
    the document it is (index and character span; a document read whole is passage 0, span
    (0, 0))."""

    cid: str
    score: int
    passage: int = 0
    start: int = 0
    end: int = 0

    @property
    def ref(self) -> PassageRef:
        return PassageRef(self.cid, self.passage, self.start, self.end)

    @property
    def key(self) -> bytes:
        return self.ref.key

    @classmethod
    def of(cls, passage: PassageRef, score: int) -> "Result":
        return cls(passage.cid, score, passage.index, passage.start, passage.end)


@dataclass(frozen=True)
class Anchor:
    batch_id: int
    proof: tuple[str, ...]


@dataclass(frozen=True)
class TokenIds:
    """The query's token ids as the operator embedded them (op 0 of its trace, `tokens`), and
    that op's tensor leaf's positional proof against the receipt's `traceRoot`."""

    ids: tuple[int, ...]
    proof: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ids": list(self.ids), "proof": ["0x" + p.hex() for p in self.proof]}


@dataclass(frozen=True)
class ReceiptDocument:
    """A receipt with everything needed to check it. `receipt` holds the signed fields with
    bytes32 values as 0x-hex, `fee`/`nonce` as int, the rest as int or address string."""

    domain: Domain
    receipt: Mapping[str, Any]
    signature: bytes
    query: str
    results: tuple[Result, ...]
    anchor: Anchor | None = None
    tokens: TokenIds | None = None
    """None only in a document that does not carry them, which no verifier accepts."""

    @property
    def operator(self) -> str:
        return str(self.receipt["operator"])

    @property
    def nonce(self) -> int:
        return int(self.receipt["nonce"])

    def digest(self) -> bytes:
        """The EIP-712 digest: the receipt's identity, and its leaf in an anchored batch."""
        return receipt_digest(self.domain, self.receipt)

    def with_anchor(self, anchor: Anchor | None) -> "ReceiptDocument":
        return replace(self, anchor=anchor)

    def to_json(self) -> dict[str, Any]:
        receipt = {
            name: str(self.receipt[name]) if name in _AMOUNT_FIELDS else self.receipt[name]
            for name in _FIELDS
        }
        return {
            "version": DOCUMENT_VERSION,
            "domain": self.domain.as_dict(),
            "receipt": receipt,
            "signature": "0x" + self.signature.hex(),
            "query": self.query,
            "results": [
                {
                    "rank": rank,
                    "cid": r.cid,
                    "passage": r.passage,
                    "span": [r.start, r.end],
                    "score": r.score,
                }
                for rank, r in enumerate(self.results)
            ],
            "tokens": None if self.tokens is None else self.tokens.to_json(),
            "anchor": None
            if self.anchor is None
            else {"batchId": self.anchor.batch_id, "proof": list(self.anchor.proof)},
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2) + "\n"


def query_hash(query: str) -> bytes:
    return keccak(query.encode("utf-8"))


def result_tree(results: Sequence[Result]) -> StandardMerkleTree:
    """The tree `resultHash` is the root of; leaf i is (i, passage key, score)."""
    if not results:
        raise EncodingError("a receipt needs at least one result")
    return StandardMerkleTree.of(
        [(rank, r.key, r.score) for rank, r in enumerate(results)], RESULT_LEAF
    )


def receipt_digest(domain: Domain, receipt: Mapping[str, Any]) -> bytes:
    return hash_typed(domain, RECEIPT_TYPES, "Receipt", dict(receipt))


def sign_receipt(signer: Any, domain: Domain, receipt: Mapping[str, Any]) -> bytes:
    return sign_typed(signer, domain, RECEIPT_TYPES, "Receipt", dict(receipt))


def recover_receipt_signer(document: ReceiptDocument) -> str:
    """The address whose key signed the document's receipt in its domain."""
    return recover_typed(
        document.domain, RECEIPT_TYPES, "Receipt", dict(document.receipt), document.signature
    )


# -- parsing -----------------------------------------------------------------------------------


def parse_document(data: Any) -> ReceiptDocument:
    """A `ReceiptDocument` from decoded JSON; `MalformedReceipt` names the first problem."""
    if not isinstance(data, Mapping):
        raise MalformedReceipt("a receipt document is a JSON object")
    if type(data.get("version")) is not int or data.get("version") != DOCUMENT_VERSION:
        raise MalformedReceipt(f"unsupported receipt document version {data.get('version')!r}")
    missing = [k for k in ("domain", "receipt", "signature", "query", "results") if k not in data]
    if missing:
        raise MalformedReceipt(f"the document lacks {', '.join(missing)}")
    return ReceiptDocument(
        domain=_parse_domain(data["domain"]),
        receipt=_parse_receipt(data["receipt"]),
        signature=_hex_bytes(data["signature"], "signature", 65),
        query=_text(data["query"]),
        results=_parse_results(data["results"]),
        anchor=_parse_anchor(data.get("anchor")),
        tokens=_parse_tokens(data.get("tokens")),
    )


def loads_document(text: str | bytes) -> ReceiptDocument:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedReceipt(f"not JSON: {exc}") from None
    return parse_document(data)


def _parse_domain(value: Any) -> Domain:
    if not isinstance(value, Mapping):
        raise MalformedReceipt("domain must be an object")
    try:
        domain = Domain(
            value["name"], value["version"], value["chainId"], value["verifyingContract"]
        )
    except (KeyError, AigoraError) as exc:
        raise MalformedReceipt(f"bad domain: {exc}") from None
    if domain != domain_for(domain.chain_id, domain.verifying_contract):
        raise MalformedReceipt(f"not an Aigora domain: {domain.name!r} version {domain.version!r}")
    return domain


def _parse_receipt(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) != set(_FIELDS):
        raise MalformedReceipt(f"receipt must have exactly the fields {', '.join(_FIELDS)}")
    receipt: dict[str, Any] = {}
    for name in _FIELDS:
        item = value[name]
        if name in _BYTES32_FIELDS:
            receipt[name] = "0x" + _hex_bytes(item, name, 32).hex()
        elif name == "operator":
            receipt[name] = "0x" + _hex_bytes(item, name, 20).hex()
        else:
            receipt[name] = _integer(item, name)
    try:
        # Normalises the operator to its checksum and checks every value fits its type.
        normal = typed_data(_ANY_DOMAIN, RECEIPT_TYPES, "Receipt", receipt)["message"]
    except AigoraError as exc:
        raise MalformedReceipt(f"bad receipt field: {exc}") from None
    receipt["operator"] = normal["operator"]
    return receipt


_ANY_DOMAIN = domain_for(1, "0x" + "00" * 20)


def _parse_results(value: Any) -> tuple[Result, ...]:
    if not isinstance(value, list) or not value:
        raise MalformedReceipt("results must be a non-empty list")
    if len(value) > MAX_K:
        raise MalformedReceipt(f"at most {MAX_K} results, got {len(value)}")
    results = []
    for rank, item in enumerate(value):
        if (
            not isinstance(item, Mapping)
            or type(item.get("rank")) is not int
            or item["rank"] != rank
        ):
            raise MalformedReceipt(f"result {rank} must be an object with rank {rank}")
        cid, span = item.get("cid"), item.get("span")
        try:
            digest_of(cid)
        except InvalidCID as exc:
            raise MalformedReceipt(f"result {rank}: {exc}") from None
        if not isinstance(span, list) or len(span) != 2 or type(item.get("passage")) is not int:
            raise MalformedReceipt(f"result {rank} needs a passage index and a [start, end] span")
        if any(type(i) is not int for i in span):
            raise MalformedReceipt(f"result {rank}: span offsets must be integers")
        try:
            passage = PassageRef(cid, item["passage"], span[0], span[1])
        except PassageError as exc:
            raise MalformedReceipt(f"result {rank}: {exc}") from None
        score = _integer(item.get("score"), f"result {rank} score", True)
        results.append(Result.of(passage, score))
    return tuple(results)


def _parse_anchor(value: Any) -> Anchor | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not isinstance(value.get("proof"), list):
        raise MalformedReceipt("anchor must be null or {batchId, proof}")
    proof = tuple("0x" + _hex_bytes(p, "anchor proof", 32).hex() for p in value["proof"])
    return Anchor(_integer(value.get("batchId"), "anchor batchId"), proof)


def _parse_tokens(value: Any) -> TokenIds | None:
    if value is None:
        return None
    if (
        not isinstance(value, Mapping)
        or not isinstance(value.get("ids"), list)
        or not isinstance(value.get("proof"), list)
    ):
        raise MalformedReceipt("tokens must be null or {ids, proof}")
    ids, proof = value["ids"], value["proof"]
    if not 1 <= len(ids) <= MAX_TOKEN_IDS:
        raise MalformedReceipt(f"tokens must list 1 to {MAX_TOKEN_IDS} ids")
    if any(type(i) is not int or not 0 <= i < 2**31 for i in ids):
        raise MalformedReceipt("token ids must be integers from 0 to 2^31 - 1")
    if len(proof) > MAX_PROOF_DEPTH:
        raise MalformedReceipt(f"the tokens proof has more than {MAX_PROOF_DEPTH} hashes")
    return TokenIds(tuple(ids), tuple(_hex_bytes(p, "tokens proof", 32) for p in proof))


_DECIMAL = re.compile(r"-?[0-9]{1,78}")
_HEX = re.compile(r"0x[0-9a-fA-F]*")


def _integer(value: Any, name: str, signed: bool = False) -> int:
    """An int in uint256 range (int256 when `signed`), given as a JSON integer or a decimal
    string of at most 78 digits; bools are not integers here."""
    if isinstance(value, str) and value.isascii() and _DECIMAL.fullmatch(value):
        value = int(value)
    if type(value) is not int:
        raise MalformedReceipt(f"{name} must be an integer")
    low, high = (-(2**255), 2**255 - 1) if signed else (0, 2**256 - 1)
    if not low <= value <= high:
        kind = "int256" if signed else "a non-negative uint256"
        raise MalformedReceipt(f"{name} must be {kind}")
    return value


def _hex_bytes(value: Any, name: str, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 + 2 * size or not _HEX.fullmatch(value):
        raise MalformedReceipt(f"{name} must be 0x and {2 * size} hex digits")
    return bytes.fromhex(value[2:])


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MalformedReceipt("query must be a non-empty string")
    if len(value) > MAX_QUERY_CHARS:
        raise MalformedReceipt(f"query is longer than {MAX_QUERY_CHARS} characters")
    return value
