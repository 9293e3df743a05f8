"""The engine's user-facing error."""

from aigora.core.errors import AigoraError


class EngineError(AigoraError):
    """The model, its input or the engine's settings are unusable; the message says why."""
