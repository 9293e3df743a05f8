"""Where a node keeps its state and how it is configured.

A data directory holds everything a node owns: `config.toml`, `keys/` (encrypted keystores), the
SQLite database, `blobs/` and the embedded chain. It is `--data-dir`, else `$AIGORA_HOME`, else
`~/.aigora`. `config.toml` is optional; every key has a default, and unknown keys are an error so a
typo never silently falls back to a default.
"""

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from aigora.chain import WITHDRAW_DELAY_S
from aigora.core.errors import ConfigError
from aigora.store.db import sqlite_url

CONFIG_FILE = "config.toml"
DEFAULT_PORT = 8470
KEY_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


def resolve_data_dir(data_dir: Path | None) -> Path:
    """The data directory a command should use: the flag, else $AIGORA_HOME, else ~/.aigora."""
    if data_dir is not None:
        return data_dir.expanduser().resolve()
    env = os.environ.get("AIGORA_HOME")
    return Path(env).expanduser().resolve() if env else Path.home() / ".aigora"


class ChainConfig(BaseModel):
    """`url` is "embedded" (py-evm in-process, state in the data directory) or a JSON-RPC URL.
    `token` is an existing ERC-20 to pay in (e.g. a stablecoin); unset on dev chains, where the
    node deploys its own dev token. Event scans read at most `max_log_range` blocks per
    `eth_getLogs` request (providers refuse wider ranges; 1,000 suits most)."""

    model_config = ConfigDict(extra="forbid")

    url: str = "embedded"
    token: str | None = None
    min_bond: int = Field(default=100 * 10**18, gt=0)
    unbonding_delay_s: int = Field(default=7 * 24 * 3600, ge=0)
    withdraw_delay_s: int = Field(default=WITHDRAW_DELAY_S, ge=1)
    max_log_range: int = Field(default=1_000, ge=1)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value != "embedded" and not value.startswith(("http://", "https://")):
            raise ValueError('must be "embedded" or an http(s):// JSON-RPC URL')
        return value

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("0x") and len(value) == 42):
            raise ValueError("must be a 0x-prefixed 20-byte address")
        return value


HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
WILDCARD_HOSTS = ("0.0.0.0", "::")
"""Hosts that mean every interface: the node is reached on loopback from its own machine."""


class NodeSection(BaseModel):
    """`host` is the address the node listens on: loopback by default; `0.0.0.0` (or `::`) for
    every interface, as behind a reverse proxy. `trusted_proxies` are the addresses or networks
    (`10.0.0.0/8`) of proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` the node believes;
    from anyone else those headers are ignored, so a client cannot pick its own address (and
    with it its rate limit)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    operator_key: str = Field(default="operator", pattern=KEY_NAME_PATTERN)
    anchor_interval_s: int = Field(default=30, ge=0)  # 0: anchor only when asked
    trusted_proxies: list[str] = []

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            pass
        if not HOSTNAME.match(value):
            raise ValueError(
                "must be an IP address (e.g. 0.0.0.0 for every interface) or a hostname"
            )
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"proxy {proxy!r} must be an IP address or network") from None
        return value


class LimitsConfig(BaseModel):
    """What one client may ask of a public node (`docs/security.md`). A client is its address
    (an IPv6 one by its /64), as the socket or a trusted proxy says; the operator's credential
    is never limited. Per minute: `asks_per_minute` asks and verifications (each runs the
    engine), `writes_per_minute` signed items and other public writes; past either, 429 with
    `Retry-After`. A request body is at most `max_body_bytes` (content and job specs have their
    own, larger, caps); past it, 413. Items not yet anchored may number at most
    `pending_per_author` per signing address and `pending_total` in all: fresh keys cost
    nothing, so the total is what bounds a flood, and anchoring empties it."""

    model_config = ConfigDict(extra="forbid")

    asks_per_minute: int = Field(default=30, ge=1)
    writes_per_minute: int = Field(default=60, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    pending_per_author: int = Field(default=200, ge=1)
    pending_total: int = Field(default=20_000, ge=1)


class DatabaseConfig(BaseModel):
    """`url` is any SQLAlchemy URL; unset means `aigora.db` (SQLite) in the data directory."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = None


class ReputationConfig(BaseModel):
    """`seeds` are the pre-trusted attesters of seeded trust (default: the node's operator);
    spread them across viewpoints, since trust stays close to the seeds."""

    model_config = ConfigDict(extra="forbid")

    seeds: list[str] = []
    damping: float = Field(default=0.3, gt=0, lt=1)


class AnswersConfig(BaseModel):
    """What an answer costs and which content the snapshot admits. `fee` is in the token's
    smallest unit (a decimal string, like every amount); above 0 an ask is answered against a
    voucher on the asker's channel (`docs/payouts.md`, "Paid asks"), or for free to the operator.
    The node redeems its vouchers every `redeem_interval_s` (and at once in a channel whose
    asker asked for its deposit back). By default everything published is admitted;
    `min_score` admits only content whose newest reputation score reaches it."""

    model_config = ConfigDict(extra="forbid")

    fee: str = Field(default="0", pattern=r"^[0-9]{1,78}$")
    redeem_interval_s: int = Field(default=3600, ge=0)  # 0: at every background pass
    refresh_interval_s: int = Field(default=60, ge=0)  # 0: only when asked
    min_score: float | None = None
    admit_unscored: bool = True
    exclude_statuses: list[Literal["helpful", "not helpful", "needs more ratings"]] = []


class PayoutsConfig(BaseModel):
    """How epochs split money. `operator_bps` of every answer's fee stays with the operator; the
    rest goes to the passages returned. `training_pool` (base units per epoch, funded by the
    operator) is split by KNN-Shapley value of the snapshot's labeled passages (`item_labels`, a
    JSON object of CID to label) against `validation` (JSON lines `{"text", "label"}`); paths
    are relative to the data directory. Passages whose int8 embeddings have a dot product of at
    least `duplicate_threshold` with an earlier one are copies and earn nothing from it.
    `relay_fee` is what the node asks, at most, for sending someone's claim: kept out of the
    payout only when the account signs it (EIP-712 `ClaimFee`, `GET /claims/{account}/fee`)."""

    model_config = ConfigDict(extra="forbid")

    operator_bps: int = Field(default=2000, ge=0, le=10_000)
    training_pool: str = Field(default="0", pattern=r"^[0-9]{1,78}$")
    validation: str = ""
    item_labels: str = ""
    k: int = Field(default=5, ge=1)
    duplicate_threshold: int = Field(default=15_500, ge=1)
    relay_fee: str = Field(default="0", pattern=r"^[0-9]{1,78}$")


class LabelsConfig(BaseModel):
    """When a label is paid: its item's aggregated posterior reaches `min_posterior`, and its
    labeler answered at least `min_gold_answers` gold items with `min_gold_accuracy`."""

    model_config = ConfigDict(extra="forbid")

    min_posterior: float = Field(default=0.9, gt=0, le=1)
    min_gold_accuracy: float = Field(default=0.7, gt=0, le=1)
    min_gold_answers: int = Field(default=3, ge=1)


class VerifyConfig(BaseModel):
    """What this node's verifications accept. `model` pins the one model root an answer may use
    (an operator may register an edited model openly: registration says nothing about what the
    model is); unset, any model its operator registered."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{64}$")


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http(s):// URL")
    return value


OptionalHttpUrl = Annotated[str | None, AfterValidator(_http_url)]
"""Unset, or an http(s):// URL (a peer's endpoint, a model's)."""


class NetworkConfig(BaseModel):
    """Joining a network (`docs/network.md`). `file` is the network file (relative to the data
    directory; unset: `network.json` there if present, else no network: the node deploys its
    own contracts). `public_url` is what the node registers as its endpoint for peers (default:
    its own host and port). `peers` are node URLs to fetch batches from besides the registered
    operators. `sync_interval_s` is how often the node imports what peers anchored (0: only
    when asked)."""

    model_config = ConfigDict(extra="forbid")

    file: str = ""
    public_url: OptionalHttpUrl = None
    peers: list[str] = []
    sync_interval_s: int = Field(default=10, ge=0)

    @field_validator("peers")
    @classmethod
    def _peers(cls, value: list[str]) -> list[str]:
        for peer in value:
            if not peer.startswith(("http://", "https://")):
                raise ValueError(f"peer {peer!r} must be an http(s):// URL")
        return value


class AgentConfig(BaseModel):
    """The planner of `aigora agent run` (and the mandate compiler of `agent create`): the
    offline rules unless `model_url` names an OpenAI-compatible endpoint (its API base, such as
    `http://127.0.0.1:8000/v1`), whose `model` plans with tool calls; a request slower than
    `timeout_s` seconds, or any failure, hands that task to the rules. The API key is read from
    the environment variable `model_key_env` names (never from this file); it is sent only in the
    request's Authorization header."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_url: OptionalHttpUrl = None
    model: str = Field(default="default", min_length=1, max_length=200)
    model_key_env: str = Field(
        default="AIGORA_MODEL_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
    )
    timeout_s: float = Field(default=30.0, gt=0, le=600)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: NodeSection = NodeSection()
    chain: ChainConfig = ChainConfig()
    database: DatabaseConfig = DatabaseConfig()
    reputation: ReputationConfig = ReputationConfig()
    answers: AnswersConfig = AnswersConfig()
    payouts: PayoutsConfig = PayoutsConfig()
    labels: LabelsConfig = LabelsConfig()
    verify: VerifyConfig = VerifyConfig()
    network: NetworkConfig = NetworkConfig()
    limits: LimitsConfig = LimitsConfig()
    agent: AgentConfig = AgentConfig()


DEFAULT_CONFIG_TEXT = """\
# Aigora node configuration. Every key is optional; these are the defaults.

[node]
host = "127.0.0.1"           # "0.0.0.0": every interface (behind a reverse proxy, say)
port = 8470
operator_key = "operator"    # keystore name under keys/
anchor_interval_s = 30       # anchor pending content, attestations, receipts this often (0: never)
trusted_proxies = []         # e.g. ["127.0.0.1"]: believe X-Forwarded-For from these only

[chain]
url = "embedded"             # or a JSON-RPC URL such as "http://127.0.0.1:8545"
# token = "0x..."            # an existing ERC-20 to pay in; unset: deploy a dev token
# min_bond = 100000000000000000000
# unbonding_delay_s = 604800
# withdraw_delay_s = 86400   # ask channels: an asker's withdrawal waits this long after its
                             # request (the time the node has to redeem its vouchers)
max_log_range = 1000         # blocks per eth_getLogs request (many providers refuse more)

[database]
# url = "postgresql+psycopg://user@host/aigora"   # unset: SQLite file aigora.db here

[reputation]
# seeds = ["0x..."]          # pre-trusted attesters; unset: the operator
damping = 0.3                # chance per step of jumping back to the seeds

[answers]
fee = "0"                    # per answer, in the token's smallest unit (above 0: askers pay
                             # with a voucher on a deposit; the operator asks for free)
redeem_interval_s = 3600     # redeem accepted vouchers on-chain this often (0: every pass)
refresh_interval_s = 60      # snapshot newly admitted content this often (0: only when asked)
# min_score = 0.0            # admit only content scored at least this; unset: admit everything
admit_unscored = true        # with min_score: admit content no reputation run has scored yet
exclude_statuses = []        # e.g. ["not helpful"]

[payouts]
operator_bps = 2000          # the operator keeps 20% of each fee; the rest goes to the passages
training_pool = "0"          # per epoch, split by training value (needs the two files below)
# validation = "validation.jsonl"   # {"text": ..., "label": 0} per line
# item_labels = "labels.json"       # {"<cid>": 0, ...}
k = 5                        # neighbours in the KNN-Shapley valuation
duplicate_threshold = 15500  # int8 dot product at which a passage is a copy of an earlier one
relay_fee = "0"              # asked for relaying a claim; kept only when the account signs it

[labels]
min_posterior = 0.9          # pay a label when its item's aggregated posterior reaches this
min_gold_accuracy = 0.7      # ... and its labeler's accuracy on gold items reaches this
min_gold_answers = 3         # ... over at least this many gold answers

[verify]
# model = "0x..."            # accept answers under this model root only; unset: any registered

[network]
# file = "network.json"      # join this network (deploy nothing); unset: network.json here if
                             # present, else deploy this node's own contracts
# public_url = "http://203.0.113.7:8470"   # the endpoint peers fetch from; unset: host:port
peers = []                   # more node URLs to fetch batches from
sync_interval_s = 10         # import what peers anchored this often (0: only when asked)

[limits]                     # per client (its IP; IPv6 by /64); the operator is never limited
asks_per_minute = 30         # asks and verifications; past it, 429 with Retry-After
writes_per_minute = 60       # signed items and other public writes
max_body_bytes = 1048576     # a request body (content and job specs have larger caps); 413
pending_per_author = 200     # items not yet anchored, per signing address
pending_total = 20000        # ... and in all

[agent]                      # the planner of `aigora agent run`, the compiler of `agent create`
# model_url = "http://127.0.0.1:8000/v1"   # an OpenAI-compatible API; unset: the offline rules
model = "default"            # the model name at model_url
model_key_env = "AIGORA_MODEL_KEY"   # the environment variable holding its API key, if any
timeout_s = 30               # per request; past it (or on any failure) the rules plan the task
"""


def load_config(data_dir: Path) -> Config:
    """Read `config.toml` from the data directory (defaults when absent)."""
    path = data_dir / CONFIG_FILE
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None


def write_default_config(data_dir: Path) -> None:
    path = data_dir / CONFIG_FILE
    if not path.exists():
        path.write_text(DEFAULT_CONFIG_TEXT, encoding="utf-8")


def database_url(config: Config, data_dir: Path) -> str:
    return config.database.url or sqlite_url(data_dir / "aigora.db")
