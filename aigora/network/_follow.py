"""Follow a network's registry and import every content and attestations batch anchored on it.

Two scans, each from the registry's deployment block, in bounded block ranges, resuming from a
persisted cursor (`scan_cursors`) whose every page is one transaction with what it recorded:
`OperatorRegistered` finds the peers (`network_peers`), `BatchAnchored` the batches to import
(`peer_batches`, pending until imported; this node's own batches are recorded as ours). Then
each pending batch, oldest first, is fetched from the anchorer's registered endpoint, else from
the configured peers, else from any other registered operator: the first source whose data
passes every check supplies it. A source that serves wrong data is named in the log and the
next one is tried; a batch nobody could supply stays pending, with its last error, for the next
pass. A node that was down resumes from its cursors, so it finds everything anchored meanwhile,
and imports each batch once.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.chain import Chain, read_operator
from aigora.core.eip712 import Domain
from aigora.network._batches import BadBatch, FoundBatch
from aigora.network._import import KINDS, import_batch
from aigora.network._sources import PeerSource, PeerUnavailable, PeerUnreachable
from aigora.store import (
    BlobStore,
    NetworkPeer,
    PeerBatch,
    move_cursor,
    peer_batch,
    read_cursor,
    scan_start,
    session_scope,
)

log = logging.getLogger(__name__)
BATCHES_SCAN = "registry.batches"
OPERATORS_SCAN = "registry.operators"
MAX_ATTEMPTS_LOGGED = 3
"""After this many failed passes a pending batch is logged at debug level only."""


@dataclass
class SyncReport:
    """One pass: batches found on the registry, imported, refused (source and reason), and still
    pending (nobody could supply them yet)."""

    found: int = 0
    imported: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    pending: int = 0


@dataclass(frozen=True)
class Network:
    """What following needs: the chain, the registry, the signing domain, this node's account
    and public URL (never fetched from), and peers to try besides the registered ones."""

    chain: Chain
    registry: Contract
    domain: Domain
    account: str
    own_url: str | None = None
    peers: tuple[str, ...] = ()
    peer_timeout_s: float = 30.0


def follow_operators(network: Network, db: Engine) -> int:
    """Record every operator registered since the cursor; returns how many were new."""
    return _scan(network, db, OPERATORS_SCAN, network.registry.events.OperatorRegistered)


def follow_batches(network: Network, db: Engine) -> int:
    """Record every content or attestations batch anchored since the cursor; returns how many."""
    return _scan(network, db, BATCHES_SCAN, network.registry.events.BatchAnchored)


def _scan(network: Network, db: Engine, name: str, event: Any, *, retried: bool = False) -> int:
    chain, registry = network.chain, network.registry
    chain_id, address = chain.chain_id, registry.address
    latest = chain.block_number()
    with session_scope(db) as session:
        cursor = read_cursor(session, name, chain_id, address)
    start = scan_start(cursor, chain.deployment_block(address), latest)
    record = _record_peer if name == OPERATORS_SCAN else _record_batch
    recorded = 0
    for last_block, logs in chain.event_pages(event, start, latest):
        try:
            with session_scope(db) as session:
                page = sum(record(session, network, entry) for entry in logs)
                move_cursor(session, name, chain_id, address, last_block)
        except IntegrityError:
            # Another process recorded this page first (rows and cursor are unique): ours rolled
            # back whole; read on, once, from where that process's cursor now stands.
            if retried:
                raise
            return recorded + _scan(network, db, name, event, retried=True)
        recorded += page
    return recorded


def _record_peer(session: Session, network: Network, entry: Any) -> int:
    chain_id, registry = network.domain.chain_id, network.registry.address
    operator = str(entry.args.operator)
    known = session.scalar(
        select(NetworkPeer.id).where(
            NetworkPeer.chain_id == chain_id,
            NetworkPeer.registry_address == registry,
            NetworkPeer.address == operator,
        )
    )
    if known is not None:
        return 0
    session.add(NetworkPeer(chain_id=chain_id, registry_address=registry, address=operator))
    return 1


def _record_batch(session: Session, network: Network, entry: Any) -> int:
    kind = int(entry.args.kind)
    if kind not in KINDS:
        return 0
    chain_id, registry = network.domain.chain_id, network.registry.address
    batch_id = int(entry.args.batch_id)
    if peer_batch(session, chain_id, registry, batch_id) is not None:
        return 0
    anchorer = str(entry.args.anchorer)
    ours = anchorer.lower() == network.account.lower()
    session.add(
        PeerBatch(
            chain_id=chain_id,
            registry_address=registry,
            batch_id=batch_id,
            kind=kind,
            anchorer=anchorer,
            root="0x" + bytes(entry.args.root).hex(),
            item_count=int(entry.args.item_count),
            block_number=int(entry.blockNumber),
            tx_hash="0x" + bytes(entry.transactionHash).hex(),
            state="ours" if ours else "pending",
            attempts=0,
            updated_at=datetime.now(UTC),
        )
    )
    return 1


RETRY_FIRST_S = 10
RETRY_MAX_S = 3600


def retry_due(attempts: int, last_tried: datetime, now: datetime) -> bool:
    """Whether a batch nobody could supply is tried again: at once the first time, then after
    10 s, 20 s, 40 s, ... up to an hour. A flood of junk batches (anchoring is open to anyone)
    then costs each node a few requests an hour per batch, not a round of requests per pass."""
    if attempts == 0:
        return True
    delay = min(RETRY_FIRST_S * 2 ** min(attempts - 1, 20), RETRY_MAX_S)
    return (now - last_tried).total_seconds() >= delay


def pending_batches(db: Engine, network: Network, now: datetime | None = None) -> list[FoundBatch]:
    """The batches the scan found and nobody has supplied yet whose retry is due (all of them
    when `now` is None), oldest first."""
    with session_scope(db) as session:
        rows = session.scalars(
            select(PeerBatch)
            .where(
                PeerBatch.chain_id == network.domain.chain_id,
                PeerBatch.registry_address == network.registry.address,
                PeerBatch.state == "pending",
            )
            .order_by(PeerBatch.batch_id)
        ).all()
        return [
            FoundBatch(
                batch_id=row.batch_id,
                kind=row.kind,
                anchorer=row.anchorer,
                root=row.root,
                item_count=row.item_count,
                block_number=row.block_number,
                tx_hash=row.tx_hash,
            )
            for row in rows
            if now is None or retry_due(row.attempts, row.updated_at, now)
        ]


def peer_endpoints(db: Engine, network: Network) -> dict[str, str]:
    """Each registered operator's current endpoint, read from the registry (address: URL)."""
    with session_scope(db) as session:
        addresses = list(
            session.scalars(
                select(NetworkPeer.address)
                .where(
                    NetworkPeer.chain_id == network.domain.chain_id,
                    NetworkPeer.registry_address == network.registry.address,
                )
                .order_by(NetworkPeer.address)
            )
        )
    endpoints = {}
    for address in addresses:
        endpoint = read_operator(network.chain, network.registry, address).endpoint
        if endpoint.startswith(("http://", "https://")):
            endpoints[address] = endpoint.rstrip("/")
    return endpoints


def sources_for(batch: FoundBatch, endpoints: dict[str, str], network: Network) -> list[str]:
    """Where to fetch `batch` from, in order: its anchorer's endpoint, the configured peers,
    then every other registered operator (by address); never this node itself."""
    ordered = []
    if batch.anchorer in endpoints:
        ordered.append(endpoints[batch.anchorer])
    ordered.extend(peer.rstrip("/") for peer in network.peers)
    ordered.extend(url for address, url in sorted(endpoints.items()) if address != batch.anchorer)
    own = (network.own_url or "").rstrip("/")
    seen: set[str] = set()
    result = []
    for url in ordered:
        if url != own and url not in seen:
            seen.add(url)
            result.append(url)
    return result


def sync(network: Network, db: Engine, blobs: BlobStore, *, now: int) -> SyncReport:
    """One pass: scan for operators and batches, then import every pending batch."""
    report = SyncReport()
    follow_operators(network, db)
    report.found = follow_batches(network, db)
    pending = pending_batches(db, network, datetime.fromtimestamp(now, UTC))
    if not pending:
        return report
    one = _Pass(network, db, blobs, now, peer_endpoints(db, network), report)
    try:
        for batch in pending:
            try:
                errors = one.import_batch(batch)
            except Exception as exc:  # one broken batch must not stop the others (a bug: logged)
                log.exception("importing batch %d failed", batch.batch_id)
                errors = [f"{type(exc).__name__}: {exc}"]
            if errors is not None:
                _note_failure(db, network, batch, "; ".join(errors) or "no peer to fetch from")
                report.pending += 1
    finally:
        one.close()
    return report


@dataclass
class _Pass:
    """One pass's sources: a client per URL, and the URLs that could not be reached at all,
    which are not asked again this pass (a peer that hangs costs the pass one deadline, not one
    per batch)."""

    network: Network
    db: Engine
    blobs: BlobStore
    now: int
    endpoints: dict[str, str]
    report: SyncReport
    clients: dict[str, PeerSource] = field(default_factory=dict)
    unreachable: dict[str, str] = field(default_factory=dict)

    def import_batch(self, batch: FoundBatch) -> list[str] | None:
        """Import `batch` from the first of its sources that supplies it: None when one did,
        else what each source did wrong."""
        network, report = self.network, self.report
        errors = []
        for url in sources_for(batch, self.endpoints, network):
            if url in self.unreachable:
                errors.append(self.unreachable[url])
                continue
            try:
                if url not in self.clients:
                    self.clients[url] = PeerSource(url, network.peer_timeout_s)
                source = self.clients[url]
                import_batch(self.db, self.blobs, network.domain, batch, source, now=self.now)
            except BadBatch as exc:
                log.warning("refused batch %d from %s: %s", batch.batch_id, url, exc)
                report.refused.append(f"{url}: {exc}")
                errors.append(f"{url}: {exc}")
                continue
            except PeerUnreachable as exc:
                self.unreachable[url] = str(exc)
                errors.append(str(exc))
                continue
            except PeerUnavailable as exc:
                errors.append(str(exc))
                continue
            report.imported.append(batch.batch_id)
            return None
        return errors

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _note_failure(db: Engine, network: Network, batch: FoundBatch, error: str) -> None:
    with session_scope(db) as session:
        row = peer_batch(session, network.domain.chain_id, network.registry.address, batch.batch_id)
        if row is None:
            return
        row.attempts += 1
        row.last_error = error[:2000]
        row.updated_at = datetime.now(UTC)
        attempts = row.attempts
    level = logging.WARNING if attempts <= MAX_ATTEMPTS_LOGGED else logging.DEBUG
    log.log(level, "batch %d still pending after %d tries: %s", batch.batch_id, attempts, error)
