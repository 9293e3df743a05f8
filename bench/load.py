"""Asks per second and p50/p99 latency at 1, 8 and 32 concurrent clients, against /health.

    python bench/load.py [--seconds 20] [--users 1,8,32] [--passages 300]

Starts a real node (`aigora up`, embedded chain, fee 0) in a temporary data directory, publishes
`--passages` short passages signed by a test author through `POST /content`, snapshots them
(`POST /snapshots` with the operator's token from `node.token`), then drives the node with locust
as a library (headless, `locust.FastHttpUser`, no wait between requests: each client sends its next
request when the last one is answered). For each concurrency it runs `GET /health`, the baseline,
then `POST /ask` with varied queries and k = 5: the clients send requests for `--seconds`, then
finish the one in flight. Every request counts; requests per second are the answered (2xx) ones
over the span from the first request sent to the last answer received, and p50/p99 are over
all of them (none is dropped for being slow). 429 is counted apart ("limited"), as are other
4xx, 5xx and transport errors. The ratio is ask rps / health rps at the same concurrency. CPU
seconds per second of the node process and of this (client) process say which side was busy.
Exits non-zero on any 5xx or transport error.

A paid run (`--fee` with vouchers) would change `node_config` and the headers an `AskUser`
sends; the rest of the script does not depend on the fee. `--extra-config` appends TOML to the
node's `config.toml`; the per-client rate limits are lifted (all clients share one address).
"""

import argparse
import base64
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import locust  # before the packages below: it monkey-patches the standard library for gevent
import psutil
import requests
from locust.env import Environment
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from aigora.chain.anvil import free_port
from aigora.content.signed import content_message, domain_for, sign
from aigora.core.keystore import Signer

PASSPHRASE = "bench-only-passphrase"
K = 5
STOP_TIMEOUT_S = (
    300.0  # clients finish the request in flight, so the next step starts on an idle node
)
console = Console(width=140)

THINGS = (
    "minivan", "bicycle", "heat pump", "sourdough starter", "tomato plant", "lithium battery",
    "river delta", "honeybee colony", "wool sweater", "espresso machine", "solar panel",
    "library card", "mountain trail", "violin", "compost heap", "night train", "lighthouse",
    "rain jacket", "chess opening", "glacier",
)  # fmt: skip
FACTS = (
    "lasts longer when it is kept dry and out of direct sun",
    "needs a check every spring before the busy season starts",
    "works best in a cool place with steady airflow",
    "was first described in a handbook printed in the nineteenth century",
    "can be repaired with common tools and a little patience",
    "costs less to run than most people expect",
    "is easier to maintain if it is cleaned after every use",
    "changes character noticeably between summer and winter",
    "should be inspected by a trained person once a year",
    "is a common topic in local workshops and evening classes",
    "loses efficiency when it is neglected for a long time",
    "benefits from a gentle start rather than a sudden load",
    "is often shared among neighbours in small towns",
    "depends on good drainage to avoid damage",
    "was improved a great deal by modern materials",
)
QUESTIONS = (
    "how do I look after a {thing}",
    "when should a {thing} be inspected",
    "what does a {thing} need in winter",
    "is a {thing} expensive to run",
    "where is the best place to keep a {thing}",
    "can I repair a {thing} myself",
    "history of the {thing}",
    "{thing} maintenance tips",
)


def passages(count: int) -> list[str]:
    """`count` distinct short passages, a fixed shuffle of thing x fact (at most 300)."""
    pairs = [(thing, fact) for thing in THINGS for fact in FACTS]
    random.Random(0).shuffle(pairs)
    if count > len(pairs):
        raise SystemExit(f"--passages is at most {len(pairs)}")
    return [f"A {thing} {fact}." for thing, fact in pairs[:count]]


def queries() -> list[str]:
    """Every question about every thing (160), so consecutive asks embed different text."""
    return [question.format(thing=thing) for thing in THINGS for question in QUESTIONS]


UNLIMITED = """
[limits]
asks_per_minute = 100000000
writes_per_minute = 100000000
pending_per_author = 100000000
pending_total = 100000000
"""
"""Every client of this script is one loopback address, so the per-client limits (`[limits]`)
are lifted: with them the run would measure the limiter (30 asks a minute), not the node."""


def node_config(fee: int) -> str:
    """The node's `config.toml`: defaults (anchoring every 30 s, as a real node does) except the
    fee, the snapshot refresh, which this script triggers itself once the corpus is in, and the
    per-client limits (`UNLIMITED`)."""
    return f'[answers]\nfee = "{fee}"\nrefresh_interval_s = 0\n' + UNLIMITED


def start_node(data_dir: Path, config: str) -> tuple[subprocess.Popen, str]:
    """`aigora up` in `data_dir` with `config`; its stderr goes to `node.log` there (a pipe
    nobody reads would fill and block the node's logging under load)."""
    data_dir.mkdir(parents=True)
    (data_dir / "config.toml").write_text(config, encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIGORA_")}
    env["AIGORA_PASSPHRASE"] = PASSPHRASE
    with (data_dir / "node.log").open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aigora",
                "up",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"aigora up failed: {node_log(data_dir)}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("aigora up did not answer /health within 180 s")


def node_log(data_dir: Path, lines: int = 40) -> str:
    text = (data_dir / "node.log").read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def stop_node(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def publish(url: str, texts: list[str]) -> None:
    """Sign each text as one test author and publish it; every one must be recorded (201)."""
    status = requests.get(f"{url}/chain/status", timeout=10).json()
    domain = domain_for(status["chain_id"], status["contracts"]["Registry"])
    author = Signer.dev(os.urandom(32))
    with requests.Session() as session:
        for text in texts:
            body = text.encode()
            message = content_message(
                author.address, body, "text/plain", "CC0-1.0", int(time.time())
            )
            signed = sign("content", author, domain, message)
            response = session.post(
                f"{url}/content",
                json={
                    "manifest": message,
                    "signature": "0x" + signed.signature.hex(),
                    "body_base64": base64.b64encode(body).decode(),
                },
                timeout=60,
            )
            if response.status_code != 201:
                raise SystemExit(f"publishing failed: {response.status_code} {response.text}")


def snapshot(url: str, data_dir: Path) -> dict:
    token = (data_dir / "node.token").read_text(encoding="ascii").strip()
    response = requests.post(
        f"{url}/snapshots", headers={"Authorization": f"Bearer {token}"}, timeout=600
    )
    if response.status_code != 200:
        raise SystemExit(f"snapshot failed: {response.status_code} {response.text}")
    return response.json()


class HealthUser(locust.FastHttpUser):
    wait_time = locust.constant(0)

    @locust.task
    def health(self) -> None:
        self.client.get("/health", name="/health")


class AskUser(locust.FastHttpUser):
    wait_time = locust.constant(0)
    queries: tuple[str, ...] = ()
    headers: dict[str, str] = {}  # noqa: RUF012 (read-only; a paid run would put a voucher here)

    def on_start(self) -> None:
        self.rng = random.Random(id(self))

    @locust.task
    def ask(self) -> None:
        query = self.rng.choice(self.queries)
        self.client.post("/ask", json={"query": query, "k": K}, headers=self.headers, name="/ask")


def what_failed(response, exception: BaseException | None) -> str:
    """The body of a failed answer, else the exception (a timeout, a dropped connection)."""
    try:
        text = response.text if response is not None else ""
    except Exception:  # a response that never arrived has no body to decode
        text = ""
    return text or repr(exception)


@dataclass
class Tally:
    """What one step's requests came back as: latencies (ms) of the answered ones, and the span
    from the first request sent to the last answer received (epoch seconds)."""

    latencies: list[float] = field(default_factory=list)
    limited: int = 0
    client_errors: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    first_sent: float = float("inf")
    last_done: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)  # what the non-2xx answers said

    def record(self, response, exception, response_time: float, start_time: float, **_) -> None:
        self.first_sent = min(self.first_sent, start_time)
        self.last_done = max(self.last_done, start_time + response_time / 1000)
        code = getattr(response, "status_code", 0) or 0
        if 200 <= code < 300 and exception is None:
            self.latencies.append(response_time)
            return
        self.failures[f"{code} {what_failed(response, exception)[:160]}"] += 1
        if code == 429:
            self.limited += 1
        elif 400 <= code < 500:
            self.client_errors += 1
        elif code >= 500:
            self.server_errors += 1
        else:
            self.transport_errors += 1


@dataclass(frozen=True)
class Step:
    endpoint: str
    users: int
    tally: Tally
    node_cpu: float  # CPU seconds per second of the node process over the step
    client_cpu: float  # of this process (locust)

    @property
    def span(self) -> float:
        return self.tally.last_done - self.tally.first_sent

    @property
    def rps(self) -> float:
        return len(self.tally.latencies) / self.span

    def percentile(self, q: int) -> float:
        values = self.tally.latencies
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def cpu_seconds(process: psutil.Process) -> float:
    """CPU seconds the process and any children have used so far."""
    total = 0.0
    for each in (process, *process.children(recursive=True)):
        times = each.cpu_times()
        total += times.user + times.system
    return total


def run_step(
    *, user: type[locust.FastHttpUser], url: str, users: int, seconds: float, node: psutil.Process
) -> Step:
    """`users` clients of `user` sending requests for `seconds`, then the answers in flight
    waited for. Every request counts, those in flight at the end too, and the rate is over the
    span from the first sent to the last answered: with many clients sharing the node, answers
    come in bursts, and a fixed window would count one burst more or less by chance."""
    tally = Tally()
    env = Environment(user_classes=[user], host=url, stop_timeout=STOP_TIMEOUT_S)
    env.events.request.add_listener(tally.record)
    start, node_start, client_start = time.monotonic(), cpu_seconds(node), time.process_time()
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(seconds)
    runner.quit()  # waits for every client's request in flight (`stop_timeout`)
    elapsed = time.monotonic() - start
    node_cpu = (cpu_seconds(node) - node_start) / elapsed
    client_cpu = (time.process_time() - client_start) / elapsed
    endpoint = "/health" if user is HealthUser else "/ask"
    return Step(endpoint, users, tally, node_cpu, client_cpu)


def report(steps: list[Step]) -> Table:
    table = Table(
        "endpoint", "clients", "answered", "span s", "req/s", "p50 ms", "p99 ms", "429",
        "other 4xx", "5xx", "errors", "node CPU", "client CPU", "ask / health",
        title="Load: asks under concurrency",
    )  # fmt: skip
    health = {step.users: step.rps for step in steps if step.endpoint == "/health"}
    for step in steps:
        ratio = step.rps / health[step.users] if step.endpoint == "/ask" else 1.0
        tally = step.tally
        table.add_row(
            step.endpoint,
            str(step.users),
            str(len(tally.latencies)),
            f"{step.span:.1f}",
            f"{step.rps:.1f}",
            f"{step.percentile(50):.0f}",
            f"{step.percentile(99):.0f}",
            str(tally.limited),
            str(tally.client_errors),
            str(tally.server_errors),
            str(tally.transport_errors),
            f"{step.node_cpu:.2f}",
            f"{step.client_cpu:.2f}",
            f"{ratio:.3f}",
        )
    return table


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per step")
    parser.add_argument("--users", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--passages", type=int, default=300, help="corpus size (at most 300)")
    parser.add_argument("--extra-config", default="", help="TOML appended to config.toml")
    return parser


def main() -> None:
    args = parser().parse_args()
    levels = [int(part) for part in args.users.split(",")]
    AskUser.queries = tuple(queries())
    with tempfile.TemporaryDirectory(prefix="aigora-load-") as tmp:
        data_dir = Path(tmp) / "node"
        with console.status("starting the node"):
            proc, url = start_node(data_dir, node_config(0) + args.extra_config)
        try:
            with console.status(f"publishing {args.passages} passages and snapshotting them"):
                publish(url, passages(args.passages))
                state = snapshot(url, data_dir)
            console.print(f"node at {url}, snapshot {state}")
            warm = requests.post(f"{url}/ask", json={"query": "warm up", "k": K}, timeout=120)
            if warm.status_code != 200:
                raise SystemExit(f"the warm-up ask failed: {warm.status_code} {warm.text}")
            node = psutil.Process(proc.pid)
            steps = []
            plan = [(user, users) for users in levels for user in (HealthUser, AskUser)]
            with Progress(
                TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                console=console,
            ) as progress:  # fmt: skip
                overall = progress.add_task("load steps", total=len(plan))
                for user, users in plan:
                    progress.update(overall, description=f"{user.__name__} x {users}")
                    step = run_step(
                        user=user, url=url, users=users, seconds=args.seconds, node=node
                    )
                    steps.append(step)
                    progress.advance(overall)
        finally:
            stop_node(proc)
        console.print(report(steps))
        broken = sum(step.tally.server_errors + step.tally.transport_errors for step in steps)
        for step in steps:
            for said, count in step.tally.failures.most_common(5):
                console.print(f"{step.endpoint} x {step.users}: {count} x {said}", markup=False)
        if broken:
            console.print(f"[red]{broken} requests got a 5xx or no answer[/red]; the node's log:")
            console.print(node_log(data_dir), markup=False)
            raise SystemExit(1)


if __name__ == "__main__":
    main()
