"""Reading disputes back from the contract: each dispute and embedding game as a named state."""

from typing import Any

from pydantic import BaseModel
from web3.contract import Contract

from aigora.chain import Chain, TxResult, read_dispute, read_game
from aigora.core.cid import cid_from_digest
from aigora.core.errors import NotFound
from aigora.verify import GameState

KIND_NAMES = {1: "score", 2: "order", 3: "stale", 4: "omission", 5: "embedding"}
OMISSION = 4
EMBEDDING = 5
STATUS_NAMES = {1: "open", 2: "challenger won", 3: "challenger lost"}


class DisputeState(BaseModel):
    """A dispute as the contract holds it, with the outcome of the transaction that touched it
    last (when this report comes from one)."""

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


def game_state(chain: Chain, disputes: Contract, dispute_id: int) -> GameState:
    """What the contract's `games(id)` holds for an embedding dispute, decoded."""
    return GameState.from_record(read_game(chain, disputes, dispute_id))


def dispute_state(chain: Chain, disputes: Contract, dispute_id: int) -> DisputeState:
    record = read_dispute(chain, disputes, dispute_id)
    if record.status == 0:
        raise NotFound(f"no dispute {dispute_id}")
    return DisputeState(
        dispute_id=dispute_id,
        kind=KIND_NAMES.get(record.kind, str(record.kind)),
        status=STATUS_NAMES.get(record.status, str(record.status)),
        digest="0x" + record.digest.hex(),
        challenger=record.challenger,
        operator=record.operator,
        deadline=record.deadline,
        passage_cid=cid_from_digest(record.passage_cid) if record.kind == OMISSION else None,
        phase=game_state(chain, disputes, dispute_id).phase if record.kind == EMBEDDING else None,
    )


def state_after(
    chain: Chain, disputes: Contract, result: TxResult, dispute_id: int | None = None
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
    return state.model_copy(update=extra)
