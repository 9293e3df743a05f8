"""Opening a node: first start deploys and records, later starts find the same contracts, bad
configuration and wrong passphrases are named clearly, and a JSON-RPC chain works the same way."""

import pytest
from sqlalchemy import select

from aigora.app import load_config, node_url, open_chain_view, open_node, public_url
from aigora.chain import DEV_STABLE_SYMBOL, MARKET_NAMES, POOL_LIQUIDITY, Chain
from aigora.chain.anvil import Anvil, free_port
from aigora.core.errors import ChainUnreachable, ConfigError, WrongPassphrase
from aigora.store import models
from aigora.store.db import session_scope


def test_first_start_deploys_and_records_with_real_transactions(context):
    with session_scope(context.db) as session:
        rows = {row.name: row for row in session.scalars(select(models.Deployment))}
        assert set(rows) == {
            *("Token", "Registry", "Disputes", "Distributor", "Bounties", "Channels"),
            *("Stable", "Pool", "Vault"),  # the dev chain's markets
        }
        registry = context.deployment.registry
        assert context.chain.call(registry.functions.slasher()) == rows["Disputes"].address
        distributor = context.deployment.distributor
        assert context.chain.call(distributor.functions.token()) == rows["Token"].address
        assert context.chain.call(distributor.functions.epoch(context.operator.address)) == 0
        for name, row in rows.items():
            assert row.address == context.deployment.addresses()[name]
            receipt = context.chain.w3.eth.get_transaction_receipt(row.tx_hash)
            assert receipt["contractAddress"] == row.address
            assert row.block_number == receipt["blockNumber"]


def test_a_dev_chain_gets_markets_with_liquidity_that_a_chain_view_finds(
    tmp_path, make_node_dir, passphrase
):
    """`aigora up` on a dev chain deploys a second token, a seeded pool and a vault; the agent
    commands (`open_chain_view`) find them from the records."""
    data_dir = make_node_dir(tmp_path / "node")
    context = open_node(data_dir, passphrase)
    try:
        markets, token, chain = context.deployment.markets, context.deployment.token, context.chain
        assert markets is not None
        assert chain.call(markets.pool.functions.reserves()) == [POOL_LIQUIDITY, POOL_LIQUIDITY]
        assert chain.call(markets.pool.functions.token0()) == token.address
        assert chain.call(markets.pool.functions.token1()) == markets.stable.address
        assert chain.call(markets.vault.functions.asset()) == token.address
        assert chain.call(markets.stable.functions.symbol()) == DEV_STABLE_SYMBOL
        assert chain.call(token.functions.balanceOf(markets.pool.address)) == POOL_LIQUIDITY
        addresses = markets.addresses()
    finally:
        context.close()
    view = open_chain_view(data_dir)
    try:
        assert view.deployment.markets is not None
        assert view.deployment.markets.addresses() == addresses
    finally:
        view.close()


def test_a_node_without_markets_gets_them_at_its_next_start(tmp_path, make_node_dir, passphrase):
    """A data directory from before the markets keeps its contracts and gains the markets."""
    data_dir = make_node_dir(tmp_path / "node")
    context = open_node(data_dir, passphrase)
    before = context.deployment.addresses()
    with session_scope(context.db) as session:
        for row in session.scalars(
            select(models.Deployment).where(models.Deployment.name.in_(MARKET_NAMES))
        ):
            session.delete(row)
    context.close()
    context = open_node(data_dir, passphrase)
    try:
        after = context.deployment.addresses()
        assert {n: a for n, a in after.items() if n not in MARKET_NAMES} == {
            n: a for n, a in before.items() if n not in MARKET_NAMES
        }
        assert all(after[n] != before[n] for n in MARKET_NAMES)  # deployed afresh
        assert context.chain.call(context.deployment.markets.pool.functions.total_shares()) > 0
    finally:
        context.close()


def test_restart_finds_the_same_contracts_and_state(data_dir, passphrase):
    first = open_node(data_dir, passphrase)
    addresses = first.deployment.addresses()
    block = first.chain.block_number()
    tokens = first.chain.call(first.deployment.token.functions.balanceOf(first.operator.address))
    first.close()

    second = open_node(data_dir, passphrase)
    try:
        assert second.deployment.addresses() == addresses
        assert second.chain.block_number() == block  # nothing redeployed, nothing re-registered
        token = second.deployment.token
        assert second.chain.call(token.functions.balanceOf(second.operator.address)) == tokens
    finally:
        second.close()


def test_wrong_passphrase_is_named(data_dir):
    with pytest.raises(WrongPassphrase, match="wrong passphrase for key 'operator'"):
        open_node(data_dir, "not it")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[node\nport = 1", "not valid TOML"),
        ("[node]\nport = 0", "node.port"),
        ("[node]\nprot = 8000", "node.prot"),
        ('[chain]\nurl = "ftp://x"', "chain.url"),
        ('[database]\nurl = "nosuchdb://x"', "unknown database driver"),
        ('[node]\nhost = "not a host!"', "node.host"),
        ('[node]\ntrusted_proxies = ["10.0.0.0/33"]', "node.trusted_proxies"),
        ("[limits]\nasks_per_minute = 0", "limits.asks_per_minute"),
    ],
)
def test_malformed_config_is_named(tmp_path, make_node_dir, passphrase, text, message):
    data_dir = make_node_dir(tmp_path / "node", config=text)
    with pytest.raises(ConfigError, match=message):
        open_node(data_dir, passphrase)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "node.example.org"])
def test_any_interface_is_accepted(tmp_path, host):
    (tmp_path / "config.toml").write_text(f'[node]\nhost = "{host}"\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert config.node.host == host
    if host in ("0.0.0.0", "::"):
        assert node_url(host, 8470) in ("http://127.0.0.1:8470", "http://[::1]:8470")
        with pytest.raises(ConfigError, match="set \\[network\\] public_url"):
            public_url(config)
    else:
        assert public_url(config).startswith("http://")


def test_unreachable_rpc_url(tmp_path, make_node_dir, passphrase):
    url = f"http://127.0.0.1:{free_port()}"
    data_dir = make_node_dir(tmp_path / "node", config=f'[chain]\nurl = "{url}"\n')
    with pytest.raises(ChainUnreachable, match=url):
        open_node(data_dir, passphrase)


def test_rpc_chain_deploys_and_redeploys_after_anvil_restarts(tmp_path, make_node_dir, passphrase):
    """A restarted anvil forgets every contract: the node notices and deploys afresh."""
    data_dir = tmp_path / "node"
    with Anvil() as url:
        make_node_dir(data_dir, config=f'[chain]\nurl = "{url}"\n')
        context = open_node(data_dir, passphrase)
        first = context.deployment.addresses()
        assert context.chain.kind == "rpc"
        assert all(context.chain.has_code(a) for a in first.values())
        context.close()
    with Anvil() as url:
        (data_dir / "config.toml").write_text(f'[chain]\nurl = "{url}"\n', encoding="utf-8")
        context = open_node(data_dir, passphrase)
        try:
            assert all(context.chain.has_code(a) for a in context.deployment.addresses().values())
            with Chain.connect(url) as chain:
                registry = chain.contract("Registry", context.deployment.registry.address)
                assert chain.call(registry.functions.is_active_operator(context.operator.address))
        finally:
            context.close()
