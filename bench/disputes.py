"""Gas per resolved dispute of each kind, against the gas of anchoring one receipts batch.

    python bench/disputes.py

Runs the sponsored-ranking example's operators on fresh embedded-chain nodes: each cheat is
answered, anchored, verified, turned into the claim `plan_claim` picks and filed by a funded
challenger (an omission claim waits out the response window and is resolved). An honest
operator's node rebuts a false omission claim. Gas counts the challenge (and rebuttal or
resolution) transactions, not the bond approval. The baseline is the `Registry.anchor` call that
put the receipt on-chain in the same run.
"""

import importlib.util
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from aigora.content.anchoring import anchor_pending
from aigora.core.cid import cid_of
from aigora.core.keystore import Keystore
from aigora.node.answers import Answers
from aigora.node.context import open_node
from aigora.node.disputes import file_claim, rebut_omissions, resolve
from aigora.store.models import AnchorKind
from aigora.verify import stored_receipt
from aigora.verify._challenge import Claim, plan_claim
from aigora.verify._claims import passage, query_embedding, result_entry

EXAMPLE = Path(__file__).parents[1] / "examples" / "sponsored_ranking.py"


def _example():
    spec = importlib.util.spec_from_file_location("sponsored_ranking_bench", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _example()


def run_case(directory: Path, case: str) -> tuple[str, int, int, str]:
    """(claim kind, dispute gas, anchoring gas, outcome) for one operator behaviour."""
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
            listed = snapshot.positions[document.results[0].cid]
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
        gas = state.gas_used
        if state.status == "open":
            answered = rebut_omissions(chain, context.db, disputes, context.operator)
            if answered:
                state = answered[0]
            else:
                chain.advance_time(chain.call(disputes.functions.response_window()) + 1)
                state = resolve(chain, disputes, challenger, state.dispute_id)
            gas += state.gas_used
        return claim.kind, gas, anchor_gas, state.status
    finally:
        context.close()


CASES = {
    "hidden_bonus": "score (hidden bonus)",
    "swap_order": "order (swapped)",
    "stale": "stale snapshot",
    "drop_competitor": "omission, unanswered (dropped competitor)",
    "honest": "omission, rebutted by an honest node",
}


def main() -> None:
    table = Table("dispute", "claim", "gas", "anchor gas", "dispute / anchor", "outcome")
    with tempfile.TemporaryDirectory() as tmp:
        for case, label in CASES.items():
            kind, gas, anchor_gas, outcome = run_case(Path(tmp) / case, case)
            table.add_row(
                label, kind, f"{gas:,}", f"{anchor_gas:,}", f"{gas / anchor_gas:.1f}x", outcome
            )
    Console(width=130).print(table)


if __name__ == "__main__":
    main()
