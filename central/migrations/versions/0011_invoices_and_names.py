"""Issued invoices; display names of organisations and sites.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orgs", sa.Column("name", sa.String(length=200), nullable=True))
    op.add_column("sites", sa.Column("name", sa.String(length=200), nullable=True))
    op.create_table(
        "invoices",
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("contract", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total_pence", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("sheet_csv", sa.Text(), nullable=False),
        sa.Column("sheet", sa.JSON(), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_by", sa.String(length=200), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
        ),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_index(
        "ix_invoices_org_month", "invoices", ["org_id", "contract", "month"], unique=False
    )
    op.create_table(
        "invoice_lines",
        sa.Column("number", sa.String(length=120), nullable=False),
        sa.Column("attendance_id", sa.String(length=36), nullable=False),
        sa.Column("child_id", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["number"], ["invoices.number"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("number", "attendance_id", "child_id"),
    )
    op.create_index("ix_invoice_lines_attendance", "invoice_lines", ["attendance_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_invoice_lines_attendance", table_name="invoice_lines")
    op.drop_index("ix_invoices_org_month", table_name="invoices")
    op.drop_table("invoice_lines")
    op.drop_table("invoices")
    op.drop_column("sites", "name")
    op.drop_column("orgs", "name")
