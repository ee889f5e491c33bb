"""Risk lists: the rule and source files of a list built from LSOA data.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("risk_lists", sa.Column("rule", sa.Text(), nullable=True))
    op.add_column("risk_lists", sa.Column("sources", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("risk_lists", "sources")
    op.drop_column("risk_lists", "rule")
