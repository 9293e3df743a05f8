"""A network's batches: the signed items of every anchored batch, the batches found on the
network's registry, and vouches that are anchored and superseded rather than replaced.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anchor_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["anchor_id"], ["anchors.id"], name=op.f("fk_batch_items_anchor_id_anchors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_items")),
        sa.UniqueConstraint(
            "anchor_id", "position", name=op.f("uq_batch_items_anchor_id_position")
        ),
    )
    with op.batch_alter_table("batch_items") as batch:
        batch.create_index(batch.f("ix_batch_items_anchor_id"), ["anchor_id"], unique=False)
        batch.create_index(batch.f("ix_batch_items_digest"), ["digest"], unique=False)
    op.create_table(
        "peer_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("anchorer", sa.String(length=42), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_peer_batches")),
        sa.UniqueConstraint(
            "chain_id",
            "registry_address",
            "batch_id",
            name=op.f("uq_peer_batches_chain_id_registry_address_batch_id"),
        ),
    )
    with op.batch_alter_table("peer_batches") as batch:
        batch.create_index(batch.f("ix_peer_batches_state"), ["state"], unique=False)
    op.create_table(
        "network_peers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_peers")),
        sa.UniqueConstraint(
            "chain_id",
            "registry_address",
            "address",
            name=op.f("uq_network_peers_chain_id_registry_address_address"),
        ),
    )
    with op.batch_alter_table("trust_statements") as batch:
        batch.drop_constraint("uq_trust_statements_truster_trustee", type_="unique")
        batch.add_column(
            sa.Column("superseded", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("anchor_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_trust_statements_anchor_id_anchors"), "anchors", ["anchor_id"], ["id"]
        )
        batch.create_index(batch.f("ix_trust_statements_anchor_id"), ["anchor_id"], unique=False)
        batch.create_index(
            batch.f("ix_trust_statements_truster_trust_statements_trustee"),
            ["truster", "trustee"],
            unique=False,
        )
    with op.batch_alter_table("trust_statements") as batch:
        batch.alter_column("superseded", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("trust_statements") as batch:
        batch.drop_index(batch.f("ix_trust_statements_truster_trust_statements_trustee"))
        batch.drop_index(batch.f("ix_trust_statements_anchor_id"))
        batch.drop_constraint(batch.f("fk_trust_statements_anchor_id_anchors"), type_="foreignkey")
        batch.drop_column("anchor_id")
        batch.drop_column("superseded")
        batch.create_unique_constraint(
            batch.f("uq_trust_statements_truster_trustee"), ["truster", "trustee"]
        )
    op.drop_table("network_peers")
    op.drop_table("peer_batches")
    op.drop_table("batch_items")
