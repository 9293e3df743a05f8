"""A secret per labeling job: it keys the items' served numbers and each labeler's serving order.

Jobs recorded before this revision get a random secret here (their items keep their numbers).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("label_jobs") as batch:
        batch.add_column(sa.Column("secret", sa.String(length=66), nullable=True))
    if op.get_context().as_sql:  # rendering SQL for PostgreSQL: the server draws the secrets
        op.execute(
            "UPDATE label_jobs SET secret = '0x' || "
            "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')"
        )
    else:
        bind = op.get_bind()
        jobs = sa.table(
            "label_jobs", sa.column("job_id", sa.String), sa.column("secret", sa.String)
        )
        for (job_id,) in bind.execute(sa.select(jobs.c.job_id)).all():
            bind.execute(
                jobs.update()
                .where(jobs.c.job_id == job_id)
                .values(secret="0x" + secrets.token_bytes(32).hex())
            )
    with op.batch_alter_table("label_jobs") as batch:
        batch.alter_column("secret", nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("label_jobs") as batch:
        batch.drop_column("secret")
