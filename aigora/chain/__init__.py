"""Contracts and the client that talks to a chain, embedded or remote.

`chain` imports only `core`: it knows nothing of the store, the node or any feature.

- `compile_contract(name)`: the ABI, deployment and runtime bytecode of `contracts/<name>.vy`,
  cached by a hash of every source it is built from (shared modules in `contracts/lib/` and
  snekmate's included).
- `contract_constants(name)`: the `constant(...)` values a contract (and each module it imports)
  declares, read from the Vyper source; tests tie every Python mirror of a contract constant to it.
- `deploy_markets`: a dev chain's second token, constant-product pool (seeded) and ERC-4626
  vault (`Deployment.markets`), where agents swap and stake; never part of a network.
- `Chain.events` / `Chain.event_pages` read logs in windows of at most `max_range` blocks (many
  providers refuse wider ranges); `Chain.deployment_block` says where a history scan starts.
- Contract structs are read only through the typed readers of `records` (`read_operator`,
  `read_dispute`, ...), each decoding one struct into a named dataclass, never by tuple index.
"""

from aigora.chain.anvil import Anvil, AnvilNotFound
from aigora.chain.client import MAX_LOG_RANGE, Chain, TxResult, TxSigner
from aigora.chain.compile import CompiledContract, compile_contract
from aigora.chain.constants import ConstantValue, contract_constants
from aigora.chain.deploy import (
    DEPLOYED_AS,
    DEV_STABLE_SYMBOL,
    MARKET_NAMES,
    POOL_FEE_BPS,
    POOL_LIQUIDITY,
    TOKEN_UNIT,
    WITHDRAW_DELAY_S,
    Deployment,
    DisputeParams,
    GovernorParams,
    Markets,
    RegistryParams,
    attach_foundation,
    deploy_bounties,
    deploy_channels,
    deploy_disputes,
    deploy_distributor,
    deploy_foundation,
    deploy_governor,
    deploy_markets,
    source_hash,
)
from aigora.chain.records import (
    ZERO_ADDRESS,
    BatchRecord,
    ChannelRecord,
    DisputeRecord,
    EnactmentRecord,
    GameRecord,
    JobRecord,
    ModelRecord,
    OperatorRecord,
    ProposalRecord,
    ShareRecord,
    SlashRecord,
    SnapshotRegistration,
    check_layout,
    last_receipt_nonce,
    read_batch,
    read_channel,
    read_dispute,
    read_enactment,
    read_game,
    read_job,
    read_model,
    read_operator,
    read_proposal,
    read_share,
    read_slash,
    read_snapshot,
)

__all__ = [
    "DEPLOYED_AS",
    "DEV_STABLE_SYMBOL",
    "MARKET_NAMES",
    "MAX_LOG_RANGE",
    "POOL_FEE_BPS",
    "POOL_LIQUIDITY",
    "TOKEN_UNIT",
    "WITHDRAW_DELAY_S",
    "ZERO_ADDRESS",
    "Anvil",
    "AnvilNotFound",
    "BatchRecord",
    "Chain",
    "ChannelRecord",
    "CompiledContract",
    "ConstantValue",
    "Deployment",
    "DisputeParams",
    "DisputeRecord",
    "EnactmentRecord",
    "GameRecord",
    "GovernorParams",
    "JobRecord",
    "Markets",
    "ModelRecord",
    "OperatorRecord",
    "ProposalRecord",
    "RegistryParams",
    "ShareRecord",
    "SlashRecord",
    "SnapshotRegistration",
    "TxResult",
    "TxSigner",
    "attach_foundation",
    "check_layout",
    "compile_contract",
    "contract_constants",
    "deploy_bounties",
    "deploy_channels",
    "deploy_disputes",
    "deploy_distributor",
    "deploy_foundation",
    "deploy_governor",
    "deploy_markets",
    "last_receipt_nonce",
    "read_batch",
    "read_channel",
    "read_dispute",
    "read_enactment",
    "read_game",
    "read_job",
    "read_model",
    "read_operator",
    "read_proposal",
    "read_share",
    "read_slash",
    "read_snapshot",
    "source_hash",
]
