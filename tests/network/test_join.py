"""Joining a network by configuration: the node deploys nothing, checks the network's contracts,
records them, and registers with its public URL; a network file that lies is refused."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from aigora.app import App, WrongNetwork, open_node, recorded_addresses
from aigora.chain import Chain, read_operator
from aigora.cli.network import adopt_network_file
from aigora.content import content_message, service, sign, url_hash
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer
from aigora.index import admitted
from aigora.network import (
    NetworkFileError,
    NetworkPlan,
    deploy_network,
    load_network,
    write_network,
)
from aigora.store import Deployment, session_scope
from tests.node.conftest import PASSPHRASE, make_data_dir


@pytest.fixture(scope="module")
def network_file(anvil_url, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("network") / "network.json"
    with Chain.connect(anvil_url) as chain:
        network = deploy_network(
            chain, chain.dev_signers()[0], NetworkPlan("joining", rpc=anvil_url)
        )
    write_network(path, network)
    return path


def join(path: Path, network_file: Path, port: int = 18470, extra: str = "") -> Path:
    config = f'[node]\nport = {port}\n\n[network]\nfile = "{network_file}"\n{extra}'
    return make_data_dir(path, config)


def test_a_node_joins_by_configuration_and_deploys_nothing(network_file, tmp_path, anvil_url):
    network = load_network(network_file)
    directory = join(tmp_path / "node", network_file)
    with Chain.connect(anvil_url) as chain:
        before = chain.block_number()
    context = open_node(directory, PASSPHRASE)
    try:
        chain = context.chain
        assert context.deployment.addresses() == network.addresses()
        # a dev network (anvil, the dev token) has the markets agents swap and stake in
        markets = context.deployment.markets
        assert markets is not None
        assert {"Stable", "Pool", "Vault"} <= network.contracts.keys()
        assert chain.call(markets.vault.functions.asset()) == context.deployment.token.address
        assert recorded_addresses(context.db, chain.chain_id) == network.addresses()
        with session_scope(context.db) as session:
            blocks = {row.name: row.block_number for row in session.scalars(select(Deployment))}
        assert blocks == {name: entry.block for name, entry in network.contracts.items()}
        created = [
            chain.w3.eth.get_transaction_receipt(tx["hash"])["contractAddress"]
            for number in range(before + 1, chain.block_number() + 1)
            for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]
        ]
        assert [address for address in created if address] == []  # nothing deployed
        record = read_operator(chain, context.deployment.registry, context.operator.address)
        assert record.registered
        assert record.endpoint == "http://127.0.0.1:18470"
        assert record.bond == int(network.params.min_bond)
    finally:
        context.close()


def test_a_node_that_moved_updates_its_registered_url(network_file, tmp_path):
    directory = join(tmp_path / "node", network_file, port=18471)
    open_node(directory, PASSPHRASE).close()
    context = open_node(directory, PASSPHRASE, port=18999)
    try:
        record = read_operator(context.chain, context.deployment.registry, context.operator.address)
        assert record.endpoint == "http://127.0.0.1:18999"
    finally:
        context.close()
    (directory / "config.toml").write_text(
        f'[network]\nfile = "{network_file}"\npublic_url = "https://node.example.org"\n'
    )
    context = open_node(directory, PASSPHRASE)
    try:
        record = read_operator(context.chain, context.deployment.registry, context.operator.address)
        assert record.endpoint == "https://node.example.org"
    finally:
        context.close()


def lying(network_file: Path, tmp_path: Path, change) -> Path:
    data = json.loads(network_file.read_text())
    change(data)
    path = tmp_path / "lying.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        (lambda d: d.update(chain_id=1), "is on chain 1"),
        (
            lambda d: d["contracts"]["Registry"].update(
                address=d["contracts"]["Bounties"]["address"]
            ),
            "is not our Registry contract",
        ),
        (
            lambda d: d["contracts"]["Disputes"].update(address="0x" + "11" * 20),
            "has no code",
        ),
        (
            lambda d: d["contracts"]["Token"].update(d["contracts"]["Bounties"]),
            "pays in",
        ),
        (
            lambda d: d["contracts"]["Pool"].update(d["contracts"]["Vault"]),
            "is not our Pool contract",
        ),
        (
            lambda d: d["contracts"]["Stable"].update(d["contracts"]["Token"]),
            "does not trade its Token for its Stable",
        ),
    ],
)
def test_a_network_file_that_lies_is_refused(network_file, tmp_path, change, refusal):
    directory = join(tmp_path / "node", lying(network_file, tmp_path, change))
    with pytest.raises(WrongNetwork, match=refusal):
        open_node(directory, PASSPHRASE)


def test_a_malformed_network_file_says_what_is_wrong(network_file, tmp_path):
    path = lying(network_file, tmp_path, lambda d: d["contracts"].pop("Distributor"))
    with pytest.raises(NetworkFileError, match="missing contracts: Distributor"):
        load_network(path)
    path = lying(network_file, tmp_path, lambda d: d["contracts"].pop("Vault"))
    with pytest.raises(NetworkFileError, match="all or none"):
        load_network(path)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(NetworkFileError, match="is not JSON"):
        load_network(tmp_path / "broken.json")


def test_a_data_directory_belongs_to_one_network(network_file, tmp_path):
    directory = tmp_path / "node"
    adopt_network_file(directory, network_file)
    adopt_network_file(directory, network_file)  # the same file again is fine
    other = lying(network_file, tmp_path, lambda d: d.update(name="another"))
    with pytest.raises(AigoraError, match="already follows another network"):
        adopt_network_file(directory, other)


def test_network_deploy_writes_a_file_nodes_can_join(anvil_url, tmp_path):
    from tests.cli.conftest import Aigora

    aigora = Aigora(tmp_path / "deployer", in_process=True)
    out = tmp_path / "net.json"
    done = aigora.run("network", "deploy", "--rpc", anvil_url, "--out", str(out), "--name", "t")
    assert done.returncode == 0, done.stdout + done.stderr
    network = load_network(out)
    assert network.name == "t"
    assert network.rpc == anvil_url
    with Chain.connect(anvil_url) as chain:
        assert network.chain_id == chain.chain_id
        for entry in network.contracts.values():
            assert chain.has_code(entry.address)
        assert network.reputation.seeds == [chain.dev_signers()[0].address]
    again = aigora.run("network", "deploy", "--rpc", anvil_url, "--out", str(out))
    assert again.returncode == 1
    assert "is deployed once" in again.stdout + again.stderr


def test_a_devnet_never_clears_a_directory_it_did_not_make(tmp_path):
    from aigora.cli.devnet import prepare

    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(AigoraError, match="holds no devnet"):
        prepare(precious)
    assert (precious / "thesis.tex").exists()
    devnet = tmp_path / "devnet"
    prepare(devnet)
    (devnet / "node-1").mkdir()
    prepare(devnet)  # a previous devnet's directory is cleared
    assert not (devnet / "node-1").exists()


def test_a_network_node_reveals_no_cid_before_its_manifest_is_anchored(network_file, tmp_path):
    """Manifest priority is by anchoring order, so a CID learned before its manifest is anchored
    could be claimed by someone else's manifest anchored first. A network node therefore admits
    to its snapshots (and so to answers) and lists by URL only anchored content."""
    context = open_node(join(tmp_path / "node", network_file, port=18472), PASSPHRASE)
    try:
        app = App(context)
        author, body, url = Signer.dev(bytes([9]) * 32), b"an essay on tyres", "https://e.org/t"
        message = content_message(author.address, body, "text/plain", "CC0-1.0", 1, url=url)
        signed = sign("content", author, context.domain, message)
        with session_scope(context.db) as session:
            cid = service.publish(session, context.blobs, context.domain, signed, body, 2).id
        hashed = url_hash(url)

        def revealed() -> tuple[bool, bool]:
            with session_scope(context.db) as session:
                in_snapshot = cid in {c.cid for c in admitted(session, app.answers.policy())}
            return in_snapshot, cid in app.content.by_url(hashed).cids

        assert revealed() == (False, False)
        app.content.anchor()
        assert revealed() == (True, True)
    finally:
        context.close()
