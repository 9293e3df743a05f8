"""What verification reads from the registry: operators, models, snapshots, anchored batches, and
the contracts behind them.

`RegistryFacts` is the narrow interface the checks use, so they stay pure functions over facts;
`ChainRegistry` reads the facts from a live `Registry` contract on any backend.

A registry's word is worth something only if a cheater can lose its bond: `deployment()` says
whether the registry and the slasher it names run the code compiled from our own Vyper sources
(the code part of what is deployed; Vyper appends the immutables after it, and those are read
through their public getters), so no verdict assumes what it can check.
"""

import threading
import weakref
from dataclasses import dataclass, field, replace
from typing import Protocol

from web3.contract import Contract

from aigora.chain import (
    ZERO_ADDRESS,
    Chain,
    compile_contract,
    last_receipt_nonce,
    read_batch,
    read_model,
    read_operator,
    read_snapshot,
)

DISPUTES_PARAMETERS: tuple[tuple[str, str, str], ...] = (
    ("challenger_bond", "challenger bond", "base units"),
    ("challenge_window", "challenge window", "s"),
    ("response_window", "response window", "s"),
    ("stale_grace", "stale grace", "s"),
    ("treasury_bps", "treasury share", "bps"),
)
"""The disputes contract's economic parameters a verdict states: (getter, name, unit). The one
place to edit when the contract's getters change (a test ties each getter to the compiled ABI)."""

DISPUTES_LINKS = ("registry", "token", "step_verifier", "treasury")
"""The disputes contract's address getters: what it slashes for, pays in, steps with, burns to."""


@dataclass(frozen=True)
class OperatorFacts:
    """`unbonding_since` is when the operator last asked to unbond (None if it never did)."""

    registered: bool
    slashed: bool
    bond: int
    endpoint: str
    active: bool = True
    unbonding_since: int | None = None
    anchored_through: int = 0
    """The last receipt nonce the operator has anchored on-chain."""


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


@dataclass(frozen=True)
class DeploymentFacts:
    """The contracts behind a registry, as deployed. `registry_genuine`: the registry runs our
    Registry.vy code (else nothing else was read). `slasher` is ZERO_ADDRESS when none is named;
    `slasher_genuine`: it runs our Disputes.vy code, and only then are `links` (getter: address,
    `DISPUTES_LINKS`) and `parameters` (getter: value, `DISPUTES_PARAMETERS`) read from it.
    `step_verifier_genuine`: its step verifier runs our StepVerifier.vy code."""

    registry: str
    registry_genuine: bool
    token: str = ZERO_ADDRESS
    unbonding_delay: int = 0
    slasher: str = ZERO_ADDRESS
    slasher_genuine: bool = False
    links: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)
    step_verifier_genuine: bool = False

    @property
    def stale_grace_s(self) -> int:
        """How long the disputes contract lets an operator answer from its previous snapshot."""
        return self.parameters["stale_grace"]


class RegistryFacts(Protocol):
    def deployment(self) -> DeploymentFacts: ...
    def operator(self, address: str) -> OperatorFacts: ...
    def model_registered(self, root: bytes) -> bool: ...
    def snapshot(self, operator: str, root: bytes) -> SnapshotFacts | None: ...
    def snapshots_of(self, operator: str, model_root: bytes) -> list[tuple[bytes, int]]: ...
    def batch(self, batch_id: int) -> BatchFacts | None: ...
    def now(self) -> int: ...


class ChainRegistry:
    """`RegistryFacts` read from the `Registry` contract at `registry` on `chain`."""

    def __init__(self, chain: Chain, registry: Contract) -> None:
        self.chain = chain
        self.registry = registry

    def deployment(self) -> DeploymentFacts:
        """The registry's code check (once per chain connection and registry) and its slasher's
        (once per slasher it names): one `slasher()` call per verification after the first."""
        address = self.registry.address
        with _LOCK:
            checked = _CHECKED.setdefault(self.chain, {})
            base = checked.get((address, None))
        if base is None:
            base = self._registry_facts()
            with _LOCK:
                checked[(address, None)] = base
        if not base.registry_genuine:
            return base
        slasher = str(self.chain.call(self.registry.functions.slasher()))
        with _LOCK:
            facts = checked.get((address, slasher))
        if facts is None:
            facts = self._slasher_facts(base, slasher)
            with _LOCK:
                checked[(address, slasher)] = facts
        return facts

    def _registry_facts(self) -> DeploymentFacts:
        address = self.registry.address
        if not runs_contract(self.chain.code(address), "Registry"):
            return DeploymentFacts(registry=address, registry_genuine=False)
        functions = self.registry.functions
        return DeploymentFacts(
            registry=address,
            registry_genuine=True,
            token=str(self.chain.call(functions.token())),
            unbonding_delay=int(self.chain.call(functions.unbonding_delay())),
        )

    def _slasher_facts(self, base: DeploymentFacts, slasher: str) -> DeploymentFacts:
        if slasher == ZERO_ADDRESS or not runs_contract(self.chain.code(slasher), "Disputes"):
            return replace(base, slasher=slasher)
        disputes = self.chain.contract("Disputes", slasher)
        links = {name: str(self.chain.call(disputes.functions[name]())) for name in DISPUTES_LINKS}
        parameters = {
            name: int(self.chain.call(disputes.functions[name]()))
            for name, _, _ in DISPUTES_PARAMETERS
        }
        return replace(
            base,
            slasher=slasher,
            slasher_genuine=True,
            links=links,
            parameters=parameters,
            step_verifier_genuine=runs_contract(
                self.chain.code(links["step_verifier"]), "StepVerifier"
            ),
        )

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
            anchored_through=last_receipt_nonce(self.chain, self.registry, address),
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

    def now(self) -> int:
        """The chain's time: what a dispute filed now would be judged at."""
        return self.chain.now()

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


_LOCK = threading.Lock()
_CHECKED: "weakref.WeakKeyDictionary[Chain, dict[tuple[str, str | None], DeploymentFacts]]" = (
    weakref.WeakKeyDictionary()
)
"""Deployment facts per chain connection, by (registry, slasher): code at an address never
changes, so a connection checks each contract once. Keyed by the connection, not the chain id,
because fresh dev chains reuse both chain ids and contract addresses."""


def runs_contract(code: bytes, name: str) -> bool:
    """Whether deployed `code` is the runtime compiled from our `contracts/<name>.vy`: the code
    part must be byte-identical; what follows it is the immutables section, which callers read
    through the contract's getters."""
    runtime = compile_contract(name).runtime
    return len(code) >= len(runtime) and code[: len(runtime)] == runtime
