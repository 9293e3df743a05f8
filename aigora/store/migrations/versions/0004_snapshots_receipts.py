"""Corpus snapshots, signed receipts and the receipts a verifier has seen.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:16:39.326773
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seen_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.String(length=78), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seen_receipts")),
        sa.UniqueConstraint(
            "chain_id",
            "registry_address",
            "operator",
            "nonce",
            name=op.f("uq_seen_receipts_chain_id_registry_address_operator_nonce"),
        ),
    )
    op.create_table(
        "snapshots",
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("model_root", sa.String(length=66), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("parent_root", sa.String(length=66), nullable=True),
        sa.Column("embedded_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_tx", sa.String(length=66), nullable=True),
        sa.Column("registered_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("root", name=op.f("pk_snapshots")),
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_snapshots_model_root"), ["model_root"], unique=False)

    op.create_table(
        "receipts",
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("registry_address", sa.String(length=42), nullable=False),
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_root", sa.String(length=66), nullable=False),
        sa.Column("fee", sa.String(length=80), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("anchor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["anchor_id"], ["anchors.id"], name=op.f("fk_receipts_anchor_id_anchors")
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_receipts")),
        sa.UniqueConstraint(
            "chain_id",
            "registry_address",
            "operator",
            "nonce",
            name=op.f("uq_receipts_chain_id_registry_address_operator_nonce"),
        ),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_anchor_id"), ["anchor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_receipts_snapshot_root"), ["snapshot_root"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_snapshot_root"))
        batch_op.drop_index(batch_op.f("ix_receipts_anchor_id"))

    op.drop_table("receipts")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshots_model_root"))

    op.drop_table("snapshots")
    op.drop_table("seen_receipts")
