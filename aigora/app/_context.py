"""Open a node's data directory: config, keys, database, blobs, chain and contracts, in that order.

Three ways in, each giving the context the services work on:
- `open_store`: config, keys, database and blobs only (safe beside a running node: SQLite WAL).
  Enough for use cases that read or record signed data without the chain.
- `open_node`: everything, with the operator key unlocked. What `aigora up` and every command that
  spends gas calls. Idempotent: the first call creates the directory, the operator key and the
  database and deploys the contracts; later calls find them again. Contracts recorded for this
  chain are checked to still have code (a restarted anvil forgets everything), and are redeployed
  and re-recorded if not.
- `open_chain_view`: the chain and the contracts recorded for it, deploying nothing and, unless a
  signer is given, unlocking no key (verification and status need no passphrase).
"""

import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine, select
from web3.contract import Contract

from aigora.app._config import (
    WILDCARD_HOSTS,
    Config,
    database_url,
    load_config,
    write_default_config,
)
from aigora.chain import (
    DEPLOYED_AS,
    TOKEN_UNIT,
    ZERO_ADDRESS,
    Chain,
    Deployment,
    DisputeParams,
    RegistryParams,
    TxResult,
    TxSigner,
    attach_foundation,
    deploy_bounties,
    deploy_channels,
    deploy_disputes,
    deploy_distributor,
    deploy_foundation,
    deploy_markets,
    read_operator,
    source_hash,
)
from aigora.content import domain_for
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError, ChainError, ConfigError
from aigora.core.keystore import Keystore, Signer
from aigora.network import BURN_ADDRESS, CONTRACTS, NetworkFile, load_network
from aigora.store import BlobStore, NodeSetting, make_engine, migrate, session_scope
from aigora.store import Deployment as DeploymentRow
from aigora.verify import runs_contract

DEV_ETHER = 100 * 10**18
NETWORK_FILE = "network.json"
"""A data directory's network file when `[network] file` is unset (`aigora up --network`)."""
CHAIN_ID_SETTING = "chain_id"
NODE_FILE = "node.json"
"""Written by a running node into its data directory: where it serves (URL) and its PID."""
OPERATOR_TOKEN_FILE = "node.token"
"""Written by a running node beside `node.json`, readable by its owner alone: a random bearer
token that proves a request comes from the operator (whoever can read the data directory)."""
OPERATOR_TOKEN_BYTES = 32


class NodeNotStarted(AigoraError):
    """The data directory has no chain or contracts recorded yet."""


class NoNode(AigoraError):
    """There is no node data directory where one was named."""


class NeedsOperatorKey(AigoraError):
    """A use case that signs with the operator's key ran on a context opened without it."""


DEV_TOKENS = 1_000_000 * TOKEN_UNIT


@dataclass
class StoreContext:
    """A node's data directory without its chain: config, keys, database and blobs."""

    data_dir: Path
    config: Config
    keystore: Keystore
    db: Engine
    blobs: BlobStore

    @property
    def domain(self) -> Domain:
        """The EIP-712 domain of the chain and registry the node last ran on (from the store)."""
        return signing_domain(self.db)

    @cached_property
    def network(self) -> NetworkFile | None:
        """The network this node has joined (its network file, read once per opened context, as
        the config is), or None on its own contracts."""
        return network_of(self.config, self.data_dir)

    def operator_address(self) -> str | None:
        """The operator key's address, read from its keystore (no passphrase needed)."""
        name = self.config.node.operator_key
        return next((k.address for k in self.keystore.list() if k.name == name), None)

    def close(self) -> None:
        self.db.dispose()


@dataclass
class NodeContext(StoreContext):
    """Everything a running node holds open. Close it to flush the chain and release the lock.
    `signer` is the unlocked operator key; None on a read-only view (`open_chain_view`)."""

    chain: Chain
    deployment: Deployment
    signer: Signer | None

    @property
    def operator(self) -> Signer:
        if self.signer is None:
            raise NeedsOperatorKey("this needs the operator's key; open the node with it")
        return self.signer

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


def node_url(host: str, port: int) -> str:
    """Where this machine reaches a node listening on `host`: a node on every interface
    (`0.0.0.0`, `::`) is reached on loopback."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def running_node_url(data_dir: Path) -> str | None:
    """The URL of the node serving `data_dir`, if one is running (its `node.json` names a live
    process)."""
    try:
        info = json.loads((data_dir / NODE_FILE).read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(info["url"])


def ensure_operator_token(data_dir: Path) -> str:
    """The operator's credential for the node in `data_dir`: `node.token`, made at the first
    start (random, 256 bits) and kept, so the CLI, scripts and a signed-in browser stay signed
    in across restarts; delete it and restart to rotate it. It is written with mode 0600 from
    the start (never world-readable, not even briefly) and renamed into place; a kept file that
    others could read is narrowed back to 0600."""
    path = data_dir / OPERATOR_TOKEN_FILE
    kept = operator_token(data_dir)
    if kept is not None and len(kept) >= OPERATOR_TOKEN_BYTES:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return kept
    token = secrets.token_urlsafe(OPERATOR_TOKEN_BYTES)
    partial = path.with_name(f".{OPERATOR_TOKEN_FILE}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, token.encode("ascii"))
    finally:
        os.close(fd)
    os.replace(partial, path)
    return token


def operator_token(data_dir: Path) -> str | None:
    """The node's operator credential, for the CLI to send; None when unreadable."""
    try:
        token = (data_dir / OPERATOR_TOKEN_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def open_store(data_dir: Path) -> StoreContext:
    """The data directory's store, beside a running node or not; it must exist already."""
    if not data_dir.is_dir():
        raise NoNode(f"no node in {data_dir}; start one with `aigora up`")
    config = load_config(data_dir)
    db = make_engine(database_url(config, data_dir))
    migrate(db)
    return StoreContext(data_dir, config, keystore_for(data_dir), db, BlobStore(data_dir / "blobs"))


def open_chain_view(data_dir: Path, signer: Signer | None = None) -> NodeContext:
    """The chain and the contracts recorded for it, deploying nothing. Raises `DataDirInUse`
    while a node holds the embedded chain, `NodeNotStarted` before the first `aigora up`."""
    store = open_store(data_dir)
    try:
        network = store.network
        chain = Chain.open(
            chain_url(store.config, network), data_dir, max_range=store.config.chain.max_log_range
        )
    except BaseException:
        store.close()
        raise
    try:
        addresses = recorded_addresses(store.db, chain.chain_id)
        if store.config.chain.token is not None:
            addresses["Token"] = store.config.chain.token
        if not {"Token", "Registry"} <= addresses.keys():
            raise NodeNotStarted("no registry on this chain yet: run `aigora up` once")
        deployment = attach_foundation(chain, addresses)
        note_deployments(chain, store.db)
    except BaseException:
        chain.close()
        store.close()
        raise
    return NodeContext(
        data_dir=data_dir,
        config=store.config,
        keystore=store.keystore,
        db=store.db,
        blobs=store.blobs,
        chain=chain,
        deployment=deployment,
        signer=signer,
    )


def open_node(data_dir: Path, passphrase: str, port: int | None = None) -> NodeContext:
    """Open (on first use: create) the node in `data_dir`; `passphrase` unlocks the operator key.
    In a network (`[network]`), deploy nothing: check the network's contracts, record them and
    register as an operator with the node's public URL (`port`: where it will serve)."""
    config = prepare_data_dir(data_dir)
    network = network_of(config, data_dir)
    keystore = keystore_for(data_dir)
    key_name = config.node.operator_key
    if not keystore.exists(key_name):
        keystore.create(key_name, passphrase)
    operator = keystore.unlock(key_name, passphrase)
    db = make_engine(database_url(config, data_dir))
    migrate(db)
    try:
        chain = Chain.open(
            chain_url(config, network), data_dir, max_range=config.chain.max_log_range
        )
    except BaseException:
        db.dispose()
        raise
    try:
        if network is not None:
            deployment = _join(chain, db, network)
            endpoint = public_url(config, port)
            _ensure_registered(chain, deployment, operator, config, endpoint, network)
        else:
            deployment = _ensure_deployed(chain, db, operator, config)
            if chain.is_dev_chain:
                endpoint = node_url(config.node.host, port or config.node.port)
                _ensure_registered(chain, deployment, operator, config, endpoint, None)
        _remember_chain(db, chain.chain_id)
        note_deployments(chain, db)
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
        signer=operator,
    )


def _remember_chain(db: Engine, chain_id: int) -> None:
    """Record which chain the node last ran on, so offline commands can sign for its domain."""
    with session_scope(db) as session:
        session.merge(NodeSetting(key=CHAIN_ID_SETTING, value=str(chain_id)))


def signing_domain(db: Engine) -> Domain:
    """The EIP-712 domain of the chain and registry the node last ran on, read from the store."""
    with session_scope(db) as session:
        setting = session.get(NodeSetting, CHAIN_ID_SETTING)
    if setting is None:
        raise NodeNotStarted("this node has never started: run `aigora up` once first")
    chain_id = int(setting.value)
    registry = recorded_addresses(db, chain_id).get("Registry")
    if registry is None:
        raise NodeNotStarted(f"no registry recorded for chain {chain_id}: run `aigora up`")
    return domain_for(chain_id, registry)


def recorded_addresses(db: Engine, chain_id: int) -> dict[str, str]:
    with session_scope(db) as session:
        rows = session.scalars(select(DeploymentRow).where(DeploymentRow.chain_id == chain_id))
        return {row.name: row.address for row in rows}


def note_deployments(chain: Chain, db: Engine) -> None:
    """Tell `chain` the block each recorded contract was deployed in: scans of their event
    history start there (in bounded ranges), not at genesis."""
    with session_scope(db) as session:
        rows = session.scalars(
            select(DeploymentRow).where(DeploymentRow.chain_id == chain.chain_id)
        )
        for row in rows:
            chain.note_deployment(row.address, row.block_number)


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
        if deployment.channels is None:
            deployment = _add_channels(chain, db, operator, deployment, config)
        if deployment.markets is None and _runs_dev_token(chain, config):
            deployment = _add_markets(chain, db, operator, deployment)
        return deployment
    if chain.is_dev_chain:
        fund_from_faucet(chain, operator)
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
    deployment = _add_bounties(chain, db, operator, deployment)
    deployment = _add_channels(chain, db, operator, deployment, config)
    if _runs_dev_token(chain, config):
        deployment = _add_markets(chain, db, operator, deployment)
    return deployment


def _add_disputes(chain: Chain, db: Engine, operator: Signer, deployment: Deployment) -> Deployment:
    """Deploy the disputes contract and make it the registry's slasher. A registry whose slasher
    is already someone else (or that this operator does not own) is left alone: disputes then
    cannot be filed through this node."""
    registry = deployment.registry
    if chain.call(registry.functions.slasher()) != ZERO_ADDRESS:
        return deployment
    if chain.call(registry.functions.owner()) != operator.address:
        return deployment
    # The burned share of a dispute's stake must not go to the deployer (here the operator
    # itself), or a slashed operator would get part of its own bond back.
    params = DisputeParams(treasury=BURN_ADDRESS)
    disputes, tx = deploy_disputes(
        chain, operator, deployment.token.address, registry.address, params
    )
    return _added(db, chain, deployment, "Disputes", disputes, tx)


def _add_distributor(
    chain: Chain, db: Engine, operator: Signer, deployment: Deployment
) -> Deployment:
    """Deploy the payout distributor; this node's operator posts its epochs there as one poster
    among any others."""
    distributor, tx = deploy_distributor(chain, operator, deployment.token.address)
    return _added(db, chain, deployment, "Distributor", distributor, tx)


def _add_bounties(chain: Chain, db: Engine, operator: Signer, deployment: Deployment) -> Deployment:
    """Deploy the labeling escrow (any requester may open jobs that this node releases)."""
    bounties, tx = deploy_bounties(chain, operator, deployment.token.address)
    return _added(db, chain, deployment, "Bounties", bounties, tx)


def _add_channels(
    chain: Chain, db: Engine, operator: Signer, deployment: Deployment, config: Config
) -> Deployment:
    """Deploy the ask channels (askers' deposits, spent by signed vouchers), with the configured
    withdrawal delay."""
    channels, tx = deploy_channels(
        chain, operator, deployment.token.address, config.chain.withdraw_delay_s
    )
    return _added(db, chain, deployment, "Channels", channels, tx)


def _check_markets(chain: Chain, deployment: Deployment) -> None:
    """A network's markets run our code, and trade and hold the network's token."""
    markets = deployment.markets
    assert markets is not None
    for name, contract in (
        ("Stable", markets.stable),
        ("Pool", markets.pool),
        ("Vault", markets.vault),
    ):
        if not runs_contract(chain.code(contract.address), DEPLOYED_AS.get(name, name)):
            raise WrongNetwork(
                f"the network's {name} {contract.address} is not our {name} contract"
            )
    token = deployment.token.address
    pair = {
        chain.call(markets.pool.functions.token0()),
        chain.call(markets.pool.functions.token1()),
    }
    if pair != {token, markets.stable.address}:
        raise WrongNetwork("the network's Pool does not trade its Token for its Stable")
    if chain.call(markets.vault.functions.asset()) != token:
        raise WrongNetwork("the network's Vault does not hold its Token")


def _runs_dev_token(chain: Chain, config: Config) -> bool:
    """Whether this node runs on a dev chain with our dev token (no `[chain] token`): only there
    are markets deployed, seeded with tokens the operator mints."""
    return chain.is_dev_chain and config.chain.token is None


def _add_markets(chain: Chain, db: Engine, operator: Signer, deployment: Deployment) -> Deployment:
    """Deploy the dev chain's second token, pool (with liquidity) and vault, for agents to swap
    and stake in. A dev token this operator cannot mint (another key deployed it) gets none."""
    if chain.call(deployment.token.functions.minter()) != operator.address:
        return deployment
    markets, transactions = deploy_markets(chain, operator, deployment.token)
    return _extended(db, chain, replace(deployment, markets=markets), deployment, transactions)


def _added(
    db: Engine, chain: Chain, deployment: Deployment, name: str, contract: Contract, tx: TxResult
) -> Deployment:
    """`deployment` with the contract just deployed as `name`, recorded (only that row)."""
    return _extended(
        db, chain, replace(deployment, **{name.lower(): contract}), deployment, {name: tx}
    )


def _extended(
    db: Engine,
    chain: Chain,
    extended: Deployment,
    deployment: Deployment,
    transactions: dict[str, TxResult],
) -> Deployment:
    """`extended` (`deployment` with contracts added), recording only the rows of the contracts
    just deployed (`transactions`), and holding every transaction made this time."""
    _record(db, chain, replace(extended, transactions=transactions))
    return replace(extended, transactions={**deployment.transactions, **transactions})


def _ensure_registered(
    chain: Chain,
    deployment: Deployment,
    operator: Signer,
    config: Config,
    endpoint: str,
    network: NetworkFile | None,
) -> None:
    """Bond the node as an operator with `endpoint` as its URL, or update the URL if it moved.
    On a dev chain the node funds itself first (from a genesis account, and from the dev token's
    minter when that is a genesis account too); elsewhere the operator must hold the bond."""
    registry, token = deployment.registry, deployment.token
    record = read_operator(chain, registry, operator.address)
    if record.registered:
        if record.endpoint != endpoint and not record.slashed:
            chain.transact(operator, registry.functions.set_endpoint(endpoint))
        return
    bond = int(network.params.min_bond) if network is not None else config.chain.min_bond
    if chain.is_dev_chain:
        fund_from_faucet(chain, operator)
        _mint_dev_tokens(chain, token, operator.address, bond)
    balance = chain.call(token.functions.balanceOf(operator.address))
    if balance < bond:
        raise ChainError(
            f"the operator {operator.address} holds {balance} of the token {token.address}; "
            f"joining needs a bond of {bond}: send it the tokens (and ether for gas) and start "
            "again"
        )
    chain.transact(operator, token.functions.approve(registry.address, bond))
    chain.transact(operator, registry.functions.register_operator(bond, endpoint))


def _mint_dev_tokens(chain: Chain, token: Contract, account: str, amount: int) -> None:
    """On a dev chain, mint `amount` to `account` if the token's minter is a genesis account
    (a devnet's dev token); a real token is left alone."""
    if chain.call(token.functions.balanceOf(account)) >= amount:
        return
    try:
        minter = chain.call(token.functions.minter())
    except ChainError:
        return
    for signer in chain.dev_signers():
        if signer.address == minter:
            chain.transact(signer, token.functions.mint(account, DEV_TOKENS))
            return


def network_of(config: Config, data_dir: Path) -> NetworkFile | None:
    """The network file this node follows: `[network] file`, else `network.json` in the data
    directory if present, else None (the node runs its own contracts)."""
    if config.network.file:
        path = Path(config.network.file).expanduser()
        return load_network(path if path.is_absolute() else data_dir / path)
    default = data_dir / NETWORK_FILE
    return load_network(default) if default.is_file() else None


def chain_url(config: Config, network: NetworkFile | None) -> str:
    """`[chain] url`, else (in a network) the network file's RPC hint."""
    if network is None or config.chain.url != "embedded":
        return config.chain.url
    if network.rpc is None:
        raise ConfigError(
            f"the network {network.name!r} names no JSON-RPC URL: set [chain] url in config.toml"
        )
    return network.rpc


def public_url(config: Config, port: int | None = None) -> str:
    """The URL this node registers for its peers: `[network] public_url`, else host and port
    (a node on every interface must say which URL the world reaches it at)."""
    if config.network.public_url is None and config.node.host in WILDCARD_HOSTS:
        raise ConfigError(
            f"[node] host is {config.node.host}: set [network] public_url to the URL peers "
            "reach this node at"
        )
    return config.network.public_url or node_url(config.node.host, port or config.node.port)


class WrongNetwork(ConfigError):
    """The network file does not describe the contracts on this chain."""


def _join(chain: Chain, db: Engine, network: NetworkFile) -> Deployment:
    """Check that the chain is the network's and runs our contracts at its addresses, with
    the network's disputes contract as the registry's slasher, then record them for this chain
    (replacing any contracts this data directory deployed there before). Deploys nothing."""
    if chain.chain_id != network.chain_id:
        raise WrongNetwork(
            f"the network {network.name!r} is on chain {network.chain_id}; {chain.url} is "
            f"chain {chain.chain_id}"
        )
    for name in CONTRACTS:
        address = network.contracts[name].address
        code = chain.code(address)
        if not code:
            raise WrongNetwork(f"the network's {name} {address} has no code on {chain.url}")
        if name != "Token" and not runs_contract(code, name):
            raise WrongNetwork(f"the network's {name} {address} is not our {name} contract")
    deployment = attach_foundation(chain, network.addresses())
    slasher = chain.call(deployment.registry.functions.slasher())
    if slasher != deployment.disputes.address:
        raise WrongNetwork(f"the registry's slasher is {slasher}, not the network's Disputes")
    if chain.call(deployment.disputes.functions.registry()) != deployment.registry.address:
        raise WrongNetwork("the network's Disputes judges another registry")
    token = deployment.token.address
    for name in ("Registry", "Disputes", "Distributor", "Bounties", "Channels"):
        contract = getattr(deployment, name.lower())
        paid_in = chain.call(contract.functions.token())
        if paid_in != token:
            raise WrongNetwork(f"the network's {name} pays in {paid_in}, not its Token {token}")
    if deployment.markets is not None:
        _check_markets(chain, deployment)
    now = datetime.now(UTC)
    with session_scope(db) as session:
        for row in session.scalars(
            select(DeploymentRow).where(DeploymentRow.chain_id == chain.chain_id)
        ):
            session.delete(row)
        session.flush()
        for name, entry in network.contracts.items():
            session.add(
                DeploymentRow(
                    chain_id=chain.chain_id,
                    name=name,
                    address=entry.address,
                    source_hash=source_hash(name),
                    tx_hash=entry.tx_hash,
                    block_number=entry.block,
                    deployed_at=now,
                )
            )
    return deployment


def fund_from_faucet(chain: Chain, account: TxSigner) -> None:
    if chain.balance(account.address) < DEV_ETHER // 2:
        chain.send_ether(chain.dev_signers()[0], account.address, DEV_ETHER)


def _record(db: Engine, chain: Chain, deployment: Deployment) -> None:
    """Replace this chain's records with the contracts just deployed, in one transaction."""
    now = datetime.now(UTC)
    with session_scope(db) as session:
        for name, tx in deployment.transactions.items():
            row = session.scalar(
                select(DeploymentRow).where(
                    DeploymentRow.chain_id == chain.chain_id, DeploymentRow.name == name
                )
            ) or DeploymentRow(chain_id=chain.chain_id, name=name)
            row.address = deployment.addresses()[name]
            row.source_hash = source_hash(name)
            row.tx_hash = tx.tx_hash
            row.block_number = tx.block_number
            row.deployed_at = now
            session.add(row)
