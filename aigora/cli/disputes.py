"""`aigora challenge` and `aigora resolve`: take a wrong answer to the chain.

`challenge` verifies the receipt, picks the one-step claim the disputes contract recomputes
(score, order, stale snapshot, omission or embedding) and files it, paying the challenger bond; a
score, order or stale claim is decided in the same transaction, an omission claim after the
operator's response window (then `aigora resolve ID`). An embedding claim opens a game over the
operator's trace: the command plays the challenger's moves until the game ends (the operator's
node answers its own); stopped early, `aigora up` plays on. With a node running, the command asks
it to do the same (and the node plays the game on its anchoring interval).
"""

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aigora.app import App, ChallengeResult, DisputeState
from aigora.cli._local import UseCase, read_receipt, run_case
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.verify import ReceiptDocument

console = Console()


def challenge_case(
    document: ReceiptDocument, source: str | None, dry_run: bool
) -> UseCase[ChallengeResult]:
    return UseCase(
        lambda app: app.disputes.challenge(document, source, dry_run),
        "POST",
        "/challenges",
        ChallengeResult,
        content=document.dumps().encode(),
        params={"source": source, "dry_run": "true" if dry_run else None},
    )


def resolve_case(dispute_id: int) -> UseCase[DisputeState]:
    return UseCase(
        lambda app: app.disputes.resolve(dispute_id),
        "POST",
        f"/disputes/{dispute_id}/resolve",
        DisputeState,
    )


def collect_case(dispute_id: int) -> UseCase[DisputeState]:
    return UseCase(
        lambda app: app.disputes.collect(dispute_id),
        "POST",
        f"/disputes/{dispute_id}/collect",
        DisputeState,
    )


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

    case = challenge_case(document, source, dry_run)

    def local(app: App) -> ChallengeResult:
        report = case.local(app)
        dispute = report.dispute
        if wait and dispute is not None and report.claim == "embedding":
            with console.status(f"dispute {dispute.dispute_id}: waiting for the operator") as s:
                final = app.disputes.play_until_decided(
                    dispute.dispute_id,
                    poll_s,
                    on_move=lambda m: console.print(f"  {m.side} {m.move} ({m.gas_used} gas)"),
                    on_wait=lambda st: s.update(
                        f"dispute {st.dispute_id}: {st.phase}, deadline {st.deadline}"
                    ),
                )
            report = report.model_copy(update={"dispute": final})
        return report

    report = run_case(directory, replace(case, local=local))
    console.print(f"claim: {report.claim} ({report.verdict.reason})", highlight=False)
    if report.dispute is not None:
        _print(report.dispute)


def _print(dispute: DisputeState) -> None:
    console.print(
        f"dispute {dispute.dispute_id}: {dispute.status}"
        + (f", deadline {dispute.deadline}" if dispute.status == "open" else ""),
        highlight=False,
    )
    if dispute.amount is not None:
        slashed = f"slashed {dispute.slashed}, " if dispute.slashed else ""
        console.print(
            f"{slashed}paid {dispute.amount} to {dispute.paid_to}",
            highlight=False,
        )
    reward = dispute.reward
    if reward is not None and reward.owed:
        when = "now: `aigora collect " + str(dispute.dispute_id) + "`"
        if not reward.collectable:
            when = f"after {reward.window_ends}"
        shares = reward.shares or reward.winners + reward.pending
        console.print(
            f"reward: {reward.share} (1 of {shares} share(s) of {reward.pool}), collectable {when}",
            highlight=False,
        )


def collect(
    dispute_id: Annotated[int, typer.Argument(help="The dispute id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Collect a won dispute's share of the operator's slash for its challenger."""
    _print(run_case(data_dir_of(data_dir), collect_case(dispute_id)))


def resolve(
    dispute_id: Annotated[int, typer.Argument(help="The dispute id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Close a dispute whose mover let the deadline pass: the silent side loses."""
    directory = data_dir_of(data_dir)
    state = run_case(directory, resolve_case(dispute_id))
    console.print(f"dispute {state.dispute_id}: {state.status}", highlight=False)
