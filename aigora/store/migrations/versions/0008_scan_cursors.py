"""Cursors of the node's recurring event scans, and the disputes they found for the node.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scan_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract_address", sa.String(length=42), nullable=False),
        sa.Column("last_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_cursors")),
        sa.UniqueConstraint(
            "name",
            "chain_id",
            "contract_address",
            name=op.f("uq_scan_cursors_name_chain_id_contract_address"),
        ),
    )
    op.create_table(
        "watched_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("disputes_address", sa.String(length=42), nullable=False),
        sa.Column("dispute_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("challenger", sa.String(length=42), nullable=False),
        sa.Column("opened_block", sa.BigInteger(), nullable=False),
        sa.Column("against_us", sa.Boolean(), nullable=False),
        sa.Column("filed_by_us", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_disputes")),
        sa.UniqueConstraint(
            "chain_id",
            "disputes_address",
            "dispute_id",
            name=op.f("uq_watched_disputes_chain_id_disputes_address_dispute_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("watched_disputes")
    op.drop_table("scan_cursors")
