"""`main()` turns our errors into one line and exit 1, and bugs into one line and exit 2."""

import sys

import pytest

from aigora.cli import main as cli
from aigora.core.errors import ContractRevert


def run_main(monkeypatch, capsys, command: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["aigora", command])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    return exit_info.value.code, capsys.readouterr().err


@pytest.fixture
def failing_commands(monkeypatch):
    monkeypatch.delenv("AIGORA_DEBUG", raising=False)

    def revert() -> None:
        raise ContractRevert("bond below minimum", function="register_operator")

    def bug() -> None:
        raise KeyError("oops")

    cli.app.command("test-revert")(revert)
    cli.app.command("test-bug")(bug)
    yield
    cli.app.registered_commands = [
        c for c in cli.app.registered_commands if c.name not in ("test-revert", "test-bug")
    ]


def test_a_revert_is_one_line(monkeypatch, capsys, failing_commands):
    code, err = run_main(monkeypatch, capsys, "test-revert")
    assert code == 1
    assert err.strip() == "error: contract reverted in register_operator: bond below minimum"


def test_a_bug_is_one_line_without_traceback(monkeypatch, capsys, failing_commands):
    code, err = run_main(monkeypatch, capsys, "test-bug")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "internal error: KeyError" in err
    assert "Traceback" not in err
