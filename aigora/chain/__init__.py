"""Contracts and the client that talks to a chain, embedded or remote.

`chain` imports only `core`: it knows nothing of the store, the node or any feature.
"""

from aigora.chain.client import Chain, TxResult
from aigora.chain.compile import CompiledContract, compile_contract

__all__ = ["Chain", "CompiledContract", "TxResult", "compile_contract"]
