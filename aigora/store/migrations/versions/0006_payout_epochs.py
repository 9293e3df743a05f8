"""Payout epochs: per-item earnings, per-account cumulative balances and the posted trees.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payout_epochs",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("after_anchor_id", sa.BigInteger(), nullable=False),
        sa.Column("last_anchor_id", sa.BigInteger(), nullable=False),
        sa.Column("receipt_count", sa.Integer(), nullable=False),
        sa.Column("usage_total", sa.String(length=80), nullable=False),
        sa.Column("operator_total", sa.String(length=80), nullable=False),
        sa.Column("training_total", sa.String(length=80), nullable=False),
        sa.Column("cumulative_total", sa.String(length=80), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("tree_path", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_payout_epochs")),
    )
    op.create_table(
        "payout_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("cid", sa.String(length=80), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["epoch"], ["payout_epochs.number"], name=op.f("fk_payout_lines_epoch_payout_epochs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_lines")),
    )
    op.create_index(op.f("ix_payout_lines_account"), "payout_lines", ["account"])
    op.create_index(op.f("ix_payout_lines_epoch"), "payout_lines", ["epoch"])
    op.create_table(
        "payout_balances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("cumulative", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["epoch"],
            ["payout_epochs.number"],
            name=op.f("fk_payout_balances_epoch_payout_epochs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_balances")),
        sa.UniqueConstraint("epoch", "account", name=op.f("uq_payout_balances_epoch_account")),
    )
    op.create_index(op.f("ix_payout_balances_account"), "payout_balances", ["account"])
    op.create_index(op.f("ix_payout_balances_epoch"), "payout_balances", ["epoch"])


def downgrade() -> None:
    op.drop_table("payout_balances")
    op.drop_table("payout_lines")
    op.drop_table("payout_epochs")
