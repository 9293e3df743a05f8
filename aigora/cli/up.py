"""`aigora up`: open (or create) the node's data directory, deploy on first start, and serve."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import NodeContext, open_node
from aigora.cli.network import adopt_network_file
from aigora.cli.options import DataDirOption, data_dir_of, passphrase

console = Console()


def up(
    data_dir: DataDirOption = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port on 127.0.0.1 (default: config, else 8470).", min=1, max=65535),
    ] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            "--network",
            help="Join the network this file describes (deploy nothing; see docs/network.md).",
        ),
    ] = None,
) -> None:
    """Start the node: keys, database and chain in the data directory; contracts deployed on first
    start (or, in a network, the network's joined); the HTTP API on 127.0.0.1 with docs at /docs.
    Ctrl-C stops it cleanly."""

    from aigora.node import serve  # FastAPI and uvicorn: only the command that serves loads them

    directory = data_dir_of(data_dir)
    if network is not None:
        adopt_network_file(directory, network)
    first = not (directory / "keys").is_dir()
    with console.status(f"opening {directory}"):
        context = open_node(directory, passphrase(confirm=first), port=port)
    host = context.config.node.host
    serve(context, host, port or context.config.node.port, on_ready=lambda u: _ready(context, u))
    console.print("node stopped")


def _ready(context: NodeContext, url: str) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("node", f"{url}  (API docs at {url}/docs)")
    table.add_row("data", str(context.data_dir))
    where = context.chain.url if context.chain.kind == "rpc" else "py-evm in this process"
    table.add_row("chain", f"{context.chain.kind} ({where}), id {context.chain.chain_id}")
    if context.network is not None:
        table.add_row("network", f"{context.network.name} (joined; contracts shared)")
    for name, address in context.deployment.addresses().items():
        table.add_row(name, address)
    table.add_row("operator", context.operator.address)
    console.print(table)
    console.print(f"[green]Aigora node ready at {url}[/green]  (Ctrl-C to stop)")
