"""`aigora agent create | show | pending | approve | reject | revoke | run`: guarded agents.

The owner's key signs wallet creation, policy changes and approvals; the agent's own key (a
separate keystore account) signs only `execute`, and only inside `run`, whose planner runs in a
process without any key or passphrase. Commands that touch the chain open the embedded chain
directly: stop a running node (`aigora up`) first.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from web3.contract import Contract

from aigora.agent.agent import Executor, approve_pending
from aigora.agent.approvals import ApprovalQueue
from aigora.agent.errors import AgentError, ApprovalError
from aigora.agent.mandate import CompiledMandate, compile_mandate, compile_with_model
from aigora.agent.planner import run_planner, to_units
from aigora.agent.policy import Policy, format_amount
from aigora.agent.wallet import deploy_wallet, read_state
from aigora.chain import Chain
from aigora.cli._local import LocalStore, open_store
from aigora.cli.options import DataDirOption, data_dir_of, passphrase
from aigora.core.errors import DataDirInUse
from aigora.node.context import keystore_for, recorded_addresses
from aigora.store import AgentWallet
from aigora.store.db import session_scope

app = typer.Typer(help="Agents that spend only within a policy you set.", no_args_is_help=True)
console = Console()
NameArg = Annotated[str, typer.Argument(help="The agent's name.")]
AGENT_GAS_WEI = 10**18


@contextmanager
def _opened(data_dir: Path | None) -> Iterator[tuple[LocalStore, Chain]]:
    store = open_store(data_dir_of(data_dir))
    try:
        try:
            chain = Chain.open(store.config.chain.url, store.directory)
        except DataDirInUse:
            raise AgentError("a node is running on this data directory: stop it first") from None
        with chain:
            yield store, chain
    finally:
        store.close()


def _token(store: LocalStore, chain: Chain) -> str:
    token = store.config.chain.token or recorded_addresses(store.db, chain.chain_id).get("Token")
    if token is None:
        raise AgentError("no payment token on this chain yet: run `aigora up` once")
    return token


def _wallet_row(store: LocalStore, name: str) -> AgentWallet:
    with session_scope(store.db) as session:
        row = session.scalars(select(AgentWallet).where(AgentWallet.name == name)).first()
        if row is None:
            raise AgentError(f"no agent named {name!r}; create one with `aigora agent create`")
        session.expunge(row)
        return row


def _wallet(chain: Chain, row: AgentWallet) -> Contract:
    return chain.contract("PolicyWallet", row.address)


@app.command("create")
def create(
    mandate: Annotated[str, typer.Argument(help="What the agent may do, in plain words.")],
    name: Annotated[str, typer.Option(help="A name for this agent.")] = "agent",
    fund: Annotated[str, typer.Option(help="Tokens to move into the wallet now.")] = "0",
    account: Annotated[str | None, typer.Option(help="Owner account (default: operator).")] = None,
    model_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible endpoint to compile the mandate.")
    ] = None,
    model: Annotated[str, typer.Option(help="Model name at --model-url.")] = "default",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Compile MANDATE into a policy, show it in words, and on confirmation deploy its wallet."""
    with _opened(data_dir) as (store, chain):
        token = _token(store, chain)
        now = chain.now()
        compiled: CompiledMandate = (
            compile_with_model(mandate, url=model_url, model=model, token=token, now=now)
            if model_url
            else compile_mandate(mandate, token=token, now=now)
        )
        policy = compiled.policy
        console.print(policy.describe(start=now), highlight=False)
        console.print(f"Each tip: {format_amount(compiled.tip_amount)}.", highlight=False)
        for note in compiled.notes:
            console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
        if not yes and not typer.confirm("Sign and deploy this policy?", default=False):
            raise AgentError("not confirmed; nothing was signed")
        owner = store.unlock(account)
        keystore = keystore_for(store.directory)
        agent_key = f"agent-{name}"
        secret = passphrase()
        agent_address = (
            keystore.unlock(agent_key, secret).address
            if keystore.exists(agent_key)
            else keystore.create(agent_key, secret)
        )
        if chain.is_dev_chain and chain.balance(agent_address) == 0:
            chain.send_ether(chain.dev_signers()[0], agent_address, AGENT_GAS_WEI)
        wallet, _ = deploy_wallet(chain, owner, agent_address, policy, fund=to_units(fund))
        with session_scope(store.db) as session:
            session.add(
                AgentWallet(
                    name=name,
                    chain_id=chain.chain_id,
                    address=wallet.address,
                    owner=owner.address,
                    agent=agent_address,
                    agent_key=agent_key,
                    mandate=mandate,
                    policy_json=json.dumps(
                        {"policy": json.loads(policy.to_json()), "tip": str(compiled.tip_amount)}
                    ),
                    created_at=datetime.now(UTC),
                )
            )
    console.print(f"agent [bold]{name}[/bold]: wallet {wallet.address}, agent key {agent_address}")


def _policy_of(row: AgentWallet) -> tuple[Policy, int]:
    stored = json.loads(row.policy_json)
    return Policy.model_validate(stored["policy"]), int(stored["tip"])


@app.command("show")
def show(name: NameArg, data_dir: DataDirOption = None) -> None:
    """The policy in words and what the wallet has spent and holds."""
    with _opened(data_dir) as (store, chain):
        row = _wallet_row(store, name)
        policy, _ = _policy_of(row)
        state = read_state(chain, _wallet(chain, row))
        start = chain.call(_wallet(chain, row).functions.period_start())
    console.print(f"wallet {row.address}  owner {row.owner}  agent {row.agent}", highlight=False)
    console.print(f'mandate: "{row.mandate}"', highlight=False)
    console.print(policy.describe(start=start), highlight=False)
    status = "revoked" if state.revoked else "expired" if state.now >= policy.expiry else "active"
    console.print(
        f"status {status}; holds {format_amount(state.balance)}; spent "
        f"{format_amount(state.spent_total)} in total, {format_amount(state.period_spent)} "
        "this period",
        highlight=False,
    )


@app.command("pending")
def pending(name: NameArg, data_dir: DataDirOption = None) -> None:
    """Requests the agent was not allowed to carry out, waiting for you."""
    store = open_store(data_dir_of(data_dir))
    try:
        row = _wallet_row(store, name)
        items = ApprovalQueue(store.db, row.id).list()
    finally:
        store.close()
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
        return f"stake {format_amount(intent.amount)} in {intent.pool}"
    return f"swap {format_amount(intent.amount_in)} via {intent.router}"


@app.command("approve")
def approve(
    name: NameArg,
    approval_id: Annotated[int, typer.Argument(help="The pending request's id.")],
    account: Annotated[str | None, typer.Option(help="Owner account (default: operator).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Carry out one pending request with your (the owner's) key."""
    with _opened(data_dir) as (store, chain):
        row = _wallet_row(store, name)
        queue = ApprovalQueue(store.db, row.id)
        item = queue.get(approval_id)
        if item.status != "pending":
            raise ApprovalError(f"approval {approval_id} was already {item.status}")
        tx = approve_pending(chain, store.unlock(account), _wallet(chain, row), item.intent)
        queue.decide(approval_id, "approved", tx)
    console.print(f"approved {approval_id}: {_words(item.intent)} ({tx})")


@app.command("reject")
def reject(
    name: NameArg,
    approval_id: Annotated[int, typer.Argument(help="The pending request's id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Refuse one pending request; nothing is sent."""
    store = open_store(data_dir_of(data_dir))
    try:
        ApprovalQueue(store.db, _wallet_row(store, name).id).decide(approval_id, "rejected")
    finally:
        store.close()
    console.print(f"rejected {approval_id}")


@app.command("revoke")
def revoke(
    name: NameArg,
    account: Annotated[str | None, typer.Option(help="Owner account (default: operator).")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Stop the agent now; the tokens stay in the wallet for you to withdraw."""
    with _opened(data_dir) as (store, chain):
        row = _wallet_row(store, name)
        chain.transact(store.unlock(account), _wallet(chain, row).functions.revoke())
    console.print(f"revoked agent {name}: it can no longer move anything")


@app.command("run")
def run(
    name: NameArg,
    tasks: Annotated[Path, typer.Argument(help="Tasks: a JSON list, or one per line.")],
    data_dir: DataDirOption = None,
) -> None:
    """Plan TASKS (in a process without keys), then carry out what the policy allows."""
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
    with _opened(data_dir) as (store, chain):
        row = _wallet_row(store, name)
        policy, tip = _policy_of(row)
        intents = run_planner(items, tip_amount=tip)
        agent = keystore_for(store.directory).unlock(row.agent_key, passphrase())
        executor = Executor(
            chain, _wallet(chain, row), agent, policy, ApprovalQueue(store.db, row.id)
        )
        counts: dict[str, int] = {}
        for proposed in intents:
            outcome = executor.handle(proposed)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            detail = outcome.reason or ", ".join(outcome.tx_hashes)
            console.print(f"{outcome.status}: {detail}", highlight=False)
    skipped = len(items) - len(intents)
    console.print(
        f"{counts.get('sent', 0)} sent, {counts.get('pending', 0)} waiting for you "
        f"(`aigora agent pending {name}`), {counts.get('invalid', 0)} invalid, "
        f"{skipped} task(s) not understood"
    )
