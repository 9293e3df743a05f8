"""Options every command shares, and how a command gets the passphrase."""

from pathlib import Path
from typing import Annotated

import typer

from aigora.app import resolve_data_dir
from aigora.core.keystore import passphrase_from_env_or_prompt

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
