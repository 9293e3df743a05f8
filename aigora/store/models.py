"""The node's relational state: what it deployed, what it anchored, and a little metadata.

Every table hangs off one `Base` whose metadata carries a constraint naming convention, so each
constraint has a deterministic name. Alembic needs those names to alter or drop constraints later,
and they must be the same on SQLite and PostgreSQL for one migration history to serve both.

Schema changes go through a new revision in `aigora/store/migrations/versions/`; a test checks that
the migrations and these models agree.

Hashes (`tx_hash`, `root`, `source_hash`) are stored as lower-case `0x` hex so equal hashes compare
equal in SQL; addresses keep their EIP-55 checksum case.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from aigora.store._types import UTCDateTime, require_hex, require_utc

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_ADDRESS_BYTES = 20
_HASH_BYTES = 32


class Base(DeclarativeBase):
    """Declarative base of every Aigora table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AnchorKind(StrEnum):
    """What a batch anchored on-chain is the Merkle root of."""

    CONTENT = "content"
    ATTESTATIONS = "attestations"
    RECEIPTS = "receipts"


ANCHOR_KIND_CHECK = "kind IN ({})".format(", ".join(f"'{kind.value}'" for kind in AnchorKind))
"""The SQL the `anchors.kind` CHECK constraint holds; the migration uses the same string."""


def _address(value: str, field: str) -> str:
    return require_hex(value, _ADDRESS_BYTES, field)


def _hash(value: str, field: str) -> str:
    return require_hex(value, _HASH_BYTES, field).lower()


class Deployment(Base):
    """A contract deployed on one chain under a well-known name; one row per (chain, name).

    `source_hash` ties the address to the exact contract source, so a node can refuse to talk to
    a contract whose source it does not ship.
    """

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("chain_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(42))
    source_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @validates("address")
    def _check_address(self, key: str, value: str) -> str:
        return _address(value, key)

    @validates("source_hash", "tx_hash")
    def _check_hash(self, key: str, value: str) -> str:
        return _hash(value, key)

    @validates("deployed_at")
    def _check_time(self, _key: str, value: datetime) -> datetime:
        return require_utc(value)


class Anchor(Base):
    """One batch whose Merkle root was posted on-chain: content, attestations or receipts.

    `batch_id` is the contract's id for the batch, unique per chain; `root` is indexed because
    verifiers arrive with a root and ask which batch (and transaction) anchored it.
    """

    __tablename__ = "anchors"
    __table_args__ = (
        UniqueConstraint("chain_id", "batch_id"),
        CheckConstraint(ANCHOR_KIND_CHECK, name="kind"),
        Index(None, "root"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    root: Mapped[str] = mapped_column(String(66))
    batch_id: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    item_count: Mapped[int] = mapped_column(Integer)
    anchored_by: Mapped[str] = mapped_column(String(42))
    anchored_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @validates("kind")
    def _check_kind(self, _key: str, value: str) -> str:
        try:
            return AnchorKind(value).value
        except ValueError:
            allowed = ", ".join(kind.value for kind in AnchorKind)
            raise ValueError(f"anchor kind must be one of {allowed}, got {value!r}") from None

    @validates("root", "tx_hash")
    def _check_hash(self, key: str, value: str) -> str:
        return _hash(value, key)

    @validates("anchored_by")
    def _check_address(self, key: str, value: str) -> str:
        return _address(value, key)

    @validates("item_count")
    def _check_count(self, _key: str, value: int) -> int:
        if value < 0:
            raise ValueError(f"item_count must not be negative, got {value}")
        return value

    @validates("anchored_at")
    def _check_time(self, _key: str, value: datetime) -> datetime:
        return require_utc(value)


class NodeSetting(Base):
    """A small piece of node metadata (node version, schema notes), keyed by name."""

    __tablename__ = "node_settings"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
