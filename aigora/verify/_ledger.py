"""Receipts in the database: the operator's log of what it signed, and a verifier's memory of
what it has seen.

Issuing is atomic: the nonce is the next one for the operator and the receipt row is written in
the same transaction, under a unique (domain, operator, nonce) constraint, so two answers can
never share a nonce even when issued concurrently (the loser retries with the next one). A
caller's `record` hook writes in that same transaction (a paid ask books its voucher there), so
the receipt and what it was paid with commit together or not at all.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aigora.content.anchoring import inclusion_proof
from aigora.core.eip712 import Domain
from aigora.core.errors import NotFound
from aigora.store.answer_models import ReceiptRecord, SeenReceipt
from aigora.store.db import session_scope
from aigora.store.models import AnchorKind
from aigora.verify._receipt import Anchor, ReceiptDocument, loads_document

_ATTEMPTS = 5


def issue_receipt(
    db: Engine,
    domain: Domain,
    operator: str,
    sign: Callable[[int], ReceiptDocument],
    floor: int = 0,
    record: Callable[[Session, ReceiptDocument], None] | None = None,
) -> ReceiptDocument:
    """Sign (`sign(nonce)`) and record a receipt under the operator's next nonce: one above the
    last recorded here and above `floor` (the last nonce the operator anchored on-chain, so a node
    that lost its database never reuses a nonce the registry will not anchor again). Nonce n + 1
    is read only once n is committed, so nonces are committed in order. `record(session,
    document)` runs in the receipt's transaction once its row is written; whatever it raises
    rolls the receipt back too."""
    for _ in range(_ATTEMPTS):
        try:
            with session_scope(db) as session:
                last = session.scalar(
                    select(func.max(ReceiptRecord.nonce)).where(
                        ReceiptRecord.chain_id == domain.chain_id,
                        ReceiptRecord.registry_address == domain.verifying_contract,
                        ReceiptRecord.operator == operator,
                    )
                )
                document = sign(max(last or 0, floor) + 1)
                session.add(
                    ReceiptRecord(
                        digest="0x" + document.digest().hex(),
                        chain_id=domain.chain_id,
                        registry_address=domain.verifying_contract,
                        operator=operator,
                        nonce=document.nonce,
                        snapshot_root=document.receipt["snapshotRoot"],
                        fee=str(document.receipt["fee"]),
                        issued_at=int(document.receipt["issuedAt"]),
                        document=document.dumps(),
                    )
                )
                if record is not None:
                    session.flush()
                    record(session, document)
            return document
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a receipt nonce after several attempts")


def stored_receipt(db: Engine, digest: str) -> ReceiptDocument:
    """A receipt this node issued, with its anchor proof once its batch is anchored."""
    digest = digest.lower()
    with session_scope(db) as session:
        record = session.get(ReceiptRecord, digest)
        if record is None:
            raise NotFound(f"no receipt {digest} here")
        text = record.document
    document = loads_document(text)
    proof = inclusion_proof(db, AnchorKind.RECEIPTS, digest)
    if proof is None:
        return document
    return document.with_anchor(Anchor(int(proof["batch_id"]), tuple(proof["proof"])))


class DbNonceLedger:
    """A verifier's memory of receipts, in its own database (`seen_receipts`)."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def remember(self, document: ReceiptDocument, digest: bytes) -> bytes | None:
        domain = document.domain
        key = (
            SeenReceipt.chain_id == domain.chain_id,
            SeenReceipt.registry_address == domain.verifying_contract,
            SeenReceipt.operator == document.operator,
            SeenReceipt.nonce == str(document.nonce),
        )
        with session_scope(self.db) as session:
            seen = session.scalar(select(SeenReceipt).where(*key))
            if seen is not None:
                return (
                    None if seen.digest == "0x" + digest.hex() else bytes.fromhex(seen.digest[2:])
                )
            session.add(
                SeenReceipt(
                    chain_id=domain.chain_id,
                    registry_address=domain.verifying_contract,
                    operator=document.operator,
                    nonce=str(document.nonce),
                    digest="0x" + digest.hex(),
                    seen_at=datetime.now(UTC),
                )
            )
        return None
