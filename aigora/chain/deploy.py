"""Deploy the foundation contracts (payment token and registry), the disputes contract, the
distributor, the labeling escrow and the ask channels, the dev chains' markets (a second token,
a pool and a vault), and find them again."""

from dataclasses import dataclass, field

from web3.contract import Contract

from aigora.chain.client import Chain, TxResult, TxSigner
from aigora.chain.compile import compile_contract

TOKEN_UNIT = 10**18
DEV_TOKEN_NAME = "Aigora Dev Token"
DEV_TOKEN_SYMBOL = "AIGD"


@dataclass(frozen=True)
class RegistryParams:
    """Economic parameters fixed at deployment: a bond that makes cheating costly, a delay long
    enough for a challenge against a recent answer to still reach the bond (the registry also holds
    the bond while a dispute is open or an anchored receipt is challengeable), and the share of a
    slashed bond its challengers split, `slash_reward_bps` / 10000 (at most half: the rest is
    burned, so an operator who files against itself still loses half)."""

    min_bond: int = 100 * TOKEN_UNIT
    unbonding_delay_s: int = 7 * 24 * 3600
    slash_reward_bps: int = 5000


@dataclass(frozen=True)
class DisputeParams:
    """Economic parameters of the disputes contract, fixed at deployment.

    A challenger risks `challenger_bond` on each claim; receipts stay challengeable for
    `challenge_window_s` after their operator anchored them (the registry holds the bond until the
    last such window is over and no dispute is open); an omission claim waits `response_window_s`
    for a rebuttal; a snapshot counts as stale `stale_grace_s` after a newer one was registered.
    Challengers who win against a slashed operator within `response_window_s` of the slash share
    its reward. The treasury (the deployer when None) keeps `treasury_bps` / 10000 of a losing
    challenger's bond. Each move of an embedding game must come within `response_window_s` of the
    previous one. The embedding game's one-step checker is built for one architecture:
    `layers`, `hidden`, `heads`, `intermediate` (all-MiniLM-L6-v2's by default).
    """

    challenger_bond: int = 10 * TOKEN_UNIT
    challenge_window_s: int = 7 * 24 * 3600
    response_window_s: int = 24 * 3600
    stale_grace_s: int = 600
    treasury: str | None = None
    treasury_bps: int = 1000
    layers: int = 6
    hidden: int = 384
    heads: int = 12
    intermediate: int = 1536


DEV_STABLE_NAME = "Aigora Dev Stable"
DEV_STABLE_SYMBOL = "DUSD"
VAULT_NAME = "Aigora Dev Vault"
VAULT_SYMBOL = "vAIGD"
POOL_FEE_BPS = 30
POOL_LIQUIDITY = 100_000 * TOKEN_UNIT
"""What the deployer puts in a dev chain's pool, of each token (freshly minted: the price starts
at one for one)."""
MARKET_NAMES = ("Stable", "Pool", "Vault")
"""The markets' names in `Deployment.addresses()` and the deployments table."""
DEPLOYED_AS = {"Stable": "Token"}
"""The contract (source) each deployment name is an instance of, where the two differ."""


@dataclass(frozen=True)
class Markets:
    """A dev chain's markets, where agents swap and stake: `stable`, a second dev token (a
    `Token`, minted by the deployer); `pool`, a constant-product `Pool` of the payment token and
    `stable`; and `vault`, an ERC-4626 `Vault` over the payment token. Never on a network: a
    network's markets are whatever real contracts its members choose to trust."""

    stable: Contract
    pool: Contract
    vault: Contract

    def addresses(self) -> dict[str, str]:
        return {
            "Stable": self.stable.address,
            "Pool": self.pool.address,
            "Vault": self.vault.address,
        }


@dataclass(frozen=True)
class Deployment:
    """Handles on the foundation contracts; `transactions` holds the deployments made this time
    (an existing token named by configuration has none). `markets` is None except on a dev
    chain running our dev token."""

    token: Contract
    registry: Contract
    transactions: dict[str, TxResult] = field(default_factory=dict)
    disputes: Contract | None = None
    distributor: Contract | None = None
    bounties: Contract | None = None
    channels: Contract | None = None
    governor: Contract | None = None
    markets: Markets | None = None

    def addresses(self) -> dict[str, str]:
        found = {"Token": self.token.address, "Registry": self.registry.address}
        if self.disputes is not None:
            found["Disputes"] = self.disputes.address
        if self.distributor is not None:
            found["Distributor"] = self.distributor.address
        if self.bounties is not None:
            found["Bounties"] = self.bounties.address
        if self.channels is not None:
            found["Channels"] = self.channels.address
        if self.governor is not None:
            found["Governor"] = self.governor.address
        if self.markets is not None:
            found |= self.markets.addresses()
        return found


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
        deployer,
        "Registry",
        token.address,
        params.min_bond,
        params.unbonding_delay_s,
        params.slash_reward_bps,
    )
    return Deployment(token=token, registry=registry, transactions=transactions)


def deploy_disputes(
    chain: Chain,
    deployer: TxSigner,
    token_address: str,
    registry_address: str,
    params: DisputeParams = DisputeParams(),
) -> tuple[Contract, TxResult]:
    """Deploy the one-step checker and the disputes contract, and name the latter the registry's
    slasher (a one-time act of the registry's owner, who must be `deployer`). Returns the handle
    and the deployment transaction."""
    checker, _ = chain.deploy(
        deployer, "StepVerifier", params.layers, params.hidden, params.heads, params.intermediate
    )
    disputes, result = chain.deploy(
        deployer,
        "Disputes",
        token_address,
        registry_address,
        params.challenger_bond,
        params.challenge_window_s,
        params.response_window_s,
        params.stale_grace_s,
        params.treasury or deployer.address,
        params.treasury_bps,
        checker.address,
    )
    registry = chain.contract("Registry", registry_address)
    chain.transact(deployer, registry.functions.set_slasher(disputes.address))
    return disputes, result


def deploy_distributor(
    chain: Chain, deployer: TxSigner, token_address: str
) -> tuple[Contract, TxResult]:
    """Deploy the payout distributor a network shares: any address posts (and funds) epoch roots
    of its own tree."""
    return chain.deploy(deployer, "Distributor", token_address)


def deploy_bounties(
    chain: Chain, deployer: TxSigner, token_address: str, release_grace_s: int = 7 * 24 * 3600
) -> tuple[Contract, TxResult]:
    """Deploy the labeling escrow: a job's operator may release until its requester refunds,
    which the requester may only `release_grace_s` after the job ends (epochs close after work
    is accepted)."""
    return chain.deploy(deployer, "Bounties", token_address, release_grace_s)


WITHDRAW_DELAY_S = 24 * 3600
"""The default delay between an asker's withdrawal request and its withdrawal: the time an
operator has to redeem the vouchers it holds (a node redeems at once when it sees a request)."""


def deploy_channels(
    chain: Chain, deployer: TxSigner, token_address: str, withdraw_delay_s: int = WITHDRAW_DELAY_S
) -> tuple[Contract, TxResult]:
    """Deploy the ask channels a network shares: every asker's deposit with every operator,
    spent by signed vouchers, withdrawable `withdraw_delay_s` after a request."""
    return chain.deploy(deployer, "Channels", token_address, withdraw_delay_s)


@dataclass(frozen=True)
class GovernorParams:
    """How a network's community changes its policy, fixed at deployment: a proposal is open
    for votes `voting_period_s`, passes with more power for than against and at least
    `quorum_bps` / 10000 of all standing voting for or abstaining, and takes effect no sooner
    than `timelock_s` after its vote ends (time for every node, and anyone who objects, to see
    it coming). Proposing takes `threshold_bps` / 10000 of all standing."""

    voting_period_s: int = 3 * 24 * 3600
    timelock_s: int = 2 * 24 * 3600
    quorum_bps: int = 4000
    threshold_bps: int = 100


def deploy_governor(
    chain: Chain,
    deployer: TxSigner,
    *,
    document: bytes,
    standing_root: bytes,
    standing_total: int,
    params: GovernorParams = GovernorParams(),
) -> tuple[Contract, TxResult]:
    """Deploy the governor with its genesis policy (its canonical document and the standing
    table's root and total) in force from the deployment block."""
    return chain.deploy(
        deployer,
        "Governor",
        document,
        standing_root,
        standing_total,
        params.voting_period_s,
        params.timelock_s,
        params.quorum_bps,
        params.threshold_bps,
    )


def deploy_markets(
    chain: Chain,
    deployer: TxSigner,
    token: Contract,
    *,
    liquidity: int = POOL_LIQUIDITY,
    fee_bps: int = POOL_FEE_BPS,
) -> tuple[Markets, dict[str, TxResult]]:
    """Deploy a dev chain's markets beside the dev token `token` (whose minter `deployer` must
    be): the second token, the pool, seeded with `liquidity` of each token minted to the deployer
    (whose pool shares they become), and the vault. Returns the handles and the three
    deployment transactions by name."""
    stable, stable_tx = chain.deploy(deployer, "Token", DEV_STABLE_NAME, DEV_STABLE_SYMBOL)
    pool, pool_tx = chain.deploy(deployer, "Pool", token.address, stable.address, fee_bps)
    for seeded in (token, stable):
        chain.transact(deployer, seeded.functions.mint(deployer.address, liquidity))
        chain.transact(deployer, seeded.functions.approve(pool.address, liquidity))
    chain.transact(deployer, pool.functions.add_liquidity(liquidity, liquidity, 0))
    vault, vault_tx = chain.deploy(deployer, "Vault", token.address, VAULT_NAME, VAULT_SYMBOL)
    markets = Markets(stable=stable, pool=pool, vault=vault)
    return markets, {"Stable": stable_tx, "Pool": pool_tx, "Vault": vault_tx}


def attach_foundation(chain: Chain, addresses: dict[str, str]) -> Deployment:
    """Handles on contracts deployed earlier, by the addresses recorded then."""
    disputes = addresses.get("Disputes")
    distributor = addresses.get("Distributor")
    bounties = addresses.get("Bounties")
    channels = addresses.get("Channels")
    governor = addresses.get("Governor")
    markets = (
        Markets(
            stable=chain.contract(DEPLOYED_AS["Stable"], addresses["Stable"]),
            pool=chain.contract("Pool", addresses["Pool"]),
            vault=chain.contract("Vault", addresses["Vault"]),
        )
        if set(MARKET_NAMES) <= addresses.keys()
        else None
    )
    return Deployment(
        token=chain.contract("Token", addresses["Token"]),
        registry=chain.contract("Registry", addresses["Registry"]),
        disputes=chain.contract("Disputes", disputes) if disputes else None,
        distributor=chain.contract("Distributor", distributor) if distributor else None,
        bounties=chain.contract("Bounties", bounties) if bounties else None,
        channels=chain.contract("Channels", channels) if channels else None,
        governor=chain.contract("Governor", governor) if governor else None,
        markets=markets,
    )


def source_hash(name: str) -> str:
    """The 0x-hex SHA-256 naming what the deployment `name` (a contract's name, or a name of
    `DEPLOYED_AS`) was built from: the compiler version and the source of the contract and of
    every module it imports (`compile.source_hash`)."""
    return "0x" + compile_contract(DEPLOYED_AS.get(name, name)).source_hash
