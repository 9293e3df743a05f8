"""`aigora account new|list`: encrypted keys under the data directory."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import keystore_for, prepare_data_dir
from aigora.cli.options import DataDirOption, data_dir_of, passphrase

app = typer.Typer(help="Create and list encrypted accounts (keystore v3).", no_args_is_help=True)
console = Console()


@app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="A short name: lower-case letters, digits, - and _.")],
    data_dir: DataDirOption = None,
) -> None:
    """Create an account; the passphrase comes from $AIGORA_PASSPHRASE or a prompt."""
    directory = data_dir_of(data_dir)
    prepare_data_dir(directory)
    keystore = keystore_for(directory)
    address = keystore.create(name, passphrase(confirm=True))
    console.print(f"created account [bold]{name}[/bold] {address}")


@app.command("list")
def list_accounts(data_dir: DataDirOption = None) -> None:
    """List accounts by name and address (no passphrase needed)."""
    directory = data_dir_of(data_dir)
    keys = keystore_for(directory).list() if (directory / "keys").is_dir() else []
    if not keys:
        console.print(f"no accounts in {directory / 'keys'}; create one with `aigora account new`")
        return
    table = Table("name", "address")
    for info in keys:
        table.add_row(info.name, info.address)
    console.print(table)
