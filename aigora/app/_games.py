"""Playing embedding games on-chain: the operator's answers and the challenger's moves.

`aigora.verify` (`Honest`, `OperatorView`) says what each side sends; this module reads the game
from the disputes contract (state and revealed data from its events), sends the move whose turn
it is, and closes a game whose mover let the deadline pass. A node plays both roles in
`play_games`: it answers games against its own receipts (re-running its engine on the receipt's
query, which gives the trace it committed to) and moves in games it filed (from `FiledChallenge`
rows), so a game survives a restart of either side. Which games are its own comes from the
node's dispute scan (`_watch`), which resumes from its cursor after a restart.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, select
from web3.contract import Contract
from web3.contract.contract import ContractEvent

from aigora.app._dispute_state import EMBEDDING, DisputeState, dispute_state, game_state
from aigora.app._watch import Watched, follow_disputes, mark_closed, open_watched
from aigora.chain import Chain, TxSigner
from aigora.core.errors import AigoraError, NotFound
from aigora.core.ordered_merkle import OrderedTree
from aigora.engine import IntModel, Trace
from aigora.store import FiledChallenge, session_scope
from aigora.verify import (
    OPERATOR_PHASES,
    Honest,
    OperatorView,
    ReceiptDocument,
    loads_document,
    step_arguments,
    stored_receipt,
)

log = logging.getLogger(__name__)

TraceOf = Callable[[ReceiptDocument], tuple[IntModel, Trace]]
"""The honest model and trace of a receipt's query (the model named by the receipt)."""


@dataclass(frozen=True)
class Move:
    """One move sent: who moved, what, and the game's phase after it."""

    dispute_id: int
    side: str
    move: str
    tx_hash: str
    gas_used: int


def remember_challenge(
    db: Engine, chain: Chain, disputes: Contract, dispute_id: int, document: ReceiptDocument
) -> None:
    """Keep the disputed receipt so this node (even restarted) can play the challenger's moves."""
    with session_scope(db) as session:
        session.add(
            FiledChallenge(
                chain_id=chain.chain_id,
                disputes_address=disputes.address,
                dispute_id=dispute_id,
                digest="0x" + document.digest().hex(),
                document=document.dumps(),
                filed_at=datetime.now(UTC),
            )
        )


def log_failure(logger: logging.Logger, what: str, exc: Exception) -> None:
    """Log one item of a recurring pass that failed and will be tried again next pass: a known
    failure (`AigoraError`: a revert, an unreachable chain) in one line, anything else with its
    traceback, since it is a bug."""
    if isinstance(exc, AigoraError):
        logger.warning("%s failed, will retry next pass: %s", what, exc)
    else:
        logger.error("%s failed, will retry next pass", what, exc_info=exc)


T = TypeVar("T")
R = TypeVar("R")


def each_on_its_own(
    logger: logging.Logger,
    items: Iterable[T],
    what: Callable[[T], str],
    step: Callable[[T], R | None],
) -> list[R]:
    """Run `step` on every item of a recurring pass; one that fails is logged (`log_failure`,
    named by `what`) and tried again next pass, and the others still run. Returns the results
    that are not None."""
    results = []
    for item in items:
        try:
            result = step(item)
        except Exception as exc:  # one broken item must not stop the others
            log_failure(logger, what(item), exc)
            continue
        if result is not None:
            results.append(result)
    return results


def _revealed(chain: Chain, event: ContractEvent, dispute_id: int, from_block: int) -> Any:
    found = chain.events(event, from_block, argument_filters={"dispute_id": dispute_id})
    if not found:
        raise NotFound(f"dispute {dispute_id} has no {event.event_name} event")
    return found[-1].args


def _op_leaves(chain: Chain, disputes: Contract, dispute_id: int, from_block: int) -> list[bytes]:
    revealed = _revealed(chain, disputes.events.OpsRevealed, dispute_id, from_block)
    return [bytes(leaf) for leaf in revealed.leaves]


def operator_move(
    chain: Chain, disputes: Contract, signer: TxSigner, dispute_id: int, view: OperatorView
) -> Move | None:
    """Send the operator's move if it is the operator's turn; None otherwise."""
    state = game_state(chain, disputes, dispute_id)
    functions = disputes.functions
    if state.phase == "ops":
        call = functions.reveal_ops(dispute_id, view.op_leaves())
    elif state.phase == "leaf":
        call = functions.reveal_op(dispute_id, *view.op_leaf(state))
    elif state.phase == "children":
        call = functions.reveal_children(dispute_id, *view.children(state))
    elif state.phase == "chunk":
        call = functions.reveal_chunk(dispute_id, view.chunk(state))
    else:
        return None
    result = chain.transact(signer, call)
    return Move(dispute_id, "operator", state.phase, result.tx_hash, result.gas_used)


def challenger_move(
    chain: Chain,
    disputes: Contract,
    signer: TxSigner,
    dispute_id: int,
    honest: Honest,
    model: IntModel,
    from_block: int | None = None,
) -> Move | None:
    """Send the challenger's move if it is the challenger's turn; None otherwise. Raises
    `GameError` when the game cannot be won from here (e.g. the operator's tokens differ).
    The revealed data is read from the game's events from `from_block` (the block the dispute
    was opened in, when known; else the contract's deployment block) in bounded ranges."""
    state = game_state(chain, disputes, dispute_id)
    start = chain.deployment_block(disputes.address) if from_block is None else from_block
    functions = disputes.functions
    if state.phase == "pick":
        leaves = _op_leaves(chain, disputes, dispute_id, start)
        call = functions.pick_op(dispute_id, *honest.pick(leaves))
    elif state.phase == "choice":
        call = functions.choose(dispute_id, honest.go_right(state))
    elif state.phase == "step":
        revealed = _revealed(chain, disputes.events.ChunkRevealed, dispute_id, start)
        chunk = bytes(revealed.chunk)
        element = honest.differing_element(state, chunk)
        op_tree = OrderedTree(_op_leaves(chain, disputes, dispute_id, start))
        arguments = step_arguments(honest.trace, model, state.op, element, op_tree)
        call = functions.prove_step(dispute_id, chunk, element, *arguments.inputs())
    else:
        return None
    result = chain.transact(signer, call)
    return Move(dispute_id, "challenger", state.phase, result.tx_hash, result.gas_used)


def play_games(
    chain: Chain, db: Engine, disputes: Contract, signer: TxSigner, trace_of: TraceOf
) -> list[Move]:
    """One pass over the open games this node is a party to (found by its dispute scan since
    its cursor, `follow_disputes`): answer those against its receipts, move in those it filed,
    and close those whose other side went silent. Each game is tried on its own: one that fails
    or cannot go on from here (e.g. the traces differ only in tokens) is logged by id and tried
    again next pass, and the others still get their moves."""
    follow_disputes(chain, db, disputes, signer.address)
    filed = _filed(db, chain, disputes)

    def play(watched: Watched) -> Move | None:
        state = dispute_state(chain, disputes, watched.dispute_id)
        if state.status != "open":
            mark_closed(db, chain, disputes, watched.dispute_id)
            return None
        return _play_one(
            chain,
            db,
            disputes,
            signer,
            trace_of,
            filed,
            state,
            opened_block=watched.opened_block,
        )

    return each_on_its_own(
        log,
        open_watched(db, chain, disputes, kind=EMBEDDING),
        lambda watched: f"embedding game {watched.dispute_id}",
        play,
    )


def _play_one(
    chain: Chain,
    db: Engine,
    disputes: Contract,
    signer: TxSigner,
    trace_of: TraceOf,
    filed: dict[int, ReceiptDocument],
    state: DisputeState,
    *,
    opened_block: int,
) -> Move | None:
    """This node's move in one open game, or closing it when its mover is past the deadline
    (the silent side loses)."""
    dispute_id = state.dispute_id
    if chain.now() > state.deadline:
        chain.transact(signer, disputes.functions.resolve_timeout(dispute_id))
        return None
    if state.phase in OPERATOR_PHASES:
        if state.operator != signer.address:
            return None
        try:
            document = stored_receipt(db, state.digest)
        except NotFound:
            return None
        _, trace = trace_of(document)
        return operator_move(chain, disputes, signer, dispute_id, OperatorView(trace))
    if state.challenger != signer.address or dispute_id not in filed:
        return None
    model, trace = trace_of(filed[dispute_id])
    return challenger_move(
        chain, disputes, signer, dispute_id, Honest(trace), model, from_block=opened_block
    )


def _filed(db: Engine, chain: Chain, disputes: Contract) -> dict[int, ReceiptDocument]:
    with session_scope(db) as session:
        rows = session.scalars(
            select(FiledChallenge).where(
                FiledChallenge.chain_id == chain.chain_id,
                FiledChallenge.disputes_address == disputes.address,
            )
        ).all()
        return {row.dispute_id: loads_document(row.document) for row in rows}
