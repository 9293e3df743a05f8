"""Filing and answering disputes: the chain-facing side of `aigora.verify._challenge`.

A challenger files the claim `plan_claim` chose (approving the bond first); an operator's node
rebuts omission claims against its receipts whenever the passage is in fact listed, and anyone
closes an unrebutted omission claim after its deadline. Amounts are token units (integers).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from aigora.chain import Chain
from aigora.chain.client import TxResult, TxSigner
from aigora.core.cid import cid_from_digest
from aigora.core.errors import AigoraError, NotFound
from aigora.verify import ReceiptDocument, stored_receipt
from aigora.verify._challenge import Claim
from aigora.verify._claims import anchor_arg, receipt_arg, result_entry
from aigora.verify._game import GameState

KIND_NAMES = {1: "score", 2: "order", 3: "stale", 4: "omission", 5: "embedding"}
OMISSION = 4
EMBEDDING = 5
STATUS_NAMES = {1: "open", 2: "challenger won", 3: "challenger lost"}


class NoDisputes(AigoraError):
    """This chain has no disputes contract the node knows of."""


@dataclass(frozen=True)
class DisputeState:
    dispute_id: int
    kind: str
    status: str
    digest: str
    challenger: str
    operator: str
    deadline: int
    passage_cid: str | None = None
    phase: str | None = None
    tx_hash: str | None = None
    gas_used: int | None = None
    slashed: int | None = None
    paid_to: str | None = None
    amount: int | None = None


def require(disputes: Any) -> Any:
    if disputes is None:
        raise NoDisputes("no disputes contract is deployed for this node's registry")
    return disputes


def file_claim(
    chain: Chain,
    disputes: Any,
    token: Any,
    signer: TxSigner,
    document: ReceiptDocument,
    claim: Claim,
) -> DisputeState:
    """Approve the challenger bond and file `claim` against the anchored `document`."""
    bond = chain.call(disputes.functions.challenger_bond())
    receipt, signature, anchor = receipt_arg(document), document.signature, anchor_arg(document)
    functions = disputes.functions
    if claim.kind == "score":
        call = functions.challenge_score(
            receipt,
            signature,
            anchor,
            claim.entry.as_arg(),
            claim.passage.as_arg(),
            claim.query.as_arg(),
        )
    elif claim.kind == "order":
        call = functions.challenge_order(
            receipt, signature, anchor, claim.entry.as_arg(), claim.lower.as_arg()
        )
    elif claim.kind == "stale":
        call = functions.challenge_stale(receipt, signature, anchor, claim.newer_snapshot)
    elif claim.kind == "embedding":
        call = functions.challenge_embedding(receipt, signature, anchor)
    elif claim.kind == "omission":
        call = functions.challenge_omission(
            receipt,
            signature,
            anchor,
            claim.entry.as_arg(),
            claim.passage.as_arg(),
            claim.query.as_arg(),
        )
    else:
        raise AigoraError(f"unknown claim kind {claim.kind!r}")
    chain.transact(signer, token.functions.approve(disputes.address, bond))
    result = chain.transact(signer, call)
    return _state_after(chain, disputes, result)


def rebut_omissions(
    chain: Chain, db: Engine, disputes: Any, signer: TxSigner, from_block: int = 0
) -> list[DisputeState]:
    """Rebut every open omission claim against this node's receipts whose passage is listed."""
    answered = []
    for log in chain.events(disputes.events.DisputeOpened, from_block=from_block):
        state = dispute_state(chain, disputes, int(log.args.dispute_id))
        if state.kind != "omission" or state.status != "open":
            continue
        if state.deadline < chain.now():
            continue
        try:
            document = stored_receipt(db, state.digest)
        except NotFound:
            continue  # not one of ours
        ranks = [rank for rank, r in enumerate(document.results) if r.cid == state.passage_cid]
        if not ranks:
            continue  # the claim holds: nothing honest to answer
        entry = result_entry(document, ranks[0]).as_arg()
        result = chain.transact(signer, disputes.functions.rebut_omission(state.dispute_id, entry))
        answered.append(_state_after(chain, disputes, result, state.dispute_id))
    return answered


def resolve(chain: Chain, disputes: Any, signer: TxSigner, dispute_id: int) -> DisputeState:
    """Close a dispute whose mover let its deadline pass: an unrebutted omission claim (the
    challenger wins) or an embedding game (the silent side loses)."""
    result = chain.transact(signer, disputes.functions.resolve_timeout(dispute_id))
    return _state_after(chain, disputes, result, dispute_id)


def dispute_state(chain: Chain, disputes: Any, dispute_id: int) -> DisputeState:
    digest, kind, challenger, operator, passage_cid, _result, deadline, status = chain.call(
        disputes.functions.disputes(dispute_id)
    )
    if status == 0:
        raise NotFound(f"no dispute {dispute_id}")
    return DisputeState(
        dispute_id,
        KIND_NAMES.get(int(kind), str(kind)),
        STATUS_NAMES.get(int(status), str(status)),
        "0x" + bytes(digest).hex(),
        str(challenger),
        str(operator),
        int(deadline),
        cid_from_digest(bytes(passage_cid)) if int(kind) == OMISSION else None,
        game_state(chain, disputes, dispute_id).phase if int(kind) == EMBEDDING else None,
    )


def game_state(chain: Chain, disputes: Any, dispute_id: int) -> GameState:
    """What the contract's `games(id)` holds for an embedding dispute, decoded."""
    return GameState.from_call(chain.call(disputes.functions.games(dispute_id)))


def _state_after(
    chain: Chain, disputes: Any, result: TxResult, dispute_id: int | None = None
) -> DisputeState:
    opened = chain.events_in(result, disputes.events.DisputeOpened)
    if dispute_id is None:
        dispute_id = int(opened[0].args.dispute_id)
    state = dispute_state(chain, disputes, dispute_id)
    resolved = chain.events_in(result, disputes.events.DisputeResolved)
    extra: dict[str, Any] = {"tx_hash": result.tx_hash, "gas_used": result.gas_used}
    if resolved:
        args = resolved[0].args
        extra.update(slashed=int(args.slashed), paid_to=str(args.paid_to), amount=int(args.amount))
    return DisputeState(**{**state.__dict__, **extra})
