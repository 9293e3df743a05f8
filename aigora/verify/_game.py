"""The embedding game's moves, computed from traces alone (no chain, no I/O).

When an operator's query embedding is wrong, its trace differs from the honest one somewhere, and
at the *first* differing op every input is still honest: that op's value cannot be what its
inputs give, which the contract can recompute. The game finds that place in the operator's own
commitments, without anyone trusting anyone:

1. the operator reveals the leaf hash of every op (the contract rebuilds the trace root);
2. the challenger names the first op whose leaf differs from the honest trace's;
3. the operator reveals that op's leaf (name, dtype, shape, chunk root);
4. bisection over the op's positional chunk tree: the operator reveals a node's two children, the
   challenger descends into the left one if it differs, else the right one;
5. the operator reveals the chunk; the challenger names its first differing element and proves
   that element's inputs (`aigora.verify._step`).

`Honest` holds the challenger's side, `OperatorView` the operator's; both take the contract's
current game state (`GameState`) and give the next move's arguments.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from aigora.chain import GameRecord
from aigora.core.errors import AigoraError
from aigora.core.ordered_merkle import OrderedTree, depth_for
from aigora.engine import CHUNK_BYTES, TOKENS_OP, Trace

PHASES = {
    1: "ops",
    2: "pick",
    3: "leaf",
    4: "children",
    5: "choice",
    6: "chunk",
    7: "step",
}
OPERATOR_PHASES = frozenset({"ops", "leaf", "children", "chunk"})


class GameError(AigoraError):
    """The game cannot go on from this side (e.g. the traces agree, or differ only in tokens)."""


@dataclass(frozen=True)
class GameState(GameRecord):
    """What the contract's `games(id)` holds (`GameRecord`), with the phase named."""

    phase: str  # type: ignore[assignment]  # the record's code, named by `PHASES`

    @classmethod
    def from_record(cls, record: GameRecord) -> "GameState":
        """The contract's game record with its phase named (`PHASES`); the other fields are the
        record's own, by name."""
        fields = {**asdict(record), "phase": PHASES.get(record.phase, "none")}
        return cls(**fields)

    @property
    def operator_moves(self) -> bool:
        return self.phase in OPERATOR_PHASES


class OperatorView:
    """The operator's moves: reveal whatever of its own trace the game asks for."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def op_leaves(self) -> list[bytes]:
        return [self.trace.op(i).leaf.hash() for i in range(len(self.trace))]

    def op_leaf(self, state: GameState) -> tuple:
        leaf = self.trace.op(state.op).leaf
        return (leaf.name, leaf.dtype, list(leaf.shape), leaf.root)

    def children(self, state: GameState) -> tuple[bytes, bytes]:
        tree = self.trace.op(state.op).tree
        below = state.height - 1
        return tree.node(below, 2 * state.position), tree.node(below, 2 * state.position + 1)

    def chunk(self, state: GameState) -> bytes:
        return self.trace.op(state.op).chunks[state.position]


class Honest:
    """The challenger's moves, from the honest trace of the receipt's query."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace

    def first_differing_op(self, revealed: Sequence[bytes]) -> int:
        """The first op whose revealed leaf differs; GameError when the token ids differ (the
        contract cannot judge tokenization) or nothing differs."""
        if len(revealed) != len(self.trace):
            raise GameError(
                f"the operator revealed {len(revealed)} ops, the trace has {len(self.trace)}"
            )
        for index, leaf in enumerate(revealed):
            if leaf != self.trace.op(index).leaf.hash():
                if self.trace.names[index] == TOKENS_OP:
                    raise GameError(
                        "the operator tokenized the query differently; token ids are an input "
                        "the contract cannot check"
                    )
                return index
        raise GameError("the operator's trace is the honest one: there is nothing to dispute")

    def pick(self, revealed: Sequence[bytes]) -> tuple:
        """Arguments of `pick_op` (after the dispute id)."""
        op = self.first_differing_op(revealed)
        tree = OrderedTree(list(revealed))
        tokens = self.trace.op(0).leaf
        return (op, revealed[op], tree.proof(op), tokens.shape[0], tokens.root, tree.proof(0))

    def go_right(self, state: GameState) -> bool:
        """Descend right when the left child is the honest one (so the difference is right)."""
        tree = self.trace.op(state.op).tree
        return state.left == tree.node(state.height - 1, 2 * state.position)

    def differing_element(self, state: GameState, chunk: bytes) -> int:
        """The first element (flat index into the op) where the revealed chunk differs."""
        honest = self.trace.op(state.op).chunks[state.position]
        dtype = np.dtype(self.trace.op(state.op).leaf.dtype).newbyteorder("<")
        ours = np.frombuffer(honest, dtype=dtype)
        theirs = np.frombuffer(chunk, dtype=dtype)
        if len(ours) != len(theirs):
            raise GameError("the revealed chunk has another length than the honest one")
        differing = np.flatnonzero(ours != theirs)
        if not len(differing):
            raise GameError("the revealed chunk is the honest one: the descent went wrong")
        return state.position * CHUNK_BYTES // dtype.itemsize + int(differing[0])


def game_moves(chunk_count: int) -> int:
    """Transactions of a game that runs to its last step over an op of `chunk_count` chunks,
    both sides counted: open, ops, pick, leaf, two per level of the chunk tree, chunk, step."""
    return 6 + 2 * depth_for(chunk_count)
