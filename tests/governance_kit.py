"""A small governed network for the governance tests: a network on anvil whose Governor decides
in an hour of chain time (tests move the clock with `Chain.advance_time`), three seeds with equal
standing (power floor(10**18 / 3) each, so two of them reach the 40% quorum) and a node that
joins it by its network file. People sign with their own keys (`SEEDS`, `STRANGER`); the node
only relays."""

from dataclasses import dataclass
from pathlib import Path

from aigora.chain import Chain, GovernorParams
from aigora.core.canonical import canonical_json
from aigora.core.keystore import Signer
from aigora.governance import Policy, parse_policy
from aigora.network import NetworkFile, NetworkPlan, deploy_network, write_network
from tests.node.conftest import make_data_dir

VOTING_PERIOD_S = 3600
TIMELOCK_S = 600
PARAMS = GovernorParams(
    voting_period_s=VOTING_PERIOD_S, timelock_s=TIMELOCK_S, quorum_bps=4000, threshold_bps=100
)
SEED_KEYS = [bytes([n]) * 32 for n in (0x51, 0x52, 0x53)]
SEEDS = [Signer.dev(key) for key in SEED_KEYS]
STRANGER_KEY = bytes([0x54]) * 32
STRANGER = Signer.dev(STRANGER_KEY)
"""An address outside the standing table: no vote, whatever it holds."""


@dataclass(frozen=True)
class Governed:
    rpc: str
    network_file: Path
    network: NetworkFile


def deploy_governed(rpc: str, directory: Path, name: str = "governed") -> Governed:
    """A fresh network on the chain at `rpc` (its own Governor and genesis policy) and its
    network file in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    with Chain.connect(rpc) as chain:
        plan = NetworkPlan(name, rpc=rpc, seeds=tuple(s.address for s in SEEDS), governor=PARAMS)
        network = deploy_network(chain, chain.dev_signers()[0], plan)
    path = directory / "network.json"
    write_network(path, network)
    return Governed(rpc, path, network)


def joined_dir(path: Path, governed: Governed, port: int) -> Path:
    """A node data directory that follows the governed network."""
    config = f'[node]\nport = {port}\n\n[network]\nfile = "{governed.network_file}"\n'
    return make_data_dir(path, config)


def advance(rpc: str, seconds: int) -> int:
    with Chain.connect(rpc) as chain:
        return chain.advance_time(seconds)


def edited(policy: Policy, **admission: object) -> Policy:
    """`policy` with some admission fields changed (canonical, so it parses)."""
    return _changed(policy, "admission", admission)


def with_objectives(policy: Policy, **objectives: object) -> Policy:
    """`policy` with some objectives changed (the validation set, the pool, the cap, ...)."""
    return _changed(policy, "objectives", objectives)


def _changed(policy: Policy, section: str, fields: dict[str, object]) -> Policy:
    data = policy.model_dump(mode="json")
    data[section].update(fields)
    return parse_policy(canonical_json(data))


def signature_over(signer: Signer, terms: dict) -> str:
    """`signer`'s signature over the typed data a node's terms carry (as a wallet signs it)."""
    return "0x" + bytes(signer.sign_typed_data(full_message=terms["typed_data"]).signature).hex()


def propose_over_http(client, signer: Signer, document: bytes):
    """Ask for the Propose terms, sign them as `signer` and send the proposal; the response."""
    terms = client.post(
        "/governance/propose-terms",
        json={"document": document.decode(), "proposer": signer.address},
    )
    assert terms.status_code == 200, terms.text
    return client.post(
        "/governance/proposals",
        json={
            "document": document.decode(),
            "proposer": signer.address,
            "signature": signature_over(signer, terms.json()),
        },
    )


def vote_over_http(client, proposal_id: int, signer: Signer, support: str, signed_by=None):
    """Ask for the ballot terms, sign them (as `signed_by`, default the voter) and send."""
    terms = client.get(
        f"/governance/proposals/{proposal_id}/ballot",
        params={"voter": signer.address, "support": support},
    )
    assert terms.status_code == 200, terms.text
    return client.post(
        f"/governance/proposals/{proposal_id}/votes",
        json={
            "voter": signer.address,
            "support": support,
            "signature": signature_over(signed_by or signer, terms.json()),
        },
    )
