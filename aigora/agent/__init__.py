"""Guarded agents: mandates in words, typed policies, typed intents and a policy wallet.

An owner's mandate compiles (`mandate`) into a `Policy` (`policy`) that a `PolicyWallet` contract
enforces (`wallet`). A planner, which never holds a key (`planner`), proposes only typed intents
(`intents`); code builds their calldata; `check` explains a refusal before anything is sent; the
`Executor` (`agent`) sends what is allowed with the agent key and queues the rest for the owner
(`approvals`). The planner is rules by default, or any OpenAI-compatible model whose tools are
the intents (`model_planner`); the rules take over a task whenever the model endpoint fails.
"""

from aigora.agent.agent import Executor, MemoryApprovals, Outcome, approve_pending
from aigora.agent.approvals import Approval, ApprovalQueue
from aigora.agent.check import (
    LimitState,
    Verdict,
    WalletState,
    check_calls,
    check_intent,
    rebalance_intent,
)
from aigora.agent.errors import (
    AgentError,
    ApprovalError,
    IntentError,
    MandateError,
    ModelError,
    PolicyError,
)
from aigora.agent.intents import (
    INTENT_TYPES,
    Call,
    Pay,
    Stake,
    Swap,
    Tip,
    Unstake,
    build_calls,
    parse_intent,
)
from aigora.agent.mandate import CompiledMandate, compile_mandate, compile_with_model
from aigora.agent.model_planner import MAX_TOOL_CALLS, ModelEndpoint, intent_tools
from aigora.agent.planner import TaskPlan, run_planner, to_units
from aigora.agent.policy import (
    AllowedCall,
    KeepInVault,
    Limit,
    Policy,
    format_amount,
    parse_policy,
    worst_case_loss,
)
from aigora.agent.wallet import deploy_wallet, execute, read_state, set_policy

__all__ = [
    "INTENT_TYPES",
    "MAX_TOOL_CALLS",
    "AgentError",
    "AllowedCall",
    "Approval",
    "ApprovalError",
    "ApprovalQueue",
    "Call",
    "CompiledMandate",
    "Executor",
    "IntentError",
    "KeepInVault",
    "Limit",
    "LimitState",
    "MandateError",
    "MemoryApprovals",
    "ModelEndpoint",
    "ModelError",
    "Outcome",
    "Pay",
    "Policy",
    "PolicyError",
    "Stake",
    "Swap",
    "TaskPlan",
    "Tip",
    "Unstake",
    "Verdict",
    "WalletState",
    "approve_pending",
    "build_calls",
    "check_calls",
    "check_intent",
    "compile_mandate",
    "compile_with_model",
    "deploy_wallet",
    "execute",
    "format_amount",
    "intent_tools",
    "parse_intent",
    "parse_policy",
    "read_state",
    "rebalance_intent",
    "run_planner",
    "set_policy",
    "to_units",
    "worst_case_loss",
]
