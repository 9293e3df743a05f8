"""The arguments a dispute contract call takes, built from public data: the receipt as a struct,
its anchor, one ranked result with its proof against `resultHash`, one snapshot passage with its
proof against `snapshotRoot`, and the query embedding with its proof against `traceRoot`.

Each is a frozen dataclass with `as_arg()`, the tuple web3 passes for the Vyper struct of the same
name in `Disputes.vy`, so the contract and this module describe one format.
"""

from dataclasses import dataclass

from aigora.core.errors import AigoraError
from aigora.engine import Trace
from aigora.index import Snapshot
from aigora.verify._receipt import ReceiptDocument, result_tree

EMBEDDING_OP = "embedding"


class NotAnchored(AigoraError):
    """A dispute needs the receipt's batch proof, and the receipt has none yet."""


def _b32(value: str) -> bytes:
    return bytes.fromhex(value[2:])


def receipt_arg(document: ReceiptDocument) -> tuple:
    """`Receipt` struct: the signed fields in EIP-712 order."""
    r = document.receipt
    return (
        r["operator"],
        _b32(r["modelRoot"]),
        _b32(r["snapshotRoot"]),
        _b32(r["queryHash"]),
        _b32(r["traceRoot"]),
        _b32(r["resultHash"]),
        int(r["k"]),
        int(r["fee"]),
        int(r["nonce"]),
        int(r["issuedAt"]),
    )


def anchor_arg(document: ReceiptDocument) -> tuple:
    """`Anchor` struct (batch id, proof of the receipt digest in the batch)."""
    if document.anchor is None:
        raise NotAnchored("the receipt is not anchored yet; disputes need its batch proof")
    return (document.anchor.batch_id, [_b32(p) for p in document.anchor.proof])


@dataclass(frozen=True)
class ResultEntry:
    rank: int
    key: bytes
    score: int
    proof: tuple[bytes, ...]

    def as_arg(self) -> tuple:
        return (self.rank, self.key, self.score, list(self.proof))


def result_entry(document: ReceiptDocument, rank: int) -> ResultEntry:
    """Result `rank` of the receipt with its proof against `resultHash`."""
    result = document.results[rank]
    proof = result_tree(document.results).get_proof(rank)
    return ResultEntry(rank, result.key, result.score, tuple(proof))


@dataclass(frozen=True)
class Passage:
    position: int
    key: bytes
    embedding: bytes
    proof: tuple[bytes, ...]

    def as_arg(self) -> tuple:
        return (self.position, self.key, self.embedding, list(self.proof))


def passage(snapshot: Snapshot, position: int) -> Passage:
    """Snapshot item `position`: passage key, int8 embedding bytes, proof against the root."""
    return Passage(
        position,
        snapshot.passages[position].key,
        snapshot.embeddings[position].tobytes(),
        tuple(snapshot.prove(position)),
    )


@dataclass(frozen=True)
class QueryEmbedding:
    """The trace's `embedding` op (int8, one chunk, so the chunk leaf is its tensor root) with
    its tensor leaf's positional proof against the trace root."""

    op_index: int
    embedding: bytes
    tensor_proof: tuple[bytes, ...]

    def as_arg(self) -> tuple:
        return (self.op_index, self.embedding, list(self.tensor_proof))


def query_embedding(trace: Trace) -> QueryEmbedding:
    op = trace.index(EMBEDDING_OP)
    proof = trace.prove(op, 0)
    if proof.tensor.dtype != "int8" or len(proof.tensor.shape) != 1:
        raise AigoraError("the trace's embedding op is not an int8 vector")
    return QueryEmbedding(op, proof.chunk, proof.tensor_proof)
