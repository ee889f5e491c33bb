"""Organisation rates: the rate per child-session, reviews of unsynced-clock attendances.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "org_rates",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
        ),
        sa.PrimaryKeyConstraint("org_id", "contract", "effective_from"),
    )
    op.create_table(
        "attendance_reviews",
        sa.Column("attendance_id", sa.String(length=36), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=False),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attendance_id"),
    )
    op.create_index(
        "ix_attendances_org_family_date",
        "attendances",
        ["org_id", "family_id", "session_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_attendances_org_family_date", table_name="attendances")
    op.drop_table("attendance_reviews")
    op.drop_table("org_rates")
