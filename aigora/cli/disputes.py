"""`aigora challenge` and `aigora resolve`: take a wrong answer to the chain.

`challenge` verifies the receipt, picks the one-step claim the disputes contract recomputes
(score, order, stale snapshot or omission) and files it, paying the challenger bond; a score,
order or stale claim is decided in the same transaction, an omission claim after the operator's
response window (then `aigora resolve ID`).
"""

import contextlib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from aigora.cli._local import ask_running_node, read_receipt, with_node
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.core.errors import AigoraError, NotFound
from aigora.node.answers import Answers
from aigora.node.disputes import file_claim, require
from aigora.node.disputes import resolve as resolve_dispute
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


def resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Close an omission dispute nobody rebutted in time: the challenger wins."""
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
