"""Typed readers for the structs our contracts expose: each decoded once, here, into a named type.

A public getter of a Vyper struct returns a bare tuple over JSON-RPC; indexing it elsewhere
(`operators(a)[3]`) silently breaks when a field is added. Every reader below builds a frozen
dataclass whose fields are the struct's fields in declaration order, and `check_layout` (run by
the tests against the compiled ABI) proves the names and order match the contract.
"""

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from web3.contract import Contract

from aigora.chain.client import Chain

T = TypeVar("T")
ZERO_ADDRESS = "0x" + "00" * 20


def _decode(cls: type[T], raw: Any) -> T:
    values = list(raw)
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if len(values) != len(names):
        raise ValueError(f"{cls.__name__} has {len(names)} fields, the call gave {len(values)}")
    return cls(**{name: _plain(value) for name, value in zip(names, values, strict=True)})


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, bool | int | str):
        return value
    return str(value)


@dataclass(frozen=True)
class OperatorRecord:
    """`Registry.operators(address)`; `registered_at` is 0 for an address that never bonded."""

    bond: int
    unbonding: int
    unbond_ready_at: int
    registered_at: int
    endpoint: str
    slashed: bool

    @property
    def registered(self) -> bool:
        return self.registered_at != 0


@dataclass(frozen=True)
class BatchRecord:
    """`Registry.batches(id)`; `root` is 32 zero bytes for an unknown id. A receipts batch covers
    its anchorer's receipt nonces `first_nonce` to `last_nonce` (both 0 for other kinds)."""

    root: bytes
    kind: int
    anchorer: str
    item_count: int
    timestamp: int
    block_number: int
    first_nonce: int
    last_nonce: int

    @property
    def exists(self) -> bool:
        return self.root != bytes(32)

    def covers(self, nonce: int) -> bool:
        return self.first_nonce <= nonce <= self.last_nonce


@dataclass(frozen=True)
class ModelRecord:
    """`Registry.models(root)`; `timestamp` is 0 for an unregistered model."""

    registrant: str
    engine_version: str
    timestamp: int

    @property
    def registered(self) -> bool:
        return self.timestamp != 0


@dataclass(frozen=True)
class SnapshotRegistration:
    """`Registry.snapshots(registrant, root)`; `timestamp` is 0 for an unregistered snapshot."""

    model_root: bytes
    registrant: str
    item_count: int
    timestamp: int

    @property
    def registered(self) -> bool:
        return self.timestamp != 0


@dataclass(frozen=True)
class SlashRecord:
    """`Registry.slashes(operator)`: `window_ends` is 0 while the operator was never slashed.
    `pool` is the challengers' part of `taken`; after the window, `shares` (fixed by the first
    collect: winners plus `pending`, the disputes still open that may share) divides it."""

    taken: int
    pool: int
    window_ends: int
    winners: int
    pending: int
    shares: int
    rest_burned: bool

    def share(self) -> int:
        """What one winner collects: pool // shares, or, before the shares are fixed, what it
        would be if they were fixed now."""
        return self.pool // max(self.shares or self.winners + self.pending, 1)

    @property
    def slashed(self) -> bool:
        return self.window_ends != 0


@dataclass(frozen=True)
class ShareRecord:
    """`Registry.shares(dispute_id)`: the reward a won dispute may collect (`challenger` is the
    zero address when there is none, or it was collected)."""

    operator: str
    challenger: str

    @property
    def owed(self) -> bool:
        return self.challenger != ZERO_ADDRESS


@dataclass(frozen=True)
class DisputeRecord:
    """`Disputes.disputes(id)`; `status` is 0 for an unknown id (see `DISPUTE_STATUSES`)."""

    digest: bytes
    kind: int
    challenger: str
    operator: str
    passage_key: bytes
    result_hash: bytes
    deadline: int
    status: int


@dataclass(frozen=True)
class GameRecord:
    """`Disputes.games(id)`: the state of an embedding game (`phase` as the contract's code)."""

    trace_root: bytes
    model_root: bytes
    phase: int
    op: int
    tokens: int
    item_size: int
    byte_count: int
    chunk_count: int
    height: int
    position: int
    node: bytes
    left: bytes
    right: bytes


@dataclass(frozen=True)
class JobRecord:
    """`Bounties.jobs(id)`; `requester` is the zero address for an unknown job."""

    requester: str
    operator: str
    escrowed: int
    released: int
    refunded: int
    ends_at: int


@dataclass(frozen=True)
class ChannelRecord:
    """`Channels.channel(asker, operator)`: `balance` is what is deposited and neither redeemed
    nor withdrawn, `redeemed` all the operator has been paid over the channel's life,
    `unlocks_at` when a requested withdrawal may be sent (0: none requested), `nonce` the relayed
    withdrawal requests used. An unknown channel reads as all zeros."""

    balance: int
    redeemed: int
    unlocks_at: int
    nonce: int

    @property
    def withdrawal_requested(self) -> bool:
        return self.unlocks_at != 0


@dataclass(frozen=True)
class ProposalRecord:
    """`Governor.proposals(id)`: a policy proposal (id 0 is the genesis policy, executed at
    deployment). `base_policy` is the policy_hash in force when it was proposed, `snapshot_*`
    the standing it is voted with, `standing_*` the standing it would enact. An unknown id reads
    as all zeros (`exists` is False)."""

    proposer: str
    policy_hash: bytes
    base_policy: bytes
    standing_root: bytes
    standing_total: int
    snapshot_root: bytes
    snapshot_total: int
    vote_end: int
    eta: int
    for_power: int
    against_power: int
    abstain_power: int
    executed: bool

    @property
    def exists(self) -> bool:
        return self.policy_hash != bytes(32)


@dataclass(frozen=True)
class EnactmentRecord:
    """`Governor.enactments(i)`: the i-th policy put in force (0: genesis), by which proposal,
    at which block and time; it stays in force until enactment i + 1."""

    proposal_id: int
    policy_hash: bytes
    standing_root: bytes
    standing_total: int
    block_number: int
    timestamp: int


LAYOUTS: dict[tuple[str, str], type] = {
    ("Registry", "operators"): OperatorRecord,
    ("Registry", "batches"): BatchRecord,
    ("Registry", "models"): ModelRecord,
    ("Registry", "snapshots"): SnapshotRegistration,
    ("Registry", "slashes"): SlashRecord,
    ("Registry", "shares"): ShareRecord,
    ("Disputes", "disputes"): DisputeRecord,
    ("Disputes", "games"): GameRecord,
    ("Bounties", "jobs"): JobRecord,
    ("Channels", "channel"): ChannelRecord,
    ("Governor", "proposals"): ProposalRecord,
    ("Governor", "enactments"): EnactmentRecord,
}
"""Which getter each record decodes: `check_layout` ties the two."""


def read_operator(chain: Chain, registry: Contract, address: str) -> OperatorRecord:
    return _decode(OperatorRecord, chain.call(registry.functions.operators(address)))


def read_batch(chain: Chain, registry: Contract, batch_id: int) -> BatchRecord:
    return _decode(BatchRecord, chain.call(registry.functions.batches(batch_id)))


def last_receipt_nonce(chain: Chain, registry: Contract, operator: str) -> int:
    """The highest receipt nonce `operator` has anchored (0 if none): the registry takes no
    receipts batch of it at or below this again."""
    batch_id = chain.call(registry.functions.last_receipt_batch(operator))
    return read_batch(chain, registry, batch_id).last_nonce if batch_id else 0


def read_model(chain: Chain, registry: Contract, root: bytes) -> ModelRecord:
    return _decode(ModelRecord, chain.call(registry.functions.models(root)))


def read_snapshot(
    chain: Chain, registry: Contract, registrant: str, root: bytes
) -> SnapshotRegistration:
    """`registrant`'s registration of snapshot `root` (snapshots are registered per operator)."""
    return _decode(SnapshotRegistration, chain.call(registry.functions.snapshots(registrant, root)))


def read_slash(chain: Chain, registry: Contract, operator: str) -> SlashRecord:
    return _decode(SlashRecord, chain.call(registry.functions.slashes(operator)))


def read_share(chain: Chain, registry: Contract, dispute_id: int) -> ShareRecord:
    return _decode(ShareRecord, chain.call(registry.functions.shares(dispute_id)))


def read_dispute(chain: Chain, disputes: Contract, dispute_id: int) -> DisputeRecord:
    return _decode(DisputeRecord, chain.call(disputes.functions.disputes(dispute_id)))


def read_game(chain: Chain, disputes: Contract, dispute_id: int) -> GameRecord:
    return _decode(GameRecord, chain.call(disputes.functions.games(dispute_id)))


def read_job(chain: Chain, bounties: Contract, job_id: bytes) -> JobRecord:
    return _decode(JobRecord, chain.call(bounties.functions.jobs(job_id)))


def read_channel(chain: Chain, channels: Contract, asker: str, operator: str) -> ChannelRecord:
    return _decode(ChannelRecord, chain.call(channels.functions.channel(asker, operator)))


def read_proposal(chain: Chain, governor: Contract, proposal_id: int) -> ProposalRecord:
    return _decode(ProposalRecord, chain.call(governor.functions.proposals(proposal_id)))


def read_enactment(chain: Chain, governor: Contract, index: int) -> EnactmentRecord:
    return _decode(EnactmentRecord, chain.call(governor.functions.enactments(index)))


def struct_fields(abi: list[dict[str, Any]], function: str) -> list[str]:
    """The field names, in order, of the struct a getter in `abi` returns."""
    (entry,) = [e for e in abi if e.get("type") == "function" and e.get("name") == function]
    (output,) = entry["outputs"]
    return [component["name"] for component in output["components"]]


def check_layout(record: type, abi: list[dict[str, Any]], function: str) -> None:
    """Raise unless `record`'s fields are the struct's fields, by name and in order."""
    expected = struct_fields(abi, function)
    actual = [f.name for f in fields(record)]
    if actual != expected:
        raise AssertionError(f"{record.__name__} fields {actual} != {function} struct {expected}")
