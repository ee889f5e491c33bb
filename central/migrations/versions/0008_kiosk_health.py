"""Kiosk health: each kiosk's latest status report.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_status",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("oldest_waiting_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("software_version", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("device_id"),
    )


def downgrade() -> None:
    op.drop_table("device_status")
