"""Open a node's data directory: config, keys, database, blobs, chain and contracts, in that order.

`open_node` is what `aigora up` and every CLI command that touches state call. It is idempotent: the
first call creates the directory, the operator key and the database and deploys the contracts; later
calls find them again. Contracts recorded for this chain are checked to still have code (a restarted
anvil forgets everything), and are redeployed and re-recorded if not.
"""

import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from aigora.chain import Chain
from aigora.chain.client import TxSigner
from aigora.chain.deploy import (
    TOKEN_UNIT,
    Deployment,
    DisputeParams,
    RegistryParams,
    attach_foundation,
    deploy_bounties,
    deploy_disputes,
    deploy_distributor,
    deploy_foundation,
    source_hash,
)
from aigora.content.signed import domain_for
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError, ChainError
from aigora.core.keystore import Keystore, Signer
from aigora.node.config import Config, database_url, load_config, write_default_config
from aigora.store import models
from aigora.store.blobs import BlobStore
from aigora.store.db import make_engine, migrate, session_scope

DEV_ETHER = 100 * 10**18
ZERO_ADDRESS = "0x" + "00" * 20
BURN_ADDRESS = "0x000000000000000000000000000000000000dEaD"
"""Where the burned share of a dispute's stake goes: the deployer (here the operator itself)
must not be the treasury, or a slashed operator would get part of its own bond back."""
CHAIN_ID_SETTING = "chain_id"


class NodeNotStarted(AigoraError):
    """The data directory has no chain or contracts recorded yet."""


DEV_TOKENS = 1_000_000 * TOKEN_UNIT


@dataclass
class NodeContext:
    """Everything a running node holds open. Close it to flush the chain and release the lock."""

    data_dir: Path
    config: Config
    keystore: Keystore
    db: Engine
    blobs: BlobStore
    chain: Chain
    deployment: Deployment
    operator: Signer

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain of everything signed for this node's chain and registry."""
        return domain_for(self.chain.chain_id, self.deployment.registry.address)

    def close(self) -> None:
        self.chain.close()
        self.db.dispose()


def prepare_data_dir(data_dir: Path) -> Config:
    """Create the directory (owner-only) with a default config, and read the config."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    write_default_config(data_dir)
    return load_config(data_dir)


def keystore_for(data_dir: Path) -> Keystore:
    return Keystore(data_dir / "keys")


def open_node(data_dir: Path, passphrase: str) -> NodeContext:
    """Open (on first use: create) the node in `data_dir`; `passphrase` unlocks the operator key."""
    config = prepare_data_dir(data_dir)
    keystore = keystore_for(data_dir)
    key_name = config.node.operator_key
    if not keystore.exists(key_name):
        keystore.create(key_name, passphrase)
    operator = keystore.unlock(key_name, passphrase)
    db = make_engine(database_url(config, data_dir))
    migrate(db)
    chain = Chain.open(config.chain.url, data_dir)
    try:
        deployment = _ensure_deployed(chain, db, operator, config)
        if chain.is_dev_chain:
            _ensure_registered(chain, deployment, operator, config)
        _remember_chain(db, chain.chain_id)
    except BaseException:
        chain.close()
        db.dispose()
        raise
    return NodeContext(
        data_dir=data_dir,
        config=config,
        keystore=keystore,
        db=db,
        blobs=BlobStore(data_dir / "blobs"),
        chain=chain,
        deployment=deployment,
        operator=operator,
    )


def _remember_chain(db: Engine, chain_id: int) -> None:
    """Record which chain the node last ran on, so offline commands can sign for its domain."""
    with session_scope(db) as session:
        session.merge(models.NodeSetting(key=CHAIN_ID_SETTING, value=str(chain_id)))


def signing_domain(db: Engine) -> Domain:
    """The EIP-712 domain of the chain and registry the node last ran on, read from the store."""
    with session_scope(db) as session:
        setting = session.get(models.NodeSetting, CHAIN_ID_SETTING)
    if setting is None:
        raise NodeNotStarted("this node has never started: run `aigora up` once first")
    chain_id = int(setting.value)
    registry = recorded_addresses(db, chain_id).get("Registry")
    if registry is None:
        raise NodeNotStarted(f"no registry recorded for chain {chain_id}: run `aigora up`")
    return domain_for(chain_id, registry)


def recorded_addresses(db: Engine, chain_id: int) -> dict[str, str]:
    with session_scope(db) as session:
        rows = session.scalars(
            select(models.Deployment).where(models.Deployment.chain_id == chain_id)
        )
        return {row.name: row.address for row in rows}


def _ensure_deployed(chain: Chain, db: Engine, operator: Signer, config: Config) -> Deployment:
    addresses = recorded_addresses(db, chain.chain_id)
    if config.chain.token is not None:
        addresses["Token"] = config.chain.token
    if {"Token", "Registry"} <= addresses.keys() and all(
        chain.has_code(address) for address in addresses.values()
    ):
        deployment = attach_foundation(chain, addresses)
        if deployment.disputes is None:
            deployment = _add_disputes(chain, db, operator, deployment)
        if deployment.distributor is None:
            deployment = _add_distributor(chain, db, operator, deployment)
        if deployment.bounties is None:
            deployment = _add_bounties(chain, db, operator, deployment)
        return deployment
    if chain.is_dev_chain:
        _fund_from_faucet(chain, operator)
    elif chain.balance(operator.address) == 0:
        raise ChainError(
            f"the operator {operator.address} has no ether on {chain.url} to deploy the contracts; "
            "fund it and start again"
        )
    params = RegistryParams(
        min_bond=config.chain.min_bond, unbonding_delay_s=config.chain.unbonding_delay_s
    )
    deployment = deploy_foundation(chain, operator, params, token_address=config.chain.token)
    if config.chain.token is None:
        chain.transact(operator, deployment.token.functions.mint(operator.address, DEV_TOKENS))
    _record(db, chain, deployment)
    deployment = _add_disputes(chain, db, operator, deployment)
    deployment = _add_distributor(chain, db, operator, deployment)
    return _add_bounties(chain, db, operator, deployment)


def _add_disputes(chain: Chain, db: Engine, operator: Signer, deployment: Deployment) -> Deployment:
    """Deploy the disputes contract and make it the registry's slasher. A registry whose slasher
    is already someone else (or that this operator does not own) is left alone: disputes then
    cannot be filed through this node."""
    registry = deployment.registry
    if chain.call(registry.functions.slasher()) != ZERO_ADDRESS:
        return deployment
    if chain.call(registry.functions.owner()) != operator.address:
        return deployment
    params = DisputeParams(treasury=BURN_ADDRESS)
    disputes, tx = deploy_disputes(
        chain, operator, deployment.token.address, registry.address, params
    )
    with_disputes = replace(deployment, disputes=disputes, transactions={"Disputes": tx})
    _record(db, chain, with_disputes)
    return replace(with_disputes, transactions={**deployment.transactions, "Disputes": tx})


def _add_distributor(
    chain: Chain, db: Engine, operator: Signer, deployment: Deployment
) -> Deployment:
    """Deploy the payout distributor with this node's operator as the poster of epoch roots."""
    distributor, tx = deploy_distributor(
        chain, operator, deployment.token.address, operator.address
    )
    added = replace(deployment, distributor=distributor, transactions={"Distributor": tx})
    _record(db, chain, added)
    return replace(added, transactions={**deployment.transactions, "Distributor": tx})


def _add_bounties(chain: Chain, db: Engine, operator: Signer, deployment: Deployment) -> Deployment:
    """Deploy the labeling escrow (any requester may open jobs that this node releases)."""
    bounties, tx = deploy_bounties(chain, operator, deployment.token.address)
    added = replace(deployment, bounties=bounties, transactions={"Bounties": tx})
    _record(db, chain, added)
    return replace(added, transactions={**deployment.transactions, "Bounties": tx})


def _ensure_registered(
    chain: Chain, deployment: Deployment, operator: Signer, config: Config
) -> None:
    """On a dev chain the node bonds itself as an operator at first start, so it can serve answers
    at once; on a real network bonding is the owner's explicit decision."""
    registry, token = deployment.registry, deployment.token
    if chain.call(registry.functions.operators(operator.address))[3] != 0:
        return
    bond = config.chain.min_bond
    chain.transact(operator, token.functions.approve(registry.address, bond))
    endpoint = f"http://{config.node.host}:{config.node.port}"
    chain.transact(operator, registry.functions.register_operator(bond, endpoint))


def _fund_from_faucet(chain: Chain, account: TxSigner) -> None:
    if chain.balance(account.address) < DEV_ETHER // 2:
        chain.send_ether(chain.dev_signers()[0], account.address, DEV_ETHER)


def _record(db: Engine, chain: Chain, deployment: Deployment) -> None:
    """Replace this chain's records with the contracts just deployed, in one transaction."""
    now = datetime.now(UTC)
    with session_scope(db) as session:
        for name, tx in deployment.transactions.items():
            row = session.scalar(
                select(models.Deployment).where(
                    models.Deployment.chain_id == chain.chain_id, models.Deployment.name == name
                )
            ) or models.Deployment(chain_id=chain.chain_id, name=name)
            row.address = deployment.addresses()[name]
            row.source_hash = source_hash(name)
            row.tx_hash = tx.tx_hash
            row.block_number = tx.block_number
            row.deployed_at = now
            session.add(row)
