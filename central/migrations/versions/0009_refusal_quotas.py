"""Refusal quotas and conflicting copies of events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rejections", sa.Column("digest", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_rejections_device_digest", "rejections", ["device_id", "digest"], unique=False
    )
    op.add_column(
        "devices",
        sa.Column("unkept_rejections", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_table(
        "event_conflicts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("differs", sa.JSON(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "event_id", "digest", name="uq_event_conflicts_copy"),
    )


def downgrade() -> None:
    op.drop_table("event_conflicts")
    op.drop_column("devices", "unkept_rejections")
    op.drop_index("ix_rejections_device_digest", table_name="rejections")
    op.drop_column("rejections", "digest")
