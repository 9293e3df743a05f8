"""`aigora agent create | show | pending | approve | reject | revoke | run`: guarded agents.

The owner's key signs wallet creation, policy changes and approvals; the agent's own key (a
separate keystore account) signs only `execute`, and only inside `run`, whose planner runs in a
process without any key or passphrase. `--model-url` and `--model` (default: the `[agent]`
config) plan with an OpenAI-compatible model, its API key from the environment variable
`[agent] model_key_env` (AIGORA_MODEL_KEY); without one, the offline rules plan. Commands that
touch the chain open the embedded chain directly: stop a running node (`aigora up`) first.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aigora.agent import MAX_TOOL_CALLS, AgentError, format_amount, to_units
from aigora.app import Agents, NodeContext, open_chain_view
from aigora.cli.options import DataDirOption, data_dir_of, passphrase
from aigora.core.errors import DataDirInUse
from aigora.core.keystore import Signer

app = typer.Typer(help="Agents that spend only within a policy you set.", no_args_is_help=True)
console = Console()
NameArg = Annotated[str, typer.Argument(help="The agent's name.")]
OwnerOption = Annotated[str | None, typer.Option(help="Owner account (default: operator).")]
ModelUrlOption = Annotated[
    str | None,
    typer.Option(
        help="OpenAI-compatible API base (e.g. http://127.0.0.1:8000/v1); "
        "default: [agent] model_url, else the offline rules."
    ),
]
ModelOption = Annotated[
    str | None, typer.Option(help='Model name at the URL (default: [agent] model, "default").')
]


@contextmanager
def _agents(data_dir: Path | None) -> Iterator[Agents]:
    """The agents service on this data directory's chain, opened here (not through a node)."""
    try:
        context = open_chain_view(data_dir_of(data_dir))
    except DataDirInUse:
        raise AgentError("a node is running on this data directory: stop it first") from None
    try:
        yield Agents(context)
    finally:
        context.close()


def _owner(context: NodeContext, account: str | None) -> Signer:
    return context.keystore.unlock(account or context.config.node.operator_key, passphrase())


@app.command("create")
def create(
    mandate: Annotated[str, typer.Argument(help="What the agent may do, in plain words.")],
    name: Annotated[str, typer.Option(help="A name for this agent.")] = "agent",
    fund: Annotated[str, typer.Option(help="Tokens to move into the wallet now.")] = "0",
    account: OwnerOption = None,
    model_url: ModelUrlOption = None,
    model: ModelOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Compile MANDATE into a policy, show it in words, and on confirmation deploy its wallet."""
    funding = to_units(fund)
    with _agents(data_dir) as agents:
        compiled = agents.compile(mandate, model_url, model, holdings=funding or None)
        console.print(compiled.policy.describe(start=agents.context.chain.now()), highlight=False)
        console.print(f"Each tip: {format_amount(compiled.tip_amount)}.", highlight=False)
        for note in compiled.notes:
            console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
        if not yes and not typer.confirm("Sign and deploy this policy?", default=False):
            raise AgentError("not confirmed; nothing was signed")
        row = agents.create(
            compiled,
            name=name,
            mandate=mandate,
            owner=_owner(agents.context, account),
            agent_passphrase=passphrase(),
            fund=funding,
        )
    console.print(f"agent [bold]{name}[/bold]: wallet {row.address}, agent key {row.agent}")


@app.command("show")
def show(name: NameArg, data_dir: DataDirOption = None) -> None:
    """The policy in words and what the wallet has spent and holds."""
    with _agents(data_dir) as agents:
        view = agents.show(name)
    row, policy, state = view.row, view.policy, view.state
    console.print(f"wallet {row.address}  owner {row.owner}  agent {row.agent}", highlight=False)
    console.print(f'mandate: "{row.mandate}"', highlight=False)
    console.print(policy.describe(start=view.started_at), highlight=False)
    console.print(
        f"status {view.status}; holds {format_amount(state.balance)}; spent "
        f"{format_amount(state.spent_total)} in total, {format_amount(state.period_spent)} "
        "this period",
        highlight=False,
    )
    for i, limit in enumerate(policy.limits, start=1):
        used = state.limit(i).spent
        how = "in it now" if limit.is_exposure else "this period"
        console.print(
            f"{limit.label or f'limit {i}'}: {format_amount(used)} of "
            f"{format_amount(limit.cap)} {how}",
            highlight=False,
        )
    if policy.keep_in_vault is not None:
        console.print(f"in the vault: {format_amount(state.in_vault)}", highlight=False)


@app.command("pending")
def pending(name: NameArg, data_dir: DataDirOption = None) -> None:
    """Requests the agent was not allowed to carry out, waiting for you."""
    with _agents(data_dir) as agents:
        items = agents.pending(name)
    if not items:
        console.print("nothing pending")
        return
    table = Table("id", "request", "why it waits")
    for a in items:
        table.add_row(str(a.id), _words(a.intent), a.reason)
    console.print(table)


def _words(intent: Any) -> str:
    if intent.kind in ("pay", "tip"):
        return f"{intent.kind} {format_amount(intent.amount)} to {intent.to}"
    if intent.kind == "stake":
        return f"stake {format_amount(intent.amount)} in {intent.vault}"
    if intent.kind == "unstake":
        return f"unstake {format_amount(intent.amount)} from {intent.vault}"
    return f"swap {format_amount(intent.amount_in)} via {intent.router}"


@app.command("approve")
def approve(
    name: NameArg,
    approval_id: Annotated[int, typer.Argument(help="The pending request's id.")],
    account: OwnerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Carry out one pending request with your (the owner's) key."""
    with _agents(data_dir) as agents:
        item, tx = agents.approve(name, approval_id, _owner(agents.context, account))
    console.print(f"approved {approval_id}: {_words(item.intent)} ({tx})")


@app.command("reject")
def reject(
    name: NameArg,
    approval_id: Annotated[int, typer.Argument(help="The pending request's id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Refuse one pending request; nothing is sent."""
    with _agents(data_dir) as agents:
        agents.reject(name, approval_id)
    console.print(f"rejected {approval_id}")


@app.command("revoke")
def revoke(
    name: NameArg,
    account: OwnerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Stop the agent now; the tokens stay in the wallet for you to withdraw."""
    with _agents(data_dir) as agents:
        agents.revoke(name, _owner(agents.context, account))
    console.print(f"revoked agent {name}: it can no longer move anything")


@app.command("withdraw")
def withdraw(
    name: NameArg,
    token: Annotated[
        str | None, typer.Option(help="The token (default: the policy's; any ERC-20 it holds).")
    ] = None,
    to: Annotated[str | None, typer.Option(help="Where to (default: the owner).")] = None,
    amount: Annotated[
        str | None, typer.Option(help="How many tokens (default: all of them).")
    ] = None,
    account: OwnerOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Take tokens out of the agent's wallet with the owner's key (swap outputs included)."""
    count = None if amount is None else to_units(amount)
    with _agents(data_dir) as agents:
        moved, tx = agents.withdraw(
            name, _owner(agents.context, account), token=token, to=to, amount=count
        )
    console.print(
        f"withdrew {format_amount(moved)} from agent {name}'s wallet ({tx})", highlight=False
    )


@app.command("run")
def run(
    name: NameArg,
    tasks: Annotated[Path, typer.Argument(help="Tasks: a JSON list, or one per line.")],
    model_url: ModelUrlOption = None,
    model: ModelOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Plan TASKS (in a process without keys), then carry out what the policy allows. Each line
    says which planner planned the task: the model, or the rules (and why not the model)."""
    try:
        text = tasks.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentError(f"cannot read {tasks}: {exc.strerror}") from None
    try:
        items = json.loads(text)
    except ValueError:
        items = [line for line in text.splitlines() if line.strip()]
    if not isinstance(items, list):
        raise AgentError("tasks must be a JSON list or one task per line")
    with _agents(data_dir) as agents:
        report = agents.run(name, items, passphrase(), model_url=model_url, model=model)
    if report.rebalance is not None:
        moved = report.rebalance
        assert moved.intent is not None
        detail = moved.reason or ", ".join(moved.tx_hashes)
        console.print(
            f"vault share first: {_words(moved.intent)}: {moved.status}: {detail}", highlight=False
        )
    # what a planner or model wrote is printed as text, never as console markup
    for number, task in enumerate(report.tasks, 1):
        head = f"task {number} ({task.planned_by})"
        if not task.outcomes:
            console.print(f"{head}: not understood", markup=False, highlight=False)
        for outcome in task.outcomes:
            detail = outcome.reason or ", ".join(outcome.tx_hashes)
            console.print(f"{head}: {outcome.status}: {detail}", markup=False, highlight=False)
        if task.dropped:
            console.print(
                f"{head}: {task.dropped} more tool call(s) dropped (at most {MAX_TOOL_CALLS})",
                markup=False,
                highlight=False,
            )
    console.print(
        f"{report.count('sent')} sent, {report.count('pending')} waiting for you "
        f"(`aigora agent pending {name}`), {report.count('invalid')} invalid, "
        f"{report.not_understood} task(s) not understood"
    )
