"""`aigora network deploy|show|sync`: deploy a network's contracts once, and see or drive how a
node follows it. Joining is configuration: `aigora up --network FILE`."""

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import NETWORK_FILE, NetworkState, SyncResult, keystore_for
from aigora.chain import WITHDRAW_DELAY_S, Chain, GovernorParams, RegistryParams, TxSigner
from aigora.cli._local import UseCase, run_case
from aigora.cli.options import DataDirOption, data_dir_of, passphrase
from aigora.core.errors import AigoraError
from aigora.network import (
    NetworkFile,
    NetworkFileError,
    NetworkPlan,
    deploy_network,
    load_network,
    write_network,
)

app = typer.Typer(help="Deploy a network, and follow one.", no_args_is_help=True)
console = Console()


def deployer_for(chain: Chain, key: str | None, data_dir: Path) -> TxSigner:
    """The key that deploys: `key` from the data directory's keystore, else on a dev chain its
    first genesis account."""
    if key is not None:
        return keystore_for(data_dir).unlock(key, passphrase())
    if chain.is_dev_chain:
        return chain.dev_signers()[0]
    raise AigoraError(f"{chain.url} is not a dev chain: name a funded key to deploy with, --key")


@app.command("deploy")
def deploy(
    rpc: Annotated[str, typer.Option("--rpc", help="The chain's JSON-RPC URL.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the network file.")] = Path(
        "network.json"
    ),
    name: Annotated[str, typer.Option(help="The network's name.")] = "aigora",
    seed: Annotated[
        list[str] | None,
        typer.Option(
            "--seed", help="A reputation seed and genesis voter (repeat; default: the deployer)."
        ),
    ] = None,
    min_bond: Annotated[
        int, typer.Option(help="The operator bond, in the token's smallest unit.", min=1)
    ] = RegistryParams().min_bond,
    token: Annotated[
        str | None, typer.Option(help="An existing ERC-20 to pay in (default: a dev token).")
    ] = None,
    withdraw_delay: Annotated[
        int,
        typer.Option(
            help="Seconds between an asker's withdrawal request and its withdrawal.", min=1
        ),
    ] = WITHDRAW_DELAY_S,
    voting_period: Annotated[
        int, typer.Option(help="Seconds a policy proposal takes ballots.", min=1)
    ] = GovernorParams().voting_period_s,
    timelock: Annotated[
        int, typer.Option(help="Seconds a passed proposal waits before it can be executed.", min=0)
    ] = GovernorParams().timelock_s,
    quorum_bps: Annotated[
        int,
        typer.Option(
            help="Share of all standing that must vote for or abstain.", min=1, max=10_000
        ),
    ] = GovernorParams().quorum_bps,
    threshold_bps: Annotated[
        int, typer.Option(help="Share of all standing a proposer needs.", min=0, max=10_000)
    ] = GovernorParams().threshold_bps,
    key: Annotated[
        str | None, typer.Option(help="Deploy with this key of the data dir (default: dev).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Deploy a network's contracts once and write its network file, for nodes to join. The
    seeds are the genesis policy's voters, with equal standing (`docs/governance.md`)."""
    if out.exists():
        raise AigoraError(f"{out} exists: a network is deployed once; choose another --out")
    with Chain.connect(rpc) as chain:
        deployer = deployer_for(chain, key, data_dir_of(data_dir))
        plan = NetworkPlan(
            name=name,
            registry=RegistryParams(min_bond=min_bond),
            seeds=tuple(seed or ()),
            token=token,
            rpc=rpc,
            withdraw_delay_s=withdraw_delay,
            governor=GovernorParams(
                voting_period_s=voting_period,
                timelock_s=timelock,
                quorum_bps=quorum_bps,
                threshold_bps=threshold_bps,
            ),
        )
        with console.status(f"deploying the network on {rpc}"):
            network = deploy_network(chain, deployer, plan)
    write_network(out, network)
    print_network(network)
    console.print(f"[green]network {network.name!r} written to {out}[/green]")


def print_network(network: NetworkFile) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("network", f"{network.name} on chain {network.chain_id}")
    table.add_row("from block", str(network.deployment_block))
    for contract, entry in network.contracts.items():
        table.add_row(contract, entry.address)
    table.add_row("seeds", ", ".join(network.reputation.seeds))
    console.print(table)


def adopt_network_file(data_dir: Path, source: Path) -> None:
    """Make `source` the data directory's network file (`aigora up --network FILE`). A data
    directory belongs to one network: a different file already there is refused."""
    network = load_network(source)
    target = data_dir / NETWORK_FILE
    if target.exists():
        try:
            current = load_network(target)
        except NetworkFileError:
            current = None
        if current != network:
            raise AigoraError(
                f"{data_dir} already follows another network ({target}); use a new --data-dir"
            )
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def state_case() -> UseCase[NetworkState]:
    return UseCase(lambda app: app.network.state(), "GET", "/network", NetworkState)


def sync_case() -> UseCase[SyncResult]:
    return UseCase(lambda app: app.network.sync(), "POST", "/network/sync", SyncResult)


@app.command("show")
def show(data_dir: DataDirOption = None) -> None:
    """The network this node follows, its peers, and the batches imported and pending."""
    state = run_case(data_dir_of(data_dir), state_case(), key=False)
    table = Table(show_header=False, box=None)
    table.add_row("network", f"{state.name} on chain {state.chain_id}, registry {state.registry}")
    table.add_row("this node", state.public_url or "-")
    table.add_row("operators", str(len(state.peers)))
    table.add_row(
        "batches",
        f"{state.batches_found} found: {state.batches_ours} ours, "
        f"{state.batches_imported} imported, {len(state.pending)} pending",
    )
    console.print(table)
    for row in state.pending:
        console.print(
            f"pending batch {row['batch_id']} (anchored by {row['anchorer']}, "
            f"{row['attempts']} tries): {row['last_error'] or 'not tried yet'}",
            highlight=False,
        )


@app.command("sync")
def sync_now(data_dir: DataDirOption = None) -> None:
    """Import now every batch peers anchored that this node lacks."""
    result = run_case(data_dir_of(data_dir), sync_case())
    console.print(
        f"found {result.found} new batches, imported {len(result.imported)}, "
        f"{result.pending} still pending",
        highlight=False,
    )
    for refusal in result.refused:
        console.print(f"[red]refused[/red] {refusal}", highlight=False)
