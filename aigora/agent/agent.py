"""The executor: the only place the agent key is used.

It takes typed intents from a planner (which never sees the key), checks each against the policy
off-chain, sends the allowed ones through `PolicyWallet.execute`, and turns every refusal into a
pending approval for the owner with the reason, so nothing outside the policy is executed by the
agent and nothing is silently dropped. The contract enforces the policy regardless of this check.
"""

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from web3.contract import Contract

from aigora.agent.check import check_intent, check_swap_price, rebalance_intent
from aigora.agent.errors import ApprovalError, IntentError
from aigora.agent.intents import AnyIntent, Pay, Swap, Tip, build_calls, parse_intent
from aigora.agent.policy import Policy
from aigora.agent.wallet import execute, read_state
from aigora.chain.client import Chain, TxSigner
from aigora.core.errors import ChainError, ContractRevert

logger = logging.getLogger(__name__)


class Approvals(Protocol):
    def add(self, intent: AnyIntent, reason: str) -> int: ...


@dataclass
class MemoryApprovals:
    """Approvals kept in memory (tests, benchmarks); the CLI uses `approvals.ApprovalQueue`."""

    items: list[tuple[AnyIntent, str]] = field(default_factory=list)

    def add(self, intent: AnyIntent, reason: str) -> int:
        self.items.append((intent, reason))
        return len(self.items)


@dataclass(frozen=True)
class Outcome:
    """What happened to one planner output: `sent`, `pending` (owner decides) or `invalid`."""

    status: str
    reason: str = ""
    tx_hashes: tuple[str, ...] = ()
    approval_id: int | None = None
    intent: AnyIntent | None = None


class Executor:
    """Holds the agent's signer; runs intents for one wallet under one policy."""

    def __init__(
        self, chain: Chain, wallet: Contract, agent: TxSigner, policy: Policy, approvals: Approvals
    ) -> None:
        self.chain = chain
        self.wallet = wallet
        self._agent = agent
        self.policy = policy
        self.approvals = approvals

    def handle(self, proposed: Any) -> Outcome:
        """Validate, check and run (or queue) one planner output."""
        try:
            intent = parse_intent(proposed)
        except IntentError as exc:
            logger.info("refused planner output: %s", exc)
            return Outcome("invalid", str(exc))
        state = read_state(self.chain, self.wallet, self.policy)
        verdict = check_intent(self.policy, state, intent)
        if verdict.allowed and isinstance(intent, Swap):
            verdict = check_swap_price(self.policy, intent, self._quote(intent))
        if not verdict.allowed:
            return self._queue(intent, verdict.explain())
        hashes = []
        for call in build_calls(intent, self.policy, self.wallet.address):
            try:
                hashes.append(execute(self.chain, self._agent, self.wallet, call).tx_hash)
            except ContractRevert as exc:
                # The contract disagreed with the off-chain check (clock moved, balance changed):
                # the owner decides, as for any refusal.
                done = f" after {len(hashes)} of its calls" if hashes else ""
                return self._queue(intent, f"the wallet refused{done}: {exc.reason}")
        logger.info("executed %s in %d transaction(s)", intent.kind, len(hashes))
        return Outcome("sent", tx_hashes=tuple(hashes), intent=intent)

    def _quote(self, swap: Swap) -> int | None:
        """The router's price for `swap` now, or None when it has none to give."""
        router = self.chain.contract("Pool", swap.router)
        try:
            quoted = router.functions.quote(self.policy.token, swap.token_out, swap.amount_in)
            return int(self.chain.call(quoted))
        except (ContractRevert, ChainError):
            return None

    def rebalance(self) -> Outcome | None:
        """Bring the vault the policy keeps a share in to that share (None: nothing to do)."""
        intent = rebalance_intent(self.policy, read_state(self.chain, self.wallet, self.policy))
        return None if intent is None else self.handle(intent.model_dump())

    def _queue(self, intent: AnyIntent, reason: str) -> Outcome:
        approval_id = self.approvals.add(intent, reason)
        logger.info("out of policy, queued approval %d: %s", approval_id, reason)
        return Outcome("pending", reason, approval_id=approval_id, intent=intent)


def approve_pending(chain: Chain, owner: TxSigner, wallet: Contract, intent: AnyIntent) -> str:
    """Carry out an approved pay or tip with the owner's key (`withdraw`, outside the policy)."""
    if not isinstance(intent, Pay | Tip):
        raise ApprovalError(
            f"a {intent.kind} cannot be approved one-off; widen the policy with a new mandate"
        )
    return chain.transact(owner, wallet.functions.withdraw(intent.to, intent.amount)).tx_hash
