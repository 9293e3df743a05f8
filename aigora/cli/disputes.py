"""`aigora challenge` and `aigora resolve`: take a wrong answer to the chain.

`challenge` verifies the receipt, picks the one-step claim the disputes contract recomputes
(score, order, stale snapshot, omission or embedding) and files it, paying the challenger bond; a
score, order or stale claim is decided in the same transaction, an omission claim after the
operator's response window (then `aigora resolve ID`). An embedding claim opens a game over the
operator's trace: the command plays the challenger's moves until the game ends (the operator's
node answers its own); stopped early, `aigora up` plays on.
"""

import contextlib
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from aigora.cli._local import ask_running_node, read_receipt, with_node
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.core.errors import AigoraError, NotFound
from aigora.node.answers import Answers
from aigora.node.disputes import DisputeState, dispute_state, file_claim, require
from aigora.node.disputes import resolve as resolve_dispute
from aigora.node.games import remember_challenge
from aigora.verify import stored_receipt

console = Console()


def challenge(
    receipt_file: Annotated[Path, typer.Argument(help="A receipt document (JSON).")],
    source: Annotated[
        str | None,
        typer.Option("--source", help="A node URL to fetch the model and snapshot from."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the claim without filing it.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait", help="Play an embedding game to its end (the node stopped)."
        ),
    ] = True,
    poll_s: Annotated[
        float, typer.Option("--poll", min=0.1, help="Seconds between looks at a running game.")
    ] = 5.0,
    data_dir: DataDirOption = None,
) -> None:
    """Verify RECEIPT_FILE and file the on-chain claim that proves it wrong (pays a bond)."""
    directory = data_dir_of(data_dir)
    document = read_receipt(receipt_file)

    def local(answers: Answers) -> dict[str, Any]:
        context = answers.context
        anchored = document
        if document.anchor is None:
            with contextlib.suppress(NotFound):
                anchored = stored_receipt(context.db, "0x" + document.digest().hex())
        if anchored.anchor is None:
            raise AigoraError("the receipt is not anchored yet; disputes need its batch proof")
        verdict, claim = answers.plan(anchored, source)
        report: dict[str, Any] = {"verdict": verdict.to_json(), "claim": claim.kind}
        if not dry_run:
            disputes = require(context.deployment.disputes)
            state = file_claim(
                context.chain,
                disputes,
                context.deployment.token,
                context.operator,
                anchored,
                claim,
            )
            if claim.kind == "embedding":
                remember_challenge(context.db, context.chain, disputes, state.dispute_id, anchored)
                if wait:
                    state = _play(answers, disputes, state.dispute_id, poll_s)
            report["dispute"] = state.__dict__
        return report

    def remote() -> dict[str, Any]:
        if dry_run:
            raise AigoraError("--dry-run needs the node stopped")
        path = "/challenges" + (f"?source={source}" if source else "")
        return ask_running_node(directory, "POST", path, content=document.dumps().encode())

    report = with_node(directory, local, remote)
    console.print(f"claim: {report['claim']} ({report['verdict']['reason']})", highlight=False)
    dispute = report.get("dispute")
    if dispute is not None:
        console.print(
            f"dispute {dispute['dispute_id']}: {dispute['status']}"
            + (f", deadline {dispute['deadline']}" if dispute["status"] == "open" else ""),
            highlight=False,
        )
        if dispute.get("amount") is not None:
            console.print(
                f"slashed {dispute['slashed']}, paid {dispute['amount']} to {dispute['paid_to']}",
                highlight=False,
            )


def _play(answers: Answers, disputes: Any, dispute_id: int, poll_s: float) -> DisputeState:
    """Move whenever it is the challenger's turn until the game is decided."""
    chain = answers.context.chain
    state = dispute_state(chain, disputes, dispute_id)
    with console.status(f"dispute {dispute_id}: waiting for the operator") as status:
        while state.status == "open":
            for move in answers.play_games():
                if move.dispute_id == dispute_id:
                    console.print(f"  {move.side} {move.move} ({move.gas_used} gas)")
            state = dispute_state(chain, disputes, dispute_id)
            if state.status == "open":
                status.update(f"dispute {dispute_id}: {state.phase}, deadline {state.deadline}")
                time.sleep(poll_s)
    return state


def resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Close a dispute whose mover let the deadline pass: the silent side loses."""
    directory = data_dir_of(data_dir)

    def local(answers: Answers) -> dict[str, Any]:
        context = answers.context
        disputes = require(context.deployment.disputes)
        return resolve_dispute(context.chain, disputes, context.operator, dispute_id).__dict__

    state = with_node(
        directory,
        local,
        lambda: ask_running_node(directory, "POST", f"/disputes/{dispute_id}/resolve"),
    )
    console.print(f"dispute {state['dispute_id']}: {state['status']}", highlight=False)
