"""The `aigora` command: every command, and the one place errors become a line and an exit code.

A user's mistake (bad config, wrong passphrase, unreachable RPC URL, a revert) is an `AigoraError`:
we print its message on one line and exit 1. Anything else is a bug: one line naming it, exit 2, and
the traceback only when AIGORA_DEBUG is set.
"""

import os
import sys

import typer
from rich.console import Console

from aigora.cli import (
    account,
    agent,
    answers,
    asks,
    chain,
    content,
    devnet,
    disputes,
    embed,
    labels,
    network,
    payouts,
    policy,
    reputation,
    up,
)
from aigora.core.errors import AigoraError

app = typer.Typer(
    name="aigora",
    help="Aigora: user-owned AI whose answers anyone can check.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("up")(up.up)
app.command("devnet")(devnet.devnet)
app.add_typer(network.app, name="network")
app.add_typer(account.app, name="account")
app.add_typer(chain.app, name="chain")
app.command("publish")(content.publish)
app.command("attest")(content.attest)
app.command("trust")(content.trust)
app.command("anchor")(content.anchor)
app.add_typer(content.content_app, name="content")
app.add_typer(reputation.app, name="reputation")
app.add_typer(agent.app, name="agent")
app.command("embed")(embed.embed)
app.command("snapshot")(answers.snapshot)
app.command("ask")(answers.ask)
app.add_typer(asks.app, name="asks")
app.command("verify")(answers.verify)
app.command("receipt")(answers.receipt)
app.command("challenge")(disputes.challenge)
app.command("resolve")(disputes.resolve)
app.command("collect")(disputes.collect)
app.add_typer(payouts.epoch_app, name="epoch")
app.command("claim")(payouts.claim)
app.command("earnings")(payouts.earnings)
app.add_typer(labels.app, name="label")
app.add_typer(policy.app, name="policy")

_err = Console(stderr=True)


def main() -> None:
    try:
        app()  # standalone: typer answers usage errors (exit 2), --help and Ctrl-C at prompts
    except AigoraError as exc:
        _err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        _err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("AIGORA_DEBUG"):
            raise
        _err.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {exc} "
            "(a bug; set AIGORA_DEBUG=1 to see the traceback)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
