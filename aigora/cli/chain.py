"""`aigora chain status`: the chain, the contracts and the operator's standing."""

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import ChainStatus
from aigora.cli._local import UseCase, run_case
from aigora.cli.options import DataDirOption, data_dir_of

app = typer.Typer(help="Inspect the chain the node runs on.", no_args_is_help=True)
console = Console()


def status_case() -> UseCase[ChainStatus]:
    return UseCase(lambda app: app.chain_status(), "GET", "/chain/status", ChainStatus)


@app.command("status")
def status(data_dir: DataDirOption = None) -> None:
    """Chain id, latest block, contract addresses and the operator's balances and bond."""
    report = run_case(data_dir_of(data_dir), status_case(), key=False)
    _print(report)


def _print(report: ChainStatus) -> None:
    table = Table(show_header=False, box=None)
    table.add_row(
        "chain", f"{report.backend} ({report.url}), id {report.chain_id}, {report.client}"
    )
    table.add_row("block", f"{report.block_number} at {report.timestamp}")
    for name, address in report.contracts.items():
        table.add_row(name, address)
    if not report.contracts:
        table.add_row("contracts", "not deployed yet (run `aigora up`)")
    if report.operator:
        op = report.operator
        table.add_row("operator", op.address)
        table.add_row("  ether (wei)", op.ether_wei)
        table.add_row("  tokens", op.token_balance)
        standing = "active" if op.active else "registered" if op.registered else "not registered"
        table.add_row("  registry", f"{standing}, bond {op.bond}, unbonding {op.unbonding}")
    console.print(table)
