"""What verification reads from the registry: operators, models, snapshots and anchored batches.

`RegistryFacts` is the narrow interface the checks use, so they stay pure functions over facts;
`ChainRegistry` reads the facts from a live `Registry` contract on any backend.
"""

from dataclasses import dataclass
from typing import Protocol

from web3.contract import Contract

from aigora.chain import Chain, read_batch, read_model, read_operator, read_snapshot


@dataclass(frozen=True)
class OperatorFacts:
    """`unbonding_since` is when the operator last asked to unbond (None if it never did)."""

    registered: bool
    slashed: bool
    bond: int
    endpoint: str
    active: bool = True
    unbonding_since: int | None = None


@dataclass(frozen=True)
class SnapshotFacts:
    model_root: bytes
    registrant: str
    item_count: int
    timestamp: int


@dataclass(frozen=True)
class BatchFacts:
    root: bytes
    kind: int
    timestamp: int
    anchorer: str = ""
    first_nonce: int = 0
    last_nonce: int = 0


class RegistryFacts(Protocol):
    def operator(self, address: str) -> OperatorFacts: ...
    def model_registered(self, root: bytes) -> bool: ...
    def snapshot(self, operator: str, root: bytes) -> SnapshotFacts | None: ...
    def snapshots_of(self, operator: str, model_root: bytes) -> list[tuple[bytes, int]]: ...
    def batch(self, batch_id: int) -> BatchFacts | None: ...


class ChainRegistry:
    """`RegistryFacts` read from the `Registry` contract at `registry` on `chain`."""

    def __init__(self, chain: Chain, registry: Contract) -> None:
        self.chain = chain
        self.registry = registry

    def operator(self, address: str) -> OperatorFacts:
        record = read_operator(self.chain, self.registry, address)
        min_bond = self.chain.call(self.registry.functions.min_bond())
        since = None
        if record.unbond_ready_at:
            delay = self.chain.call(self.registry.functions.unbonding_delay())
            since = record.unbond_ready_at - delay
        return OperatorFacts(
            record.registered,
            record.slashed,
            record.bond,
            record.endpoint,
            active=record.registered and not record.slashed and record.bond >= min_bond,
            unbonding_since=since,
        )

    def model_registered(self, root: bytes) -> bool:
        return read_model(self.chain, self.registry, root).registered

    def snapshot(self, operator: str, root: bytes) -> SnapshotFacts | None:
        record = read_snapshot(self.chain, self.registry, operator, root)
        if not record.registered:
            return None
        return SnapshotFacts(
            record.model_root, record.registrant, record.item_count, record.timestamp
        )

    def snapshots_of(self, operator: str, model_root: bytes) -> list[tuple[bytes, int]]:
        """(root, registration time) of every snapshot `operator` registered for `model_root`,
        oldest first: the registrations are read from the registry's deployment block, in
        bounded ranges, filtered by the event's indexed registrant and model root."""
        found = []
        registrations = self.chain.events(
            self.registry.events.SnapshotRegistered,
            self.chain.deployment_block(self.registry.address),
            argument_filters={"registrant": operator, "model_root": model_root},
        )
        for log in registrations:
            facts = self.snapshot(operator, bytes(log.args.snapshot_root))
            if facts is not None and facts.model_root == model_root:
                found.append((bytes(log.args.snapshot_root), facts.timestamp))
        return sorted(found, key=lambda item: item[1])

    def batch(self, batch_id: int) -> BatchFacts | None:
        record = read_batch(self.chain, self.registry, batch_id)
        if not record.exists:
            return None
        return BatchFacts(
            record.root,
            record.kind,
            record.timestamp,
            record.anchorer,
            record.first_nonce,
            record.last_nonce,
        )
