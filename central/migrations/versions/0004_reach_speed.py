"""Reach: child attendances carry their organisation, date and qualification.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Copies of the attendance's own columns, so county reach counts children from this table
    # alone. Added empty, filled from attendances, then made NOT NULL (SQLite rebuilds the
    # table for that; nothing references it). A child row without its attendance cannot
    # exist (ON DELETE CASCADE); the home-made step dropped any such row, and so does this.
    op.add_column("attendance_children", sa.Column("org_id", sa.String(length=64), nullable=True))
    op.add_column("attendance_children", sa.Column("session_date", sa.Date(), nullable=True))
    op.add_column("attendance_children", sa.Column("qualifies", sa.Boolean(), nullable=True))
    op.execute(
        "DELETE FROM attendance_children WHERE attendance_id NOT IN"
        " (SELECT attendance_id FROM attendances)"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "UPDATE attendance_children AS ac SET org_id = a.org_id,"
            " session_date = a.session_date, qualifies = a.qualifies"
            " FROM attendances AS a WHERE a.attendance_id = ac.attendance_id"
        )
    else:
        op.execute(
            "UPDATE attendance_children SET"
            " org_id = (SELECT a.org_id FROM attendances AS a"
            " WHERE a.attendance_id = attendance_children.attendance_id),"
            " session_date = (SELECT a.session_date FROM attendances AS a"
            " WHERE a.attendance_id = attendance_children.attendance_id),"
            " qualifies = (SELECT a.qualifies FROM attendances AS a"
            " WHERE a.attendance_id = attendance_children.attendance_id)"
        )
    with op.batch_alter_table("attendance_children") as batch:
        batch.alter_column("org_id", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("session_date", existing_type=sa.Date(), nullable=False)
        batch.alter_column("qualifies", existing_type=sa.Boolean(), nullable=False)
    op.create_index(
        "ix_attendance_children_org_date",
        "attendance_children",
        ["org_id", "session_date"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_attendance_children_org_date", table_name="attendance_children")
    op.drop_column("attendance_children", "qualifies")
    op.drop_column("attendance_children", "session_date")
    op.drop_column("attendance_children", "org_id")
