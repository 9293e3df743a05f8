"""`aigora epoch close`, `aigora claim` and `aigora earnings`: paying contributors.

`epoch close` splits the fees of every receipt anchored since the last epoch (and the training
pool, if one is configured) into integer amounts per account, and posts the cumulative tree's
root to the distributor (shared by the network: the root is the operator's own tree there) in
one transaction; run again after a crash, it finishes that epoch and never pays twice. A
labeling job whose escrow release reverts is left out of the epoch (listed, with the reason) and
never holds it up; `epoch show N` shows an epoch again.
`claim ACCOUNT` sends an account's claim with the node's gas, so a person with no crypto is
paid. `earnings ACCOUNT` shows what an account earned, per epoch and per item.
"""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import ClaimReport, EpochReport, earnings_of, open_store
from aigora.cli._local import UseCase, run_case
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.core.errors import AigoraError
from aigora.payouts import FeeAuthorization, check_account

epoch_app = typer.Typer(help="Payout epochs.", no_args_is_help=True)
console = Console()

ADDRESS_HELP = "A 0x-hex account address."


def close_case() -> UseCase[EpochReport]:
    return UseCase(lambda app: app.payouts.close(), "POST", "/epochs", EpochReport)


def show_case(number: int) -> UseCase[EpochReport]:
    return UseCase(lambda app: app.payouts.show(number), "GET", f"/epochs/{number}", EpochReport)


def claim_case(account: str, authorization: FeeAuthorization | None) -> UseCase[ClaimReport]:
    body = None
    if authorization is not None:
        body = {
            "fee": str(authorization.fee),
            "deadline": authorization.deadline,
            "signature": "0x" + authorization.signature.hex(),
        }
    return UseCase(
        lambda app: app.payouts.claim(account, authorization),
        "POST",
        f"/claims/{account}",
        ClaimReport,
        json=body,
    )


@epoch_app.command("close")
def close(data_dir: DataDirOption = None) -> None:
    """Close the next payout epoch and post its root to the distributor."""
    render_epoch(run_case(data_dir_of(data_dir), close_case()))


@epoch_app.command("show")
def show(
    number: Annotated[int, typer.Argument(min=1, help="The epoch's number.")],
    data_dir: DataDirOption = None,
) -> None:
    """Show epoch NUMBER: its totals, root, transaction and any labeling job left out."""
    render_epoch(run_case(data_dir_of(data_dir), show_case(number)))


def render_epoch(summary: EpochReport) -> None:
    table = Table(title=f"epoch {summary.number} ({summary.status})", show_header=False)
    for label, key in (
        ("receipts", "receipts"),
        ("creators, from fees", "usage_total"),
        ("operator's share of fees", "operator_total"),
        ("creators, from training value", "training_total"),
        ("labelers, from accepted labels", "labeling_total"),
        ("cumulative total posted", "cumulative_total"),
        ("accounts in the tree", "accounts"),
        ("root", "root"),
        ("transaction", "tx_hash"),
    ):
        table.add_row(label, str(getattr(summary, key)))
    console.print(table)
    if summary.left_out:
        left = Table(title="labeling jobs left out: their release reverted")
        for column in ("job", "amount", "labelers' work", "reason"):
            left.add_column(column, justify="right" if column == "amount" else "left")
        for job in summary.left_out:
            fate = "never paid (escrow refunded)" if job.forfeited else "owed, retried next epoch"
            left.add_row(job.job_id, f"{int(job.amount):,}", fate, job.reason)
        console.print(left)


def claim(
    account: Annotated[str, typer.Argument(help=ADDRESS_HELP)],
    fee: Annotated[
        int | None, typer.Option("--fee", min=0, help="Fee the account signed for the node.")
    ] = None,
    deadline: Annotated[int | None, typer.Option("--deadline", help="The signed deadline.")] = None,
    signature: Annotated[
        str | None, typer.Option("--signature", help="The account's ClaimFee signature (0x...).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Send ACCOUNT's claim from the newest posted epoch; the node pays the gas."""
    directory = data_dir_of(data_dir)
    check_account(account)
    given = [fee is not None, deadline is not None, signature is not None]
    if any(given) and not all(given):
        raise AigoraError("a fee needs all of --fee, --deadline and --signature")
    authorization = None
    if fee is not None and deadline is not None and signature is not None:
        try:
            raw = bytes.fromhex(signature.removeprefix("0x"))
        except ValueError:
            raise AigoraError("--signature must be 65 bytes of 0x-hex") from None
        authorization = FeeAuthorization(fee, deadline, raw)
    result = run_case(directory, claim_case(account, authorization))
    console.print(
        f"paid {result.paid} to {result.account} from {result.poster}'s tree (cumulative "
        f"{result.cumulative}, fee {result.fee} to {result.relayer}); tx {result.tx_hash}",
        highlight=False,
    )


def earnings(
    account: Annotated[str, typer.Argument(help=ADDRESS_HELP)],
    data_dir: DataDirOption = None,
) -> None:
    """What ACCOUNT earned, per epoch and per item."""
    check_account(account)
    store = open_store(data_dir_of(data_dir))
    try:
        earned = earnings_of(store, account)
    finally:
        store.close()
    if not earned.lines:
        console.print(f"{account} has earned nothing yet")
        return
    table = Table(title=f"earnings of {account}")
    for column in ("epoch", "source", "item", "amount", "status"):
        table.add_column(column, justify="right" if column in ("epoch", "amount") else "left")
    for line in earned.lines:
        table.add_row(str(line.epoch), line.source, line.cid, f"{int(line.amount):,}", line.status)
    table.add_section()
    table.add_row("", "", "total", f"{int(earned.total):,}", "")
    console.print(table)
