"""Deploy the foundation contracts (payment token and registry) and find them again."""

from dataclasses import dataclass, field

from web3.contract import Contract

from aigora.chain.client import Chain, TxResult, TxSigner
from aigora.chain.compile import compile_contract

TOKEN_UNIT = 10**18
DEV_TOKEN_NAME = "Aigora Dev Token"
DEV_TOKEN_SYMBOL = "AIGD"


@dataclass(frozen=True)
class RegistryParams:
    """Economic parameters fixed at deployment: a bond that makes cheating costly and a delay long
    enough for a challenge against a recent answer to still reach the bond."""

    min_bond: int = 100 * TOKEN_UNIT
    unbonding_delay_s: int = 7 * 24 * 3600


@dataclass(frozen=True)
class Deployment:
    """Handles on the foundation contracts; `transactions` holds the deployments made this time
    (an existing token named by configuration has none)."""

    token: Contract
    registry: Contract
    transactions: dict[str, TxResult] = field(default_factory=dict)

    def addresses(self) -> dict[str, str]:
        return {"Token": self.token.address, "Registry": self.registry.address}


def deploy_foundation(
    chain: Chain,
    deployer: TxSigner,
    params: RegistryParams = RegistryParams(),
    token_address: str | None = None,
) -> Deployment:
    """Deploy the registry, and a dev token unless `token_address` names an existing ERC-20."""
    transactions: dict[str, TxResult] = {}
    if token_address is None:
        token, transactions["Token"] = chain.deploy(
            deployer, "Token", DEV_TOKEN_NAME, DEV_TOKEN_SYMBOL
        )
    else:
        token = chain.contract("Token", token_address)
    registry, transactions["Registry"] = chain.deploy(
        deployer, "Registry", token.address, params.min_bond, params.unbonding_delay_s
    )
    return Deployment(token=token, registry=registry, transactions=transactions)


def attach_foundation(chain: Chain, addresses: dict[str, str]) -> Deployment:
    """Handles on contracts deployed earlier, by the addresses recorded then."""
    return Deployment(
        token=chain.contract("Token", addresses["Token"]),
        registry=chain.contract("Registry", addresses["Registry"]),
    )


def source_hash(name: str) -> str:
    """The 0x-hex SHA-256 naming the compiler version and source a deployment was built from."""
    return "0x" + compile_contract(name).source_hash
