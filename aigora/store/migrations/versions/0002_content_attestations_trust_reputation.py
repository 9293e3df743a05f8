"""Content, attestations, trust statements and reputation runs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reputation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("algorithm_version", sa.String(length=64), nullable=False),
        sa.Column("attestation_root", sa.String(length=66), nullable=False),
        sa.Column("attestation_count", sa.Integer(), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("result_cid", sa.String(length=80), nullable=False),
        sa.Column("result_digest", sa.String(length=66), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reputation_runs")),
    )
    op.create_table(
        "trust_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("truster", sa.String(length=42), nullable=False),
        sa.Column("trustee", sa.String(length=42), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_statements")),
        sa.UniqueConstraint("digest", name=op.f("uq_trust_statements_digest")),
        sa.UniqueConstraint("truster", "trustee", name=op.f("uq_trust_statements_truster_trustee")),
    )
    with op.batch_alter_table("trust_statements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trust_statements_trustee"), ["trustee"], unique=False)

    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attester", sa.String(length=42), nullable=False),
        sa.Column("cid", sa.String(length=80), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anchor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "verdict IN ('accurate', 'misleading', 'spam')", name=op.f("ck_attestations_verdict")
        ),
        sa.ForeignKeyConstraint(
            ["anchor_id"], ["anchors.id"], name=op.f("fk_attestations_anchor_id_anchors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
        sa.UniqueConstraint("digest", name=op.f("uq_attestations_digest")),
    )
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestations_anchor_id"), ["anchor_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attestations_attester_attestations_cid"),
            ["attester", "cid"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_attestations_cid"), ["cid"], unique=False)

    op.create_table(
        "content",
        sa.Column("cid", sa.String(length=80), nullable=False),
        sa.Column("author", sa.String(length=42), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("license", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("anchor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["anchor_id"], ["anchors.id"], name=op.f("fk_content_anchor_id_anchors")
        ),
        sa.PrimaryKeyConstraint("cid", name=op.f("pk_content")),
        sa.UniqueConstraint("digest", name=op.f("uq_content_digest")),
    )
    with op.batch_alter_table("content", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_content_anchor_id"), ["anchor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_author"), ["author"], unique=False)
        batch_op.create_index(batch_op.f("ix_content_url_hash"), ["url_hash"], unique=False)

    op.create_table(
        "content_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("cid", sa.String(length=80), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=False),
        sa.Column("ci_high", sa.Float(), nullable=False),
        sa.Column("factor", sa.Float(), nullable=False),
        sa.Column("n_ratings", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reputation_runs.id"],
            name=op.f("fk_content_scores_run_id_reputation_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "cid", name=op.f("pk_content_scores")),
    )
    op.create_table(
        "content_parents",
        sa.Column("cid", sa.String(length=80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("parent_cid", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["cid"], ["content.cid"], name=op.f("fk_content_parents_cid_content")
        ),
        sa.PrimaryKeyConstraint("cid", "position", name=op.f("pk_content_parents")),
    )
    with op.batch_alter_table("content_parents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_content_parents_parent_cid"), ["parent_cid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("content_parents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_parents_parent_cid"))

    op.drop_table("content_parents")
    op.drop_table("content_scores")
    with op.batch_alter_table("content", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_url_hash"))
        batch_op.drop_index(batch_op.f("ix_content_author"))
        batch_op.drop_index(batch_op.f("ix_content_anchor_id"))

    op.drop_table("content")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_cid"))
        batch_op.drop_index(batch_op.f("ix_attestations_attester_attestations_cid"))
        batch_op.drop_index(batch_op.f("ix_attestations_anchor_id"))

    op.drop_table("attestations")
    with op.batch_alter_table("trust_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trust_statements_trustee"))

    op.drop_table("trust_statements")
    op.drop_table("reputation_runs")
