"""Gas per resolved dispute of each kind, against the gas of anchoring one receipts batch, and
the moves an embedding game takes as the model grows.

    python bench/disputes.py

Runs the sponsored-ranking example's operators on fresh embedded-chain nodes: each cheat is
answered, anchored, verified, turned into the claim `plan_claim` picks and filed by a funded
challenger (an omission claim waits out the response window and is resolved; an embedding claim
is played to its end, the operator's node answering from its own edited trace). An honest
operator's node rebuts a false omission claim. Gas counts every transaction of the dispute (both
sides' moves, rebuttal or resolution), not the bond approval. The baseline is the
`Registry.anchor` call that put the receipt on-chain in the same run.

The second table counts an embedding game's transactions when the disputed op is a model's
largest (the worst case): open, ops, pick, leaf, two per level of that op's chunk tree, chunk and
step. It is computed from the op shapes the step checker expects, for the default model and for
wider, deeper and longer-input ones.
"""

import importlib.util
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from aigora.app import (
    Answers,
    challenger_move,
    dispute_state,
    file_claim,
    open_node,
    rebut_omissions,
    resolve,
)
from aigora.content.anchoring import anchor_pending
from aigora.core.cid import cid_of
from aigora.core.keystore import Keystore
from aigora.core.ordered_merkle import depth_for
from aigora.store.models import AnchorKind
from aigora.verify import stored_receipt
from aigora.verify._challenge import Claim, plan_claim
from aigora.verify._claims import passage, query_embedding, result_entry
from aigora.verify._game import Honest

EXAMPLE = Path(__file__).parents[1] / "examples" / "sponsored_ranking.py"


def _example():
    spec = importlib.util.spec_from_file_location("sponsored_ranking_bench", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _example()


def run_case(directory: Path, case: str) -> tuple[str, int, int, str, int]:
    """(claim kind, dispute gas, anchoring gas, outcome, transactions) for one behaviour."""
    directory.mkdir(parents=True)
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", "bench")
    context = open_node(directory, "bench")
    try:
        chain, deployment = context.chain, context.deployment
        disputes, token = deployment.disputes, deployment.token
        challenger = chain.dev_signers()[5]
        bond = chain.call(disputes.functions.challenger_bond())
        chain.transact(context.operator, token.functions.transfer(challenger.address, 2 * bond))
        for text in example.CORPUS:
            example.publish(context, context.operator, text)
        operator = example.TiltedAnswers(context)
        operator.sponsor_cid = cid_of(example.SPONSOR.encode())
        operator.refresh()
        verifier = Answers(context)
        if case == "stale":
            old = operator.current()
            example.publish(context, context.operator, example.LATE_COMPETITOR)
            operator.refresh()
            chain.advance_time(3600)
            operator._current = old
        elif case != "honest":
            operator.tilt = getattr(example, case)
        document = operator.ask(example.QUESTION, 3)
        operator._current = None
        anchor_pending(context.db, chain, deployment.registry, context.operator, AnchorKind.CONTENT)
        batch = anchor_pending(
            context.db, chain, deployment.registry, context.operator, AnchorKind.RECEIPTS
        )
        anchor_gas = chain.w3.eth.get_transaction_receipt(batch.tx_hash)["gasUsed"]
        document = stored_receipt(context.db, "0x" + document.digest().hex())
        snapshot = verifier.current()[0]
        _, trace = verifier.encoder().embed_with_trace(document.query)
        if case == "honest":
            listed = snapshot.positions[document.results[0].key]
            claim = Claim(
                "omission",
                "false",
                entry=result_entry(document, len(document.results) - 1),
                passage=passage(snapshot, listed),
                query=query_embedding(trace),
            )
        else:
            claim = plan_claim(document, verifier.verify(document), snapshot, trace)
        state = file_claim(chain, disputes, token, challenger, document, claim)
        gas, transactions = state.gas_used, 1
        if claim.kind == "embedding":
            honest = Honest(claim.trace)
            while dispute_state(chain, disputes, state.dispute_id).status == "open":
                moves = operator.play_games()
                move = challenger_move(
                    chain, disputes, challenger, state.dispute_id, honest, verifier.model
                )
                moves += [move] if move else []
                gas += sum(m.gas_used for m in moves)
                transactions += len(moves)
            state = dispute_state(chain, disputes, state.dispute_id)
        elif state.status == "open":
            answered = rebut_omissions(chain, context.db, disputes, context.operator)
            if answered:
                state = answered[0]
            else:
                chain.advance_time(chain.call(disputes.functions.response_window()) + 1)
                state = resolve(chain, disputes, challenger, state.dispute_id)
            gas += state.gas_used
            transactions += 1
        return claim.kind, gas, anchor_gas, state.status, transactions
    finally:
        context.close()


CASES = {
    "hidden_bonus": "score (hidden bonus)",
    "swap_order": "order (swapped)",
    "stale": "stale snapshot",
    "drop_competitor": "omission, unanswered (dropped competitor)",
    "honest": "omission, rebutted by an honest node",
    "edited_model": "embedding game (edited model)",
}

MODELS = {
    "all-MiniLM-L6-v2 (default)": (6, 384, 12, 1536),
    "12 layers, same width": (12, 384, 12, 1536),
    "BERT-base width (768, 3072)": (12, 768, 12, 3072),
    "BERT-large (24 x 1024, 16 heads)": (24, 1024, 16, 4096),
}


def worst_case_moves(layers: int, hidden: int, heads: int, inter: int, tokens: int):
    """(ops in the trace, chunks of the largest op, transactions of a full game)."""
    ops = 4 + 15 * layers - 1 + 2
    largest = max(4 * heads * tokens * tokens, 4 * tokens * inter, 4 * tokens * hidden)
    chunks = -(-largest // 1024)
    return ops, chunks, 6 + 2 * depth_for(chunks)


def main() -> None:
    console = Console(width=140)
    table = Table("dispute", "claim", "txs", "gas", "anchor gas", "dispute / anchor", "outcome")
    with tempfile.TemporaryDirectory() as tmp:
        for case, label in CASES.items():
            kind, gas, anchor_gas, outcome, txs = run_case(Path(tmp) / case, case)
            table.add_row(
                label,
                kind,
                str(txs),
                f"{gas:,}",
                f"{anchor_gas:,}",
                f"{gas / anchor_gas:.1f}x",
                outcome,
            )
    console.print(table)
    rounds = Table("model", "tokens", "trace ops", "largest op (chunks)", "game transactions")
    for name, shape in MODELS.items():
        for tokens in (16, 256):
            ops, chunks, moves = worst_case_moves(*shape, tokens)
            rounds.add_row(name, str(tokens), str(ops), f"{chunks:,}", str(moves))
    console.print(rounds)


if __name__ == "__main__":
    main()
