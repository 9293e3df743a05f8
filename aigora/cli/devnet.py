"""`aigora devnet --nodes N`: a whole network on this machine in one command.

Starts anvil (from the npm package), deploys a network with anvil's first account, and starts N
nodes (`aigora up`), each with its own data directory and port, all joined to the network. It
prints their URLs and writes `devnet.json` (anvil's URL, the network file, each node's URL,
data directory, PID and log) for scripts and tests. Ctrl-C (or SIGTERM) stops every node by
PID, then anvil. A devnet is throwaway: anvil keeps its chain in memory, so each start begins
a new chain in a fresh directory.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from aigora.app import CONFIG_FILE, NETWORK_FILE, Config, keystore_for, node_url
from aigora.chain import Anvil, Chain
from aigora.core.errors import AigoraError
from aigora.network import NetworkPlan, deploy_network, write_network

console = Console()
DEVNET_FILE = "devnet.json"
MARKER = ".aigora-devnet"
DEV_PASSPHRASE = "devnet"
"""The node keys' passphrase unless $AIGORA_PASSPHRASE says otherwise: a devnet's keys guard
nothing of value."""
START_TIMEOUT_S = 180.0
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DevnetNode:
    name: str
    url: str
    data_dir: str
    pid: int
    log: str


def node_config(*, rpc: str, port: int, interval_s: int, fee: int) -> str:
    """A devnet node's config.toml: anvil, the network file beside the data directories, and
    short intervals so that what one node anchors reaches the others within seconds."""
    return f"""\
[node]
port = {port}
anchor_interval_s = {interval_s}

[chain]
url = "{rpc}"

[answers]
refresh_interval_s = {interval_s}
fee = "{fee}"

[network]
file = "../{NETWORK_FILE}"
sync_interval_s = {interval_s}
"""


def prepare(directory: Path) -> None:
    """An empty directory for the devnet; a previous devnet's directory is cleared, anything
    else refused (so a mistyped --dir never deletes someone's files)."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise AigoraError(f"{directory} is not empty and holds no devnet; choose another --dir")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("a devnet: cleared at its next start\n", encoding="utf-8")


def start_node(directory: Path, name: str, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    log = directory / "node.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "aigora", "up", "--data-dir", str(directory)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C reaches the devnet, which stops each node itself
        )
    return process, log


def wait_ready(url: str, process: subprocess.Popen, log: Path, deadline: float) -> None:
    while True:
        if process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise AigoraError(f"the node for {url} exited ({process.returncode}):\n{tail}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AigoraError(f"the node for {url} did not answer within {START_TIMEOUT_S:.0f} s")
        time.sleep(0.3)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM by PID (a node shuts down cleanly on it), SIGKILL if it does not within 30 s."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()


def devnet(
    nodes: Annotated[int, typer.Option(help="How many nodes.", min=1, max=16)] = 3,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the nodes' data directories go (cleared).")
    ] = Path("devnet"),
    base_port: Annotated[
        int, typer.Option(help="The first node's port; the others follow.", min=1024, max=65000)
    ] = 8470,
    interval: Annotated[
        int, typer.Option(help="Seconds between anchoring, snapshots and sync.", min=1)
    ] = 5,
    fee: Annotated[
        int, typer.Option(help="Each answer's fee, in the token's smallest unit.", min=0)
    ] = 0,
) -> None:
    """Start anvil, deploy a network and start N nodes on it; Ctrl-C stops them all."""
    directory = directory.expanduser().resolve()
    prepare(directory)
    env = {**os.environ, "AIGORA_PASSPHRASE": os.environ.get("AIGORA_PASSPHRASE", DEV_PASSPHRASE)}
    started: list[subprocess.Popen] = []
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    anvil = Anvil()
    try:
        # Each node's operator key first: the nodes' operators are the network's seeds, the
        # genesis policy's voters (`aigora policy vote ID for --account operator`).
        seeds = []
        for index in range(nodes):
            data_dir = directory / f"node-{index + 1}"
            data_dir.mkdir()
            key = Config().node.operator_key  # the name `aigora up` unlocks
            seeds.append(keystore_for(data_dir).create(key, env["AIGORA_PASSPHRASE"]))
        with console.status("starting anvil and deploying the network"):
            rpc = anvil.__enter__()
            with Chain.connect(rpc) as chain:
                plan = NetworkPlan(name="devnet", rpc=rpc, seeds=tuple(seeds))
                network = deploy_network(chain, chain.dev_signers()[0], plan)
        write_network(directory / NETWORK_FILE, network)
        ready: list[DevnetNode] = []
        with console.status(f"starting {nodes} nodes"):
            for index in range(nodes):
                name = f"node-{index + 1}"
                data_dir = directory / name
                port = base_port + index
                (data_dir / CONFIG_FILE).write_text(
                    node_config(rpc=rpc, port=port, interval_s=interval, fee=fee), encoding="utf-8"
                )
                process, log = start_node(data_dir, name, env)
                started.append(process)
                url = node_url("127.0.0.1", port)
                wait_ready(url, process, log, time.monotonic() + START_TIMEOUT_S)
                ready.append(DevnetNode(name, url, str(data_dir), process.pid, str(log)))
        record = {
            "rpc": rpc,
            "anvil_pid": anvil.process.pid if anvil.process else None,
            "network": str(directory / NETWORK_FILE),
            "nodes": [asdict(node) for node in ready],
        }
        (directory / DEVNET_FILE).write_text(json.dumps(record, indent=2), encoding="utf-8")
        _print(rpc, directory, ready)
        exited: set[str] = set()
        while not stopping:
            for process, node in zip(started, ready, strict=True):
                if process.poll() is not None and node.name not in exited:
                    # The others go on: a node may be stopped and restarted by hand
                    # (`aigora up --data-dir ...`); it catches up from its cursors.
                    exited.add(node.name)
                    console.print(
                        f"[yellow]{node.name} exited ({process.returncode}); see {node.log}; "
                        f"restart it with `aigora up --data-dir {node.data_dir}`[/yellow]"
                    )
            time.sleep(0.5)
    finally:
        for process in reversed(started):
            stop(process)
        anvil.stop()
        (directory / DEVNET_FILE).unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    console.print("devnet stopped")


def _print(rpc: str, directory: Path, ready: list[DevnetNode]) -> None:
    table = Table(title="Aigora devnet")
    table.add_column("node")
    table.add_column("URL")
    table.add_column("data directory")
    table.add_column("PID", justify="right")
    for node in ready:
        table.add_row(node.name, node.url, node.data_dir, str(node.pid))
    console.print(table)
    console.print(f"chain  {rpc} (anvil)   network file  {directory / NETWORK_FILE}")
    console.print(
        "node keys' passphrase: $AIGORA_PASSPHRASE, else 'devnet' (a devnet guards nothing)"
    )
    console.print("[green]devnet ready[/green]  (Ctrl-C stops every node, then anvil)")
