"""Deploy a network's contracts once, and describe them in a network file."""

from dataclasses import dataclass, field

from aigora.chain import (
    WITHDRAW_DELAY_S,
    Chain,
    DisputeParams,
    GovernorParams,
    RegistryParams,
    TxSigner,
    deploy_bounties,
    deploy_channels,
    deploy_disputes,
    deploy_distributor,
    deploy_foundation,
    deploy_governor,
    deploy_markets,
)
from aigora.governance import genesis_policy, standing_tree
from aigora.network._file import (
    ContractEntry,
    NetworkFile,
    NetworkParams,
    NetworkReputation,
)

BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"
"""The treasury of a network's disputes contract: a losing challenger's cut is burned, so no
deployer or operator profits from disputes it provokes."""


@dataclass(frozen=True)
class NetworkPlan:
    """What to deploy: a name, the economic parameters, the reputation seeds (default: the
    deployer), an existing ERC-20 to pay in (default: a dev token) and the ask channels'
    withdrawal delay (how long an operator has to redeem once an asker asks for its deposit
    back)."""

    name: str
    registry: RegistryParams = field(default_factory=RegistryParams)
    disputes: DisputeParams = field(default_factory=lambda: DisputeParams(treasury=BURN_ADDRESS))
    seeds: tuple[str, ...] = ()
    damping: float = 0.3
    token: str | None = None
    rpc: str | None = None
    withdraw_delay_s: int = WITHDRAW_DELAY_S
    governor: GovernorParams = field(default_factory=GovernorParams)


def deploy_network(chain: Chain, deployer: TxSigner, plan: NetworkPlan) -> NetworkFile:
    """Deploy Token (unless given), Registry, Disputes (the registry's slasher), the shared
    Distributor, Bounties, Channels and the Governor (with the genesis policy: the seeds with
    equal standing, everything else at its default), and on a dev chain with the dev token its
    markets (`deploy_markets`), and return the network file that describes them."""
    start = chain.block_number() + 1
    foundation = deploy_foundation(chain, deployer, plan.registry, token_address=plan.token)
    disputes, disputes_tx = deploy_disputes(
        chain, deployer, foundation.token.address, foundation.registry.address, plan.disputes
    )
    distributor, distributor_tx = deploy_distributor(chain, deployer, foundation.token.address)
    bounties, bounties_tx = deploy_bounties(chain, deployer, foundation.token.address)
    channels, channels_tx = deploy_channels(
        chain, deployer, foundation.token.address, plan.withdraw_delay_s
    )
    seeds = tuple(plan.seeds or (deployer.address,))
    genesis = genesis_policy(seeds, plan.damping)
    table = genesis.standing.table()
    governor, governor_tx = deploy_governor(
        chain,
        deployer,
        document=genesis.document(),
        standing_root=standing_tree(table).root,
        standing_total=sum(table.values()),
        params=plan.governor,
    )
    transactions = {
        **foundation.transactions,
        "Disputes": disputes_tx,
        "Distributor": distributor_tx,
        "Bounties": bounties_tx,
        "Channels": channels_tx,
        "Governor": governor_tx,
    }
    addresses = {
        **foundation.addresses(),
        "Disputes": disputes.address,
        "Distributor": distributor.address,
        "Bounties": bounties.address,
        "Channels": channels.address,
        "Governor": governor.address,
    }
    if chain.is_dev_chain and plan.token is None:
        # a dev network's markets, for agents to swap and stake in with the dev token
        markets, market_transactions = deploy_markets(chain, deployer, foundation.token)
        transactions.update(market_transactions)
        addresses.update(markets.addresses())
    contracts = {}
    for name, address in addresses.items():
        tx = transactions.get(name)
        if tx is None:  # an existing token: no deployment of ours to name
            contracts[name] = ContractEntry(address=address, block=0, tx_hash="0x" + "00" * 32)
        else:
            contracts[name] = ContractEntry(
                address=address, block=tx.block_number, tx_hash=tx.tx_hash
            )
    return NetworkFile(
        name=plan.name,
        chain_id=chain.chain_id,
        rpc=plan.rpc,
        deployment_block=start,
        contracts=contracts,
        params=NetworkParams(
            min_bond=str(plan.registry.min_bond),
            unbonding_delay_s=plan.registry.unbonding_delay_s,
            slash_reward_bps=plan.registry.slash_reward_bps,
            challenger_bond=str(plan.disputes.challenger_bond),
            challenge_window_s=plan.disputes.challenge_window_s,
            response_window_s=plan.disputes.response_window_s,
            voting_period_s=plan.governor.voting_period_s,
            timelock_s=plan.governor.timelock_s,
            quorum_bps=plan.governor.quorum_bps,
            threshold_bps=plan.governor.threshold_bps,
        ),
        reputation=NetworkReputation(seeds=list(seeds), damping=plan.damping),
    )
