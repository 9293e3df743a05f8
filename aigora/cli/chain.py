"""`aigora chain status`: the chain, the contracts and the operator's standing."""

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from aigora.chain import Chain
from aigora.chain.deploy import attach_foundation
from aigora.cli._local import ask_running_node, open_store
from aigora.cli.options import DataDirOption, data_dir_of
from aigora.core.errors import DataDirInUse
from aigora.node.context import keystore_for, recorded_addresses
from aigora.node.status import ChainStatus, chain_status

app = typer.Typer(help="Inspect the chain the node runs on.", no_args_is_help=True)
console = Console()


@app.command("status")
def status(data_dir: DataDirOption = None) -> None:
    """Chain id, latest block, contract addresses and the operator's balances and bond."""
    directory = data_dir_of(data_dir)
    try:
        report = _read_status(directory)
    except DataDirInUse:
        report = ChainStatus.model_validate(ask_running_node(directory, "GET", "/chain/status"))
    _print(report)


def _read_status(directory: Path) -> ChainStatus:
    store = open_store(directory)
    try:
        with Chain.open(store.config.chain.url, directory) as chain:
            addresses = recorded_addresses(store.db, chain.chain_id)
            if store.config.chain.token:
                addresses["Token"] = store.config.chain.token
            deployment = attach_foundation(chain, addresses) if len(addresses) >= 2 else None
            operator = next(
                (
                    k.address
                    for k in keystore_for(directory).list()
                    if k.name == store.config.node.operator_key
                ),
                None,
            )
            return chain_status(chain, deployment, operator)
    finally:
        store.close()


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
