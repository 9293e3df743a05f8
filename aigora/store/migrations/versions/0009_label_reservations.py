"""Labeling pay that no single job can block: each accepted answer is reserved into one escrow
release (`release_id`, `amount`) before its line enters an epoch, and a release that reverts
records its reason (`failure`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("label_releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure", sa.Text(), nullable=True))
    with op.batch_alter_table("label_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("amount", sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f("ix_label_answers_release_id"), ["release_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_label_answers_release_id_label_releases"),
            "label_releases",
            ["release_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("label_answers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_label_answers_release_id_label_releases"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_label_answers_release_id"))
        batch_op.drop_column("amount")
        batch_op.drop_column("release_id")
    with op.batch_alter_table("label_releases", schema=None) as batch_op:
        batch_op.drop_column("failure")
