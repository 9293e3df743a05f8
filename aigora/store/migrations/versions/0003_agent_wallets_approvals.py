"""Agent wallets and the approvals waiting on their owners.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_wallets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("agent", sa.String(length=42), nullable=False),
        sa.Column("agent_key", sa.String(length=64), nullable=False),
        sa.Column("mandate", sa.Text(), nullable=False),
        sa.Column("policy_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_wallets")),
        sa.UniqueConstraint("address", name=op.f("uq_agent_wallets_address")),
        sa.UniqueConstraint("name", name=op.f("uq_agent_wallets_name")),
    )
    op.create_table(
        "agent_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=False),
        sa.Column("intent_json", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_agent_approvals_status"),
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["agent_wallets.id"],
            name=op.f("fk_agent_approvals_wallet_id_agent_wallets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_approvals")),
    )
    with op.batch_alter_table("agent_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_approvals_wallet_id"), ["wallet_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("agent_approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_approvals_wallet_id"))
    op.drop_table("agent_approvals")
    op.drop_table("agent_wallets")
