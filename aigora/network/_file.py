"""The network file: what a node needs to join a network, small enough to publish anywhere.

A network is one set of contracts on one EVM chain. Its file names the chain, every contract's
address with the block and transaction that deployed it (scans of their events start there),
the parameters fixed at deployment, and the reputation seeds every node of the network uses (so
every node computes the same published reputation). `rpc` is a hint: a node's own
`[chain] url` wins.

Example (JSON):

    {"format": "aigora-network/1", "name": "devnet", "chain_id": 31337,
     "rpc": "http://127.0.0.1:8545", "deployment_block": 1,
     "contracts": {"Registry": {"address": "0x...", "block": 3, "tx_hash": "0x..."}, ...},
     "params": {"min_bond": "100000000000000000000", ...},
     "reputation": {"seeds": ["0x..."], "damping": 0.3}}
"""

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aigora.chain import MARKET_NAMES
from aigora.core.errors import AigoraError

FORMAT = "aigora-network/1"
CONTRACTS = ("Token", "Registry", "Disputes", "Distributor", "Bounties", "Channels", "Governor")
"""The contracts every network has; a node uses these and deploys none of them."""
MARKETS = MARKET_NAMES
"""A dev network's markets (its second token, pool and vault), all or none."""
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_HASH = r"^0x[0-9a-fA-F]{64}$"


class NetworkFileError(AigoraError):
    """A network file is missing, unreadable or does not describe a network."""


class ContractEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(pattern=_ADDRESS)
    block: int = Field(ge=0)
    tx_hash: str = Field(pattern=_HASH)


class NetworkParams(BaseModel):
    """What the network's contracts were deployed with (amounts as decimal strings)."""

    model_config = ConfigDict(extra="forbid")

    min_bond: str = Field(pattern=r"^[0-9]{1,78}$")
    unbonding_delay_s: int = Field(ge=0)
    slash_reward_bps: int = Field(ge=0, le=5000)
    challenger_bond: str = Field(pattern=r"^[0-9]{1,78}$")
    challenge_window_s: int = Field(ge=0)
    response_window_s: int = Field(ge=0)
    voting_period_s: int = Field(ge=1)
    timelock_s: int = Field(ge=0)
    quorum_bps: int = Field(ge=1, le=10_000)
    threshold_bps: int = Field(ge=0, le=10_000)


class NetworkReputation(BaseModel):
    """The seeded-trust parameters of the network's genesis policy. The policy in force, read
    from the Governor, decides what every node computes reputation with."""

    model_config = ConfigDict(extra="forbid")

    seeds: list[str] = Field(min_length=1)
    damping: float = Field(default=0.3, gt=0, lt=1)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[str]) -> list[str]:
        for seed in value:
            if not (seed.startswith("0x") and len(seed) == 42):
                raise ValueError(f"seed {seed!r} is not a 0x-prefixed 20-byte address")
        return value


class NetworkFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["aigora-network/1"] = FORMAT
    name: str = Field(min_length=1, max_length=64)
    chain_id: int = Field(ge=1)
    rpc: str | None = None
    deployment_block: int = Field(ge=0)
    contracts: dict[str, ContractEntry]
    params: NetworkParams
    reputation: NetworkReputation

    @field_validator("contracts")
    @classmethod
    def _contracts(cls, value: dict[str, ContractEntry]) -> dict[str, ContractEntry]:
        missing = [name for name in CONTRACTS if name not in value]
        if missing:
            raise ValueError(f"missing contracts: {', '.join(missing)}")
        unknown = sorted(set(value) - set(CONTRACTS) - set(MARKETS))
        if unknown:
            raise ValueError(f"unknown contracts: {', '.join(unknown)}")
        markets = [name for name in MARKETS if name in value]
        if markets and len(markets) != len(MARKETS):
            raise ValueError(f"the markets are {', '.join(MARKETS)}, all or none")
        return value

    @field_validator("rpc")
    @classmethod
    def _rpc(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s):// JSON-RPC URL")
        return value

    def addresses(self) -> dict[str, str]:
        return {name: entry.address for name, entry in self.contracts.items()}

    @property
    def registry(self) -> str:
        return self.contracts["Registry"].address


def load_network(path: Path) -> NetworkFile:
    """Read and check a network file; `NetworkFileError` says what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NetworkFileError(f"no network file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NetworkFileError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise NetworkFileError(f"{path} is not JSON: {exc}") from None
    try:
        return NetworkFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise NetworkFileError(f"{path}: {where}: {first['msg']}") from None


def write_network(path: Path, network: NetworkFile) -> None:
    """Write the file whole or not at all (renamed into place)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(network.model_dump_json(indent=2) + "\n", encoding="utf-8")
    partial.replace(path)
