"""Driving a running devnet from a test: its nodes' HTTP APIs, signing as people with their own
keys, and a lying peer (the test double for a node that serves tampered batches)."""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from aigora.chain.anvil import free_port
from aigora.content import content_message, domain_for, sign
from aigora.core.eip712 import Domain
from aigora.core.keystore import Signer

TIMEOUT = 300


@dataclass
class DevnetNode:
    name: str
    url: str
    data_dir: Path
    pid: int

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=TIMEOUT)
        assert response.status_code == 200, f"{self.name} {path}: {response.text}"
        return response.json()

    def post(self, path: str, body: Any = None, *, operator: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.token()}"} if operator else None
        response = httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=TIMEOUT)
        assert response.status_code in (200, 201), f"{self.name} {path}: {response.text}"
        return response.json()

    def token(self) -> str:
        return (self.data_dir / "node.token").read_text().strip()

    def log(self) -> str:
        return (self.data_dir / "node.log").read_text(encoding="utf-8", errors="replace")

    def sync(self) -> dict[str, Any]:
        return self.post("/network/sync", operator=True)


def free_ports(count: int) -> int:
    """A first port such that it and the next `count - 1` are free now."""
    while True:
        base = free_port()
        if base + count > 65000:
            continue
        try:
            for port in range(base, base + count):
                import socket

                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


class Devnet:
    """`aigora devnet` in a subprocess, and what its `devnet.json` says."""

    def __init__(self, directory: Path, nodes: int, fee: int) -> None:
        self.directory = directory
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
        env["AIGORA_PASSPHRASE"] = "devnet"
        self.env = env
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aigora",
                "devnet",
                "--nodes",
                str(nodes),
                "--dir",
                str(directory),
                "--base-port",
                str(free_ports(nodes)),
                "--interval",
                "3600",  # the tests drive anchoring, snapshots and sync themselves
                "--fee",
                str(fee),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 400
        record = directory / "devnet.json"
        while not record.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"aigora devnet exited: {self.process.stdout.read()}")
            if time.monotonic() > deadline:
                raise AssertionError("aigora devnet did not become ready")
            time.sleep(0.5)
        info = json.loads(record.read_text())
        self.rpc: str = info["rpc"]
        self.network_file = Path(info["network"])
        self.network = json.loads(self.network_file.read_text())
        self.nodes = [
            DevnetNode(n["name"], n["url"], Path(n["data_dir"]), n["pid"]) for n in info["nodes"]
        ]
        self.domain: Domain = domain_for(
            self.network["chain_id"], self.network["contracts"]["Registry"]["address"]
        )

    def stop(self) -> str:
        """Ctrl-C, as a person would; returns what the devnet printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=120)
        return self.process.stdout.read()


def publish(node: DevnetNode, domain: Domain, author: Signer, text: str) -> str:
    body = text.encode()
    message = content_message(author.address, body, "text/plain", "CC-BY-4.0", int(time.time()))
    signed = sign("content", author, domain, message)
    done = node.post(
        "/content",
        {
            "manifest": message,
            "signature": "0x" + signed.signature.hex(),
            "body_base64": base64.b64encode(body).decode(),
        },
    )
    return done["id"]


def attest(node: DevnetNode, domain: Domain, attester: Signer, cid: str, verdict: str) -> str:
    message = {
        "attester": attester.address,
        "cid": cid,
        "verdict": verdict,
        "reason": "checked against the manual",
        "createdAt": int(time.time()),
    }
    signed = sign("attestation", attester, domain, message)
    return node.post(
        "/attestations", {"attestation": message, "signature": "0x" + signed.signature.hex()}
    )["id"]


def vouch(node: DevnetNode, domain: Domain, truster: Signer, trustee: str) -> str:
    message = {"truster": truster.address, "trustee": trustee, "createdAt": int(time.time())}
    signed = sign("trust", truster, domain, message)
    return node.post("/trust", {"trust": message, "signature": "0x" + signed.signature.hex()})["id"]


class LyingPeer:
    """A peer that serves a real node's batches with one item's message altered (its signature
    then names someone else), and bodies as they are. The double for a node that lies."""

    def __init__(self, honest_url: str) -> None:
        self.honest_url = honest_url
        self.served = 0
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream = httpx.get(f"{peer.honest_url}{self.path}", timeout=60)
                payload = upstream.content
                if self.path.startswith("/batches/") and upstream.status_code == 200:
                    page = upstream.json()
                    if page["items"]:
                        page["items"][0]["message"]["license"] = "All rights reserved"
                    payload = json.dumps(page).encode()
                    peer.served += 1
                self.send_response(upstream.status_code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
