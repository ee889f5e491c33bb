"""Family rights: erasures and retention.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_salts",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
        ),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_table(
        "erasures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("family_hash", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "family_hash", name="uq_erasures_org_family"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_erasures_org_id", "erasures", ["org_id", "id"], unique=False)
    op.create_table(
        "retention_policies",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=10), nullable=False),
        sa.Column("set_by", sa.String(length=200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
        ),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_table(
        "attendance_aggregates",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("attendances", sa.Integer(), nullable=False),
        sa.Column("child_attendances", sa.Integer(), nullable=False),
        sa.Column("qualifying_child_attendances", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "site_id", "month"),
    )
    op.create_table(
        "retention_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_by", sa.String(length=200), nullable=False),
        sa.Column("policy", sa.String(length=10), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("attendances", sa.Integer(), nullable=False),
        sa.Column("child_attendances", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_index("ix_erasures_org_id", table_name="erasures")
    op.drop_table("retention_runs")
    op.drop_table("attendance_aggregates")
    op.drop_table("retention_policies")
    op.drop_table("erasures")
    op.drop_table("privacy_salts")
