"""Agents: compile a mandate into a policy, deploy its wallet, run planned intents through the
executor, and the owner's decisions (approve, reject, revoke).

The owner's key signs wallet creation, policy changes and approvals; the agent's own key (a
separate keystore account) signs only `execute`, and only inside `run`, whose planner runs in a
process without any key or passphrase. The planner is the `[agent]` config's model (or one named
by the caller), else the offline rules; a model's API key is read here from the environment
variable the config names and handed to the planner process on stdin.
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from web3.contract import Contract

from aigora.agent import (
    AgentError,
    Approval,
    ApprovalError,
    ApprovalQueue,
    CompiledMandate,
    Executor,
    ModelEndpoint,
    Outcome,
    Policy,
    TaskPlan,
    WalletState,
    approve_pending,
    compile_mandate,
    compile_with_model,
    deploy_wallet,
    read_state,
    run_planner,
)
from aigora.app._config import AgentConfig
from aigora.app._context import NodeContext
from aigora.core.keystore import Signer
from aigora.store import AgentWallet, session_scope

AGENT_GAS_WEI = 10**18
"""Ether a dev chain gives a new agent key, so it can pay for `execute`."""


@dataclass(frozen=True)
class AgentView:
    """An agent's wallet row, its policy, and what the wallet has spent and holds now."""

    row: AgentWallet
    policy: Policy
    state: WalletState
    started_at: int

    @property
    def status(self) -> str:
        if self.state.revoked:
            return "revoked"
        return "expired" if self.state.now >= self.policy.expiry else "active"


@dataclass(frozen=True)
class TaskReport:
    """One task: which planner planned it (`planned_by`: "model", "rules" or "rules (model
    failed: why)"), what became of each intent, and how many tool calls were over the cap."""

    planned_by: str
    outcomes: tuple[Outcome, ...]
    dropped: int = 0

    @property
    def understood(self) -> bool:
        return bool(self.outcomes)


@dataclass(frozen=True)
class RunReport:
    """What `run` did with each task, in order."""

    tasks: tuple[TaskReport, ...]
    rebalance: Outcome | None = None
    """The stake or unstake that brought the kept vault to its share first (None: none needed)."""

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(outcome for task in self.tasks for outcome in task.outcomes)

    @property
    def not_understood(self) -> int:
        return sum(1 for task in self.tasks if not task.understood)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def model_endpoint(
    config: AgentConfig, model_url: str | None = None, model: str | None = None
) -> ModelEndpoint | None:
    """The model to plan with: the arguments over the config; None (the rules) without a URL."""
    url = model_url or config.model_url
    if not url:
        return None
    return ModelEndpoint(url=url, model=model or config.model, timeout_s=config.timeout_s)


def model_key(config: AgentConfig, environ: Mapping[str, str]) -> str | None:
    """The model's API key, from the environment variable the config names (None if unset)."""
    return environ.get(config.model_key_env) or None


def _policy_of(row: AgentWallet) -> tuple[Policy, int]:
    stored = json.loads(row.policy_json)
    return Policy.model_validate(stored["policy"]), int(stored["tip"])


class Agents:
    """Guarded agents on the node's chain (commands open it directly: the node must be stopped)."""

    def __init__(self, context: NodeContext) -> None:
        self.context = context

    def token(self) -> str:
        return self.context.deployment.token.address

    def compile(
        self,
        mandate: str,
        model_url: str | None = None,
        model: str | None = None,
        *,
        holdings: int | None = None,
    ) -> CompiledMandate:
        """The mandate as a typed policy: by the model at `model_url` (else the `[agent]`
        config's), or by the offline rules when neither names one. On a dev chain "the vault"
        and an unnamed swap mean its markets; `holdings` is what the wallet will be funded with."""
        token, now = self.token(), self.context.chain.now()
        config = self.context.config.agent
        endpoint = model_endpoint(config, model_url, model)
        markets = self.context.deployment.markets
        at = {
            "token": token,
            "now": now,
            "vault": None if markets is None else markets.vault.address,
            "router": None if markets is None else markets.pool.address,
            "swap_tokens": () if markets is None else (markets.stable.address,),
            "holdings": holdings,
        }
        if endpoint is None:
            return compile_mandate(mandate, **at)
        return compile_with_model(
            mandate,
            url=endpoint.url,
            model=endpoint.model,
            api_key=model_key(config, os.environ),
            timeout_s=endpoint.timeout_s,
            **at,
        )

    def create(
        self,
        compiled: CompiledMandate,
        *,
        name: str,
        mandate: str,
        owner: Signer,
        agent_passphrase: str,
        fund: int = 0,
    ) -> AgentWallet:
        """Deploy a wallet under `compiled`'s policy, owned by `owner`, for the agent key
        `agent-NAME` (created on first use), and record it."""
        context = self.context
        chain = context.chain
        keystore = context.keystore
        agent_key = f"agent-{name}"
        agent_address = (
            keystore.unlock(agent_key, agent_passphrase).address
            if keystore.exists(agent_key)
            else keystore.create(agent_key, agent_passphrase)
        )
        if chain.is_dev_chain and chain.balance(agent_address) == 0:
            chain.send_ether(chain.dev_signers()[0], agent_address, AGENT_GAS_WEI)
        wallet, _ = deploy_wallet(chain, owner, agent_address, compiled.policy, fund=fund)
        row = AgentWallet(
            name=name,
            chain_id=chain.chain_id,
            address=wallet.address,
            owner=owner.address,
            agent=agent_address,
            agent_key=agent_key,
            mandate=mandate,
            policy_json=json.dumps(
                {
                    "policy": json.loads(compiled.policy.to_json()),
                    "tip": str(compiled.tip_amount),
                }
            ),
            created_at=datetime.now(UTC),
        )
        with session_scope(context.db) as session:
            session.add(row)
            session.flush()
            session.expunge(row)
        return row

    def _row(self, name: str) -> AgentWallet:
        with session_scope(self.context.db) as session:
            row = session.scalars(select(AgentWallet).where(AgentWallet.name == name)).first()
            if row is None:
                raise AgentError(f"no agent named {name!r}; create one with `aigora agent create`")
            session.expunge(row)
            return row

    def _wallet(self, row: AgentWallet) -> Contract:
        return self.context.chain.contract("PolicyWallet", row.address)

    def show(self, name: str) -> AgentView:
        row = self._row(name)
        policy, _ = _policy_of(row)
        wallet = self._wallet(row)
        chain = self.context.chain
        state = read_state(chain, wallet, policy)
        return AgentView(row, policy, state, chain.call(wallet.functions.started_at()))

    def pending(self, name: str) -> list[Approval]:
        """Requests the agent was not allowed to carry out, waiting for the owner."""
        return ApprovalQueue(self.context.db, self._row(name).id).list()

    def approve(self, name: str, approval_id: int, owner: Signer) -> tuple[Approval, str]:
        """Carry out one pending request with the owner's key; the transaction hash."""
        row = self._row(name)
        queue = ApprovalQueue(self.context.db, row.id)
        item = queue.get(approval_id)
        if item.status != "pending":
            raise ApprovalError(f"approval {approval_id} was already {item.status}")
        tx = approve_pending(self.context.chain, owner, self._wallet(row), item.intent)
        queue.decide(approval_id, "approved", tx)
        return item, tx

    def reject(self, name: str, approval_id: int) -> None:
        """Refuse one pending request; nothing is sent."""
        ApprovalQueue(self.context.db, self._row(name).id).decide(approval_id, "rejected")

    def revoke(self, name: str, owner: Signer) -> str:
        """Stop the agent now; the tokens stay in the wallet for the owner."""
        row = self._row(name)
        return self.context.chain.transact(owner, self._wallet(row).functions.revoke()).tx_hash

    def withdraw(
        self,
        name: str,
        owner: Signer,
        *,
        token: str | None = None,
        to: str | None = None,
        amount: int | None = None,
    ) -> tuple[int, str]:
        """Move `amount` (all when None) of `token` (the policy's token when None; any ERC-20,
        e.g. a swap's output) out of the wallet to `to` (the owner when None), outside the
        policy: only the owner's key can. Returns (amount, transaction hash)."""
        chain, wallet = self.context.chain, self._wallet(self._row(name))
        token = token or self.token()
        held = chain.call(chain.contract("Token", token).functions.balanceOf(wallet.address))
        amount = held if amount is None else amount
        if amount <= 0:
            raise AgentError(f"the wallet holds no {token} to withdraw")
        if amount > held:
            raise AgentError(f"the wallet holds {held} of {token}, less than {amount}")
        call = wallet.functions.withdraw_token(token, to or owner.address, amount)
        return amount, chain.transact(owner, call).tx_hash

    def run(
        self,
        name: str,
        tasks: list,
        agent_passphrase: str,
        *,
        model_url: str | None = None,
        model: str | None = None,
    ) -> RunReport:
        """Plan `tasks` (in a process without keys; by the model at `model_url`, else the
        config's, else the rules), then carry out what the policy allows and queue the rest for
        the owner."""
        context = self.context
        row = self._row(name)
        policy, tip = _policy_of(row)
        config = context.config.agent
        endpoint = model_endpoint(config, model_url, model)
        plans = run_planner(
            tasks,
            tip_amount=tip,
            model=endpoint,
            api_key=None if endpoint is None else model_key(config, os.environ),
            policy=policy,
        )
        agent = context.keystore.unlock(row.agent_key, agent_passphrase)
        executor = Executor(
            context.chain, self._wallet(row), agent, policy, ApprovalQueue(context.db, row.id)
        )
        rebalanced = executor.rebalance()
        return RunReport(tuple(_carry_out(executor, plan) for plan in plans), rebalanced)


def _carry_out(executor: Executor, plan: TaskPlan) -> TaskReport:
    outcomes = tuple(executor.handle(proposed) for proposed in plan.intents)
    return TaskReport(plan.planned_by, outcomes, plan.dropped)
