"""Geography: postcode directory, population estimates and boundaries.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "postcode_areas",
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("lsoa", sa.String(length=9), nullable=False),
        sa.Column("ward", sa.String(length=9), nullable=False),
        sa.Column("district", sa.String(length=9), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("postcode"),
    )
    op.create_index(op.f("ix_postcode_areas_lsoa"), "postcode_areas", ["lsoa"], unique=False)
    op.create_table(
        "lsoa_areas",
        sa.Column("lsoa", sa.String(length=9), nullable=False),
        sa.Column("imd_rank", sa.Integer(), nullable=True),
        sa.Column("imd_decile", sa.Integer(), nullable=True),
        sa.Column("ward", sa.String(length=9), nullable=False),
        sa.Column("district", sa.String(length=9), nullable=False),
        sa.Column("district_name", sa.String(length=200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("lsoa"),
    )
    op.create_table(
        "area_imports",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind"),
    )
    op.create_table(
        "population_versions",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("layout", sa.String(length=20), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=True),
        sa.Column("lsoas", sa.Integer(), nullable=False),
        sa.Column("people", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "population_estimates",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("lsoa", sa.String(length=9), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["population_versions.number"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("version", "lsoa"),
    )
    op.create_table(
        "lsoa_boundaries",
        sa.Column("lsoa", sa.String(length=9), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("lsoa"),
    )


def downgrade() -> None:
    op.drop_index("ix_postcode_areas_lsoa", table_name="postcode_areas")
    op.drop_table("lsoa_boundaries")
    op.drop_table("population_estimates")
    op.drop_table("population_versions")
    op.drop_table("area_imports")
    op.drop_table("lsoa_areas")
    op.drop_table("postcode_areas")
