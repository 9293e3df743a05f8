"""The exceptions Aigora raises on purpose.

Every error a user can cause or fix is an `AigoraError` whose message says what went wrong and,
where it can, what to do. The CLI prints that message on one line and exits non-zero; the HTTP API
turns it into a 4xx. Anything else reaching the edge is a bug.
"""


class AigoraError(Exception):
    """Base of all errors a user can act on."""


class ConfigError(AigoraError):
    """Configuration is malformed or names something that does not exist."""


class KeystoreError(AigoraError):
    """A keystore is missing, unreadable or ambiguous."""


class WrongPassphrase(KeystoreError):
    """The passphrase does not decrypt the keystore."""


class EncodingError(AigoraError, ValueError):
    """A value cannot be encoded the way the protocol requires (canonical JSON, ABI types)."""


class MerkleError(AigoraError):
    """A Merkle tree, dump or proof is malformed, or a value is not in the tree."""


class SignatureError(AigoraError):
    """A signature is malformed or a signer did not produce a usable one."""


class ChainError(AigoraError):
    """The chain could not be reached or did not accept what we sent."""


class ChainUnreachable(ChainError):
    """No JSON-RPC node answers at the configured URL."""


class ContractRevert(ChainError):
    """A contract call or transaction reverted; `reason` is the contract's revert string."""

    def __init__(self, reason: str, *, function: str | None = None) -> None:
        self.reason = reason
        self.function = function
        where = f" in {function}" if function else ""
        super().__init__(f"contract reverted{where}: {reason}")


class StoreError(AigoraError):
    """The database or blob store refused an operation."""


class BlobIntegrityError(StoreError):
    """A stored blob no longer matches its CID: the file was altered or corrupted."""


class NotFound(AigoraError):
    """The requested object does not exist."""


class DataDirInUse(AigoraError):
    """Another process (usually a running node) holds the data directory."""
