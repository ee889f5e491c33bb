"""The first landed release's schema (6d53a55): enrolment, events, the roster, attendances.

Revision ID: 0001
Revises: None
Create Date: 2026-11-23

The baseline: what release 6d53a55's ``create_all`` made (its schema_version 1), written out
as frozen operations. Later revisions reproduce the home-made migrator's steps 2 to 12 one by
one, so a database it left at version N is adopted by stamping revision N.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "orgs",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_table(
        "sites",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
        ),
        sa.PrimaryKeyConstraint("org_id", "site_id"),
    )
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("holds_up_to", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "site_id"],
            ["sites.org_id", "sites.site_id"],
        ),
        sa.PrimaryKeyConstraint("device_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "users",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
        ),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "seq", name="uq_events_device_seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_events_at", "events", ["at"], unique=False)
    op.create_index("ix_events_org_type_id", "events", ["org_id", "type", "id"], unique=False)
    op.create_index("ix_events_subject", "events", ["subject_id"], unique=False)
    op.create_table(
        "rejections",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("event_id", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "seq", name="uq_rejections_device_seq"),
    )
    op.create_table(
        "families",
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("greeting_name", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("consent_date", sa.Date(), nullable=True),
        sa.Column("heard_from", sa.String(length=40), nullable=True),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_site_id", sa.String(length=64), nullable=True),
        sa.Column("registered_device_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("family_id"),
    )
    op.create_index(op.f("ix_families_org_id"), "families", ["org_id"], unique=False)
    op.create_table(
        "children",
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("child_id", sa.String(length=64), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("born", sa.String(length=7), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["families.family_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("family_id", "child_id"),
    )
    op.create_table(
        "cards",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("uid", sa.String(length=20), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "uid"),
    )
    op.create_index(op.f("ix_cards_family_id"), "cards", ["family_id"], unique=False)
    op.create_table(
        "attendances",
        sa.Column("attendance_id", sa.String(length=36), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("session_key", sa.String(length=200), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("session_name", sa.String(length=200), nullable=False),
        sa.Column("slot_id", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("adults", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("volunteer", sa.String(length=200), nullable=True),
        sa.Column("qualifies", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("risk_version", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clock_synced", sa.Boolean(), nullable=False),
        sa.Column("children_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attendance_id"),
    )
    op.create_index(op.f("ix_attendances_family_id"), "attendances", ["family_id"], unique=False)
    op.create_index(
        "ix_attendances_org_date", "attendances", ["org_id", "session_date"], unique=False
    )
    op.create_index("ix_attendances_session", "attendances", ["session_key"], unique=False)
    op.create_table(
        "attendance_children",
        sa.Column("attendance_id", sa.String(length=36), nullable=False),
        sa.Column("child_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendance_id"], ["attendances.attendance_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("attendance_id", "child_id"),
    )


def downgrade() -> None:
    op.drop_index("ix_attendances_session", table_name="attendances")
    op.drop_index("ix_attendances_org_date", table_name="attendances")
    op.drop_index("ix_attendances_family_id", table_name="attendances")
    op.drop_index("ix_cards_family_id", table_name="cards")
    op.drop_index("ix_families_org_id", table_name="families")
    op.drop_index("ix_events_subject", table_name="events")
    op.drop_index("ix_events_org_type_id", table_name="events")
    op.drop_index("ix_events_at", table_name="events")
    op.drop_table("attendance_children")
    op.drop_table("attendances")
    op.drop_table("cards")
    op.drop_table("children")
    op.drop_table("families")
    op.drop_table("rejections")
    op.drop_table("events")
    op.drop_table("users")
    op.drop_table("devices")
    op.drop_table("sites")
    op.drop_table("orgs")
    op.drop_table("schema_version")
