"""Embedding claims a node filed as challenger, with the receipt each disputes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "filed_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("disputes_address", sa.String(length=42), nullable=False),
        sa.Column("dispute_id", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filed_challenges")),
        sa.UniqueConstraint(
            "chain_id",
            "disputes_address",
            "dispute_id",
            name=op.f("uq_filed_challenges_chain_id_disputes_address_dispute_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("filed_challenges")
