"""The labeling marketplace: jobs, items, assignments, signed answers, escrow releases; and the
labeling total of each payout epoch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_jobs",
        sa.Column("job_id", sa.String(length=66), nullable=False),
        sa.Column("requester", sa.String(length=42), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("label_count", sa.Integer(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("price", sa.String(length=80), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=False),
        sa.Column("escrow", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_label_jobs")),
    )
    op.create_index(op.f("ix_label_jobs_requester"), "label_jobs", ["requester"])
    op.create_table(
        "label_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=66), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("gold", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["label_jobs.job_id"], name=op.f("fk_label_items_job_id_label_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_items")),
        sa.UniqueConstraint("job_id", "position", name=op.f("uq_label_items_job_id_position")),
    )
    op.create_index(op.f("ix_label_items_job_id"), "label_items", ["job_id"])
    op.create_table(
        "label_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("labeler", sa.String(length=42), nullable=False),
        sa.Column("assigned_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["label_items.id"], name=op.f("fk_label_assignments_item_id_label_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_assignments")),
        sa.UniqueConstraint(
            "item_id", "labeler", name=op.f("uq_label_assignments_item_id_labeler")
        ),
    )
    op.create_index(op.f("ix_label_assignments_item_id"), "label_assignments", ["item_id"])
    op.create_index(op.f("ix_label_assignments_labeler"), "label_assignments", ["labeler"])
    op.create_table(
        "label_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("labeler", sa.String(length=42), nullable=False),
        sa.Column("label", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.Column("paid_epoch", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["label_items.id"], name=op.f("fk_label_answers_item_id_label_items")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_answers")),
        sa.UniqueConstraint("item_id", "labeler", name=op.f("uq_label_answers_item_id_labeler")),
    )
    op.create_index(op.f("ix_label_answers_item_id"), "label_answers", ["item_id"])
    op.create_index(op.f("ix_label_answers_labeler"), "label_answers", ["labeler"])
    op.create_index(op.f("ix_label_answers_paid_epoch"), "label_answers", ["paid_epoch"])
    op.create_table(
        "label_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=66), nullable=False),
        sa.Column("amount", sa.String(length=80), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["label_jobs.job_id"], name=op.f("fk_label_releases_job_id_label_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_releases")),
        sa.UniqueConstraint("epoch", "job_id", name=op.f("uq_label_releases_epoch_job_id")),
    )
    op.create_index(op.f("ix_label_releases_epoch"), "label_releases", ["epoch"])
    with op.batch_alter_table("payout_epochs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("labeling_total", sa.String(length=80), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("payout_epochs", schema=None) as batch_op:
        batch_op.drop_column("labeling_total")
    op.drop_table("label_releases")
    op.drop_table("label_answers")
    op.drop_table("label_assignments")
    op.drop_table("label_items")
    op.drop_table("label_jobs")
