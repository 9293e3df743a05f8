"""`aigora account new|import|list`: encrypted keys under the data directory."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import keystore_for, prepare_data_dir
from aigora.cli.options import DataDirOption, data_dir_of, passphrase
from aigora.core.errors import KeystoreError
from aigora.core.keystore import passphrase_from_file_or_prompt

app = typer.Typer(
    help="Create, import and list encrypted accounts (keystore v3).", no_args_is_help=True
)
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


MAX_KEYSTORE_BYTES = 64 * 1024


@app.command("import")
def import_account(
    file: Annotated[
        Path, typer.Argument(help="A keystore v3 JSON file (as a node's pages export it).")
    ],
    name: Annotated[
        str | None,
        typer.Option(help="The account's name (default: key-<first 8 hex digits of address>)."),
    ] = None,
    passphrase_file: Annotated[
        Path | None,
        typer.Option(help="Read the keystore's passphrase from this file's first line."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Import a keystore v3 file (scrypt or pbkdf2): decrypted with its passphrase (asked
    without echo, or --passphrase-file) and stored re-encrypted under the same passphrase."""
    keystore = _keystore_file(file)
    account_name = name or _default_name(keystore)
    secret = passphrase_from_file_or_prompt(passphrase_file, f"Passphrase of {file.name}: ")
    directory = data_dir_of(data_dir)
    prepare_data_dir(directory)
    address = keystore_for(directory).import_keystore(account_name, keystore, secret)
    console.print(f"imported account [bold]{account_name}[/bold] {address}")


def _keystore_file(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeystoreError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_KEYSTORE_BYTES:
        raise KeystoreError(f"{path} is {len(raw)} bytes: not a keystore file")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeystoreError(f"{path} is not JSON: not a keystore file") from None
    if not isinstance(data, dict):
        raise KeystoreError(f"{path} is not a keystore v3 file")
    return data


def _default_name(keystore: dict) -> str:
    address = keystore.get("address")
    if not isinstance(address, str) or len(address.removeprefix("0x")) != 40:
        raise KeystoreError("the keystore lists no address: name the account with --name")
    return "key-" + address.removeprefix("0x")[:8].lower()


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
