"""Reading disputes back from the contract: each dispute and embedding game as a named state."""

from typing import Any

from pydantic import BaseModel
from web3.contract import Contract

from aigora.chain import Chain, TxResult, read_dispute, read_game, read_share, read_slash
from aigora.core.errors import NotFound
from aigora.verify import GameState

KIND_NAMES = {1: "score", 2: "order", 3: "stale", 4: "omission", 5: "embedding"}
OMISSION = 4
EMBEDDING = 5
STATUS_NAMES = {1: "open", 2: "challenger won", 3: "challenger lost"}


class RewardState(BaseModel):
    """A won dispute's share of its operator's slash (`Registry.collect_reward`): `pool` is split
    into `shares` equal parts (winners plus the disputes still open that may share, fixed at the
    first collect after `window_ends`). `owed` is False once collected (or if the dispute won
    after the window, when it shares nothing); `share` is what it gets (or would, if the shares
    were fixed now)."""

    owed: bool
    pool: int
    winners: int
    window_ends: int
    pending: int
    shares: int
    share: int
    collectable: bool


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
    passage_key: str | None = None
    """An omission claim's passage key (0x-hex): see `aigora.index.passage_key`."""
    phase: str | None = None
    tx_hash: str | None = None
    gas_used: int | None = None
    slashed: int | None = None
    paid_to: str | None = None
    amount: int | None = None
    reward: RewardState | None = None


def registry_of(chain: Chain, disputes: Contract) -> Contract:
    return chain.contract("Registry", chain.call(disputes.functions.registry()))


def reward_state(chain: Chain, disputes: Contract, dispute_id: int, operator: str) -> RewardState:
    registry = registry_of(chain, disputes)
    share = read_share(chain, registry, dispute_id)
    slash = read_slash(chain, registry, operator)
    return RewardState(
        owed=share.owed,
        pool=slash.pool,
        winners=slash.winners,
        window_ends=slash.window_ends,
        pending=slash.pending,
        shares=slash.shares,
        share=slash.share() if share.owed else 0,
        collectable=share.owed and chain.now() > slash.window_ends,
    )


def game_state(chain: Chain, disputes: Contract, dispute_id: int) -> GameState:
    """What the contract's `games(id)` holds for an embedding dispute, decoded."""
    return GameState.from_record(read_game(chain, disputes, dispute_id))


def dispute_state(chain: Chain, disputes: Contract, dispute_id: int) -> DisputeState:
    record = read_dispute(chain, disputes, dispute_id)
    if record.status == 0:
        raise NotFound(f"no dispute {dispute_id}")
    won = record.status == 2
    return DisputeState(
        reward=reward_state(chain, disputes, dispute_id, record.operator) if won else None,
        dispute_id=dispute_id,
        kind=KIND_NAMES.get(record.kind, str(record.kind)),
        status=STATUS_NAMES.get(record.status, str(record.status)),
        digest="0x" + record.digest.hex(),
        challenger=record.challenger,
        operator=record.operator,
        deadline=record.deadline,
        passage_key="0x" + record.passage_key.hex() if record.kind == OMISSION else None,
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
        slashes = chain.events_in(result, registry_of(chain, disputes).events.OperatorSlashed)
        extra.update(
            slashed=sum(int(log.args.amount) for log in slashes),
            paid_to=str(args.paid_to),
            amount=int(args.amount),
        )
    return state.model_copy(update=extra)
