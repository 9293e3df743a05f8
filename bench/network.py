"""A new node joining a network: time to catch up with two peers that hold 10,000 anchored items,
against importing the same items from a local file in the same run.

    python bench/network.py [--items 10000]

Starts anvil and deploys a network, then two peers (`aigora up` processes joined to it). Half the
items are content manifests with their bodies, published and anchored on the first peer; half
are attestations, recorded and anchored on the second; each peer then imports the other's
batches, so both hold everything. A third node joins and runs one sync pass (scan the registry,
fetch every batch and body over HTTP, check every signature, root and CID, store): that is the
measured catch-up. The baseline imports the same batches, with the same checks and the same
storing, into a fresh store from an export file on local disk: the ratio is what the network
(HTTP, paging, JSON) adds over the import itself.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from aigora.app import App, open_node
from aigora.chain import Anvil, Chain
from aigora.chain.anvil import free_port
from aigora.content import service, sign
from aigora.content.signed import content_message
from aigora.core.cid import cid_of
from aigora.core.eip712 import Domain
from aigora.core.keystore import Keystore, Signer
from aigora.network import (
    FileSource,
    FoundBatch,
    NetworkPlan,
    deploy_network,
    export_batches,
    import_batch,
    write_network,
)
from aigora.store import (
    Anchor,
    BatchItem,
    BlobStore,
    make_engine,
    migrate,
    session_scope,
    sqlite_url,
)

console = Console()
PASSPHRASE = "bench"


def node_dir(root: Path, name: str, rpc: str, port: int) -> Path:
    directory = root / name
    directory.mkdir()
    Keystore(directory / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    (directory / "config.toml").write_text(
        f'[node]\nport = {port}\nanchor_interval_s = 0\n\n[chain]\nurl = "{rpc}"\n\n'
        f'[answers]\nrefresh_interval_s = 0\n\n[network]\nfile = "../network.json"\n'
        "sync_interval_s = 0\n",
        encoding="utf-8",
    )
    return directory


def fill(directory: Path, items: int, kind: str) -> None:
    """Record `items` signed items of `kind` on the node in `directory` and anchor them."""
    context = open_node(directory, PASSPHRASE)
    try:
        domain, now = context.domain, int(time.time())
        authors = [Signer.dev(bytes([i + 1]) * 32) for i in range(20)]
        with session_scope(context.db) as session:
            for i in range(items):
                who = authors[i % len(authors)]
                if kind == "content":
                    body = f"Passage {i}: a note about item {i} for the network bench.".encode()
                    message = content_message(who.address, body, "text/plain", "CC0-1.0", now)
                    service.publish(
                        session,
                        context.blobs,
                        domain,
                        sign("content", who, domain, message),
                        body,
                        now,
                    )
                else:
                    message = {
                        "attester": who.address,
                        "cid": cid_of(f"Passage {i // len(authors)}".encode()),
                        "verdict": "accurate",
                        "reason": "",
                        "createdAt": now - i,
                    }
                    service.attest(session, domain, sign("attestation", who, domain, message), now)
        App(context).content.anchor()
    finally:
        context.close()


def serve(directory: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "AIGORA_PASSPHRASE": PASSPHRASE}
    process = subprocess.Popen(
        [sys.executable, "-m", "aigora", "up", "--data-dir", str(directory)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"the peer on port {port} did not start")


def export_from(directory: Path, path: Path) -> tuple[list[FoundBatch], Domain]:
    """Write an export file of every content and attestations batch a node holds, as it would
    serve them; return the batches as the registry recorded them, and the signing domain."""
    context = open_node(directory, PASSPHRASE)
    found, batches, bodies = [], [], {}
    try:
        with session_scope(context.db) as session:
            shared = select(Anchor).where(Anchor.kind != "receipts").order_by(Anchor.batch_id)
            for anchor in session.scalars(shared):
                documents = session.scalars(
                    select(BatchItem.document)
                    .where(BatchItem.anchor_id == anchor.id)
                    .order_by(BatchItem.position)
                )
                items = [json.loads(document) for document in documents]
                batches.append({"root": anchor.root, "items": items})
                for item in items:
                    if item["kind"] == "content":
                        cid = item["message"]["cid"]
                        bodies[cid] = context.blobs.get(cid)
                found.append(
                    FoundBatch(
                        batch_id=anchor.batch_id,
                        kind=0 if anchor.kind == "content" else 1,
                        anchorer=anchor.anchored_by,
                        root=anchor.root,
                        item_count=anchor.item_count,
                        block_number=anchor.block_number,
                        tx_hash=anchor.tx_hash,
                    )
                )
        domain = context.domain
    finally:
        context.close()
    export_batches(path, batches, bodies)
    return found, domain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    half = args.items // 2
    root = Path(tempfile.mkdtemp(prefix="aigora-network-bench-"))
    peers: list[subprocess.Popen] = []
    try:
        with Anvil() as rpc:
            with Chain.connect(rpc) as chain:
                network = deploy_network(chain, chain.dev_signers()[0], NetworkPlan("bench"))
            write_network(root / "network.json", network)
            ports = [free_port(), free_port(), free_port()]
            first, second, joiner = (
                node_dir(root, name, rpc, port)
                for name, port in zip(("peer-1", "peer-2", "joiner"), ports, strict=True)
            )
            with console.status(f"signing and anchoring {args.items} items on two peers"):
                fill(first, half, "content")
                fill(second, args.items - half, "attestations")
            for directory, port in ((first, ports[0]), (second, ports[1])):
                peers.append(serve(directory, port))
            with console.status("the peers import each other's batches"):
                for port in ports[:2]:
                    httpx.post(f"http://127.0.0.1:{port}/network/sync", timeout=900)
            context = open_node(joiner, PASSPHRASE)
            try:
                started = time.perf_counter()
                with console.status("a new node catches up"):
                    report = App(context).network.sync()
                caught_up = time.perf_counter() - started
            finally:
                context.close()
            imported = len(report.imported)
            found, domain = export_from(first, root / "export.json")
        store = root / "from-file"
        db = make_engine(sqlite_url(store / "aigora.db"))
        migrate(db)
        blobs = BlobStore(store / "blobs")
        started = time.perf_counter()
        source = FileSource(root / "export.json")
        for batch in found:
            import_batch(db, blobs, domain, batch, source, now=int(time.time()))
        from_file = time.perf_counter() - started
        db.dispose()
    finally:
        for process in peers:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)
    table = Table(title=f"joining a network of two peers holding {args.items:,} anchored items")
    table.add_column("import")
    table.add_column("batches", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("items/s", justify="right")
    for name, batches, seconds in (
        ("from two peers (HTTP)", imported, caught_up),
        ("from a local file", len(found), from_file),
    ):
        table.add_row(name, str(batches), f"{seconds:.1f}", f"{args.items / seconds:,.0f}")
    console.print(table)
    console.print(f"ratio (peers / file): {caught_up / from_file:.2f}")


if __name__ == "__main__":
    main()
