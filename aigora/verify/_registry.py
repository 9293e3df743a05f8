"""What verification reads from the registry: operators, models, snapshots and anchored batches.

`RegistryFacts` is the narrow interface the checks use, so they stay pure functions over facts;
`ChainRegistry` reads the facts from a live `Registry` contract on any backend.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from aigora.chain import Chain

_EMPTY = bytes(32)


@dataclass(frozen=True)
class OperatorFacts:
    registered: bool
    slashed: bool
    bond: int
    endpoint: str


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


class RegistryFacts(Protocol):
    def operator(self, address: str) -> OperatorFacts: ...
    def model_registered(self, root: bytes) -> bool: ...
    def snapshot(self, root: bytes) -> SnapshotFacts | None: ...
    def snapshots_of(self, operator: str, model_root: bytes) -> list[tuple[bytes, int]]: ...
    def batch(self, batch_id: int) -> BatchFacts | None: ...


class ChainRegistry:
    """`RegistryFacts` read from the `Registry` contract at `registry` on `chain`."""

    def __init__(self, chain: Chain, registry: Any) -> None:
        self.chain = chain
        self.registry = registry

    def operator(self, address: str) -> OperatorFacts:
        bond, _unbonding, _ready, registered_at, endpoint, slashed = self.chain.call(
            self.registry.functions.operators(address)
        )
        return OperatorFacts(registered_at != 0, bool(slashed), int(bond), str(endpoint))

    def model_registered(self, root: bytes) -> bool:
        return self.chain.call(self.registry.functions.models(root))[2] != 0

    def snapshot(self, root: bytes) -> SnapshotFacts | None:
        model_root, registrant, count, timestamp = self.chain.call(
            self.registry.functions.snapshots(root)
        )
        if timestamp == 0:
            return None
        return SnapshotFacts(bytes(model_root), str(registrant), int(count), int(timestamp))

    def snapshots_of(self, operator: str, model_root: bytes) -> list[tuple[bytes, int]]:
        """(root, registration time) of every snapshot `operator` registered for `model_root`,
        oldest first."""
        found = []
        for log in self.chain.events(self.registry.events.SnapshotRegistered):
            if str(log.args.registrant).lower() == operator.lower():
                facts = self.snapshot(bytes(log.args.snapshot_root))
                if facts is not None and facts.model_root == model_root:
                    found.append((bytes(log.args.snapshot_root), facts.timestamp))
        return sorted(found, key=lambda item: item[1])

    def batch(self, batch_id: int) -> BatchFacts | None:
        root, kind, _anchorer, _count, timestamp, _block = self.chain.call(
            self.registry.functions.batches(batch_id)
        )
        if bytes(root) == _EMPTY:
            return None
        return BatchFacts(bytes(root), int(kind), int(timestamp))
