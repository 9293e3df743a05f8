"""The reputation layer's user-facing error."""

from aigora.core.errors import AigoraError


class ReputationError(AigoraError, ValueError):
    """Reputation inputs or parameters are unusable; the message says which and why.

    Raised at the edge, before any computation, so a published score is never computed from input
    that a verifier would reject (an unknown verdict, a duplicate rating, damping outside (0, 1)).
    """
