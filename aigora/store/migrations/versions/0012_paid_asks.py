"""Paid asks: the newest voucher accepted per channel, and the voucher behind each paid receipt.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_vouchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("channels_address", sa.String(length=42), nullable=False),
        sa.Column("asker", sa.String(length=42), nullable=False),
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("cumulative", sa.String(length=80), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("redeemed", sa.String(length=80), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_vouchers")),
        sa.UniqueConstraint(
            "chain_id",
            "channels_address",
            "asker",
            "operator",
            name=op.f("uq_channel_vouchers_chain_id_channels_address_asker_operator"),
        ),
    )
    op.create_table(
        "paid_receipts",
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("channels_address", sa.String(length=42), nullable=False),
        sa.Column("asker", sa.String(length=42), nullable=False),
        sa.Column("operator", sa.String(length=42), nullable=False),
        sa.Column("cumulative", sa.String(length=80), nullable=False),
        sa.Column("fee", sa.String(length=80), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["digest"], ["receipts.digest"], name=op.f("fk_paid_receipts_digest_receipts")
        ),
        sa.ForeignKeyConstraint(
            ["epoch"],
            ["payout_epochs.number"],
            name=op.f("fk_paid_receipts_epoch_payout_epochs"),
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_paid_receipts")),
    )
    with op.batch_alter_table("paid_receipts") as batch:
        batch.create_index(batch.f("ix_paid_receipts_asker"), ["asker"], unique=False)
        batch.create_index(batch.f("ix_paid_receipts_epoch"), ["epoch"], unique=False)


def downgrade() -> None:
    op.drop_table("paid_receipts")
    op.drop_table("channel_vouchers")
