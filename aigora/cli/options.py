"""Options every command shares, and how a command gets the passphrase."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aigora.app import keystore_for, resolve_data_dir
from aigora.core.keystore import Signer, passphrase_from_env_or_prompt

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Node data directory (default: $AIGORA_HOME, else ~/.aigora).",
        show_default=False,
    ),
]


def data_dir_of(value: Path | None) -> Path:
    return resolve_data_dir(value)


def passphrase(*, confirm: bool = False) -> str:
    """From $AIGORA_PASSPHRASE, else a prompt on the terminal."""
    return passphrase_from_env_or_prompt(confirm=confirm)


def account_signer(directory: Path, name: str, *, create: bool = False) -> Signer:
    """The keystore account NAME of the data directory, unlocked; `create`: made on first use
    (a labeler or an asker needs nothing up front)."""
    keystore = keystore_for(directory)
    if create and name not in {info.name for info in keystore.list()}:
        address = keystore.create(name, passphrase())
        Console().print(f"created account {name} ({address}); no token or ether needed")
    return keystore.unlock(name, passphrase())
