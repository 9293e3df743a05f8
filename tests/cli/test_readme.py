"""The README's command table lists every command the `aigora` program has."""

from pathlib import Path

import typer

from aigora.cli.main import app

README = Path(__file__).parents[2] / "README.md"


def command_names(typer_app: typer.Typer, prefix: str = "") -> set[str]:
    names = {f"{prefix}{c.name or c.callback.__name__}" for c in typer_app.registered_commands}
    for group in typer_app.registered_groups:
        names |= command_names(group.typer_instance, f"{prefix}{group.name} ")
    return names


def test_every_command_is_in_the_readme_table():
    table = [
        line
        for line in README.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `aigora")
    ]
    text = "\n".join(table)
    missing = sorted(
        name
        for name in command_names(app)
        if not any(form in text for form in (f"aigora {name}", f"`{name} ", f"`{name}`"))
    )
    assert missing == []
    assert len(command_names(app)) >= 30
