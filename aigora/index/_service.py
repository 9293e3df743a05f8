"""A node's snapshots over time: build the next one, keep its file, register it on-chain.

Crash-safe and idempotent like anchoring: the file is written (atomically) before the row, the
row before the transaction, and the admitted set determines the root. A run that crashed after
registering but before recording finds the root on-chain and records it without sending again.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from web3.contract import Contract

from aigora.chain import Chain, TxSigner, read_model, read_snapshot
from aigora.index._build import AdmissionPolicy, Embedder, Scores, build_snapshot
from aigora.index._snapshot import Snapshot, SnapshotBasis, SnapshotError
from aigora.store.answer_models import SnapshotRecord
from aigora.store.blobs import BlobStore
from aigora.store.db import session_scope


@dataclass(frozen=True)
class SnapshotState:
    """What a refresh did: the current snapshot and how it was made."""

    root: str
    model_root: str
    item_count: int
    changed: bool
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    registered_tx: str | None = None
    skipped: dict[str, str] = field(default_factory=dict)


def snapshot_dir(data_dir: Path) -> Path:
    return data_dir / "snapshots"


def _path(data_dir: Path, root: bytes) -> Path:
    return snapshot_dir(data_dir) / f"0x{root.hex()}.npz"


def current_snapshot(db: Engine, data_dir: Path, model_root: bytes) -> Snapshot | None:
    """The newest registered snapshot for `model_root`, loaded and checked against its root."""
    with session_scope(db) as session:
        record = session.scalar(
            select(SnapshotRecord)
            .where(
                SnapshotRecord.model_root == "0x" + model_root.hex(),
                SnapshotRecord.registered_tx.is_not(None),
            )
            .order_by(SnapshotRecord.registered_at.desc(), SnapshotRecord.created_at.desc())
            .limit(1)
        )
        if record is None:
            return None
        root, path = record.root, data_dir / record.path
    return Snapshot.load(path, expected_root=bytes.fromhex(root[2:]))


def ensure_model_registered(
    chain: Chain, registry: Contract, signer: TxSigner, model_root: bytes, engine_version: str
) -> str | None:
    """Register the model unless the registry knows it; the transaction hash if one was sent."""
    if read_model(chain, registry, model_root).registered:
        return None
    return chain.transact(
        signer, registry.functions.register_model(model_root, engine_version)
    ).tx_hash


def refresh_snapshot(
    db: Engine,
    blobs: BlobStore,
    data_dir: Path,
    encoder: Embedder,
    model_root: bytes,
    engine_version: str,
    chain: Chain,
    registry: Contract,
    signer: TxSigner,
    policy: AdmissionPolicy,
    progress: Callable[[int], None] | None = None,
    previous: Snapshot | None = None,
    *,
    scores: Scores | None = None,
    basis: SnapshotBasis | None = None,
) -> SnapshotState:
    """Make the current snapshot reflect what is admitted now, embedding only new content.
    `previous`: the current snapshot if the caller holds it (else it is loaded); `scores` and
    `basis` as `build_snapshot` takes them."""
    if previous is None:
        previous = current_snapshot(db, data_dir, model_root)
    with session_scope(db) as session:
        built = build_snapshot(
            session,
            blobs,
            encoder,
            model_root,
            policy,
            previous,
            progress,
            scores=scores,
            basis=basis,
        )
    snapshot = built.snapshot
    if previous is not None and previous.root == snapshot.root:
        return SnapshotState(
            previous.root_hex,
            "0x" + model_root.hex(),
            len(previous),
            False,
            skipped=built.skipped,
            reused=len(previous),
        )
    path = _path(data_dir, snapshot.root)
    if not path.exists():
        snapshot.save(path)
    with session_scope(db) as session:
        record = session.get(SnapshotRecord, snapshot.root_hex) or SnapshotRecord(
            root=snapshot.root_hex,
            model_root="0x" + model_root.hex(),
            item_count=len(snapshot),
            path=str(path.relative_to(data_dir)),
            parent_root=previous.root_hex if previous is not None else None,
            embedded_count=built.embedded,
            created_at=datetime.now(UTC),
        )
        session.add(record)
    ensure_model_registered(chain, registry, signer, model_root, engine_version)
    # Registrations are per operator: another's registration of this root is not ours.
    on_chain = read_snapshot(chain, registry, signer.address, snapshot.root)
    if not on_chain.registered:
        result = chain.transact(
            signer, registry.functions.register_snapshot(snapshot.root, model_root, len(snapshot))
        )
        tx_hash = result.tx_hash
    else:
        tx_hash = _registration_tx(chain, registry, signer.address, snapshot.root)
    registered_at = read_snapshot(chain, registry, signer.address, snapshot.root).timestamp
    with session_scope(db) as session:
        record = session.get(SnapshotRecord, snapshot.root_hex)
        assert record is not None
        record.registered_tx = tx_hash
        record.registered_at = registered_at
    return SnapshotState(
        snapshot.root_hex,
        "0x" + model_root.hex(),
        len(snapshot),
        True,
        built.embedded,
        built.reused,
        built.removed,
        tx_hash,
        built.skipped,
    )


def _registration_tx(chain: Chain, registry: Contract, registrant: str, root: bytes) -> str:
    registrations = chain.events(
        registry.events.SnapshotRegistered,
        chain.deployment_block(registry.address),
        argument_filters={"snapshot_root": root, "registrant": registrant},
    )
    if registrations:
        return "0x" + bytes(registrations[0].transactionHash).hex()
    raise SnapshotError(f"snapshot 0x{root.hex()} is registered but its event was not found")
