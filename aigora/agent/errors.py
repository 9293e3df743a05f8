"""The agent package's errors: each names what was refused and why, on one line."""

from aigora.core.errors import AigoraError


class AgentError(AigoraError):
    """Base of the agent package's errors."""


class PolicyError(AgentError):
    """A policy is malformed or inconsistent (for example a per-period cap above the budget)."""


class IntentError(AgentError):
    """A planner produced something that is not one of the typed intents, or a malformed one."""


class MandateError(AgentError):
    """A mandate could not be compiled into a policy."""


class ApprovalError(AgentError):
    """A pending approval does not exist, was already decided, or cannot be carried out."""


class ModelError(AgentError):
    """A model endpoint failed or gave no chat completion; the message never quotes the server
    or the key. The planner falls back to its rules."""
