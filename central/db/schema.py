"""The schema: every table at the latest revision, and the UTC datetime column type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.schema import DDL
from sqlalchemy.types import TypeDecorator

from central import migrations

ID_LENGTH = 64


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, whatever the database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the central database stores UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- the schema (latest version) -------------------------------------------------------------------
metadata = MetaData()
BigId = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", String(200), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

orgs = Table(
    "orgs",
    metadata,
    Column("org_id", String(ID_LENGTH), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    # What people call it ("Spark CIC"), shown in reports; the id never changes.
    Column("name", String(200)),
)

sites = Table(
    "sites",
    metadata,
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id"), primary_key=True),
    Column("site_id", String(ID_LENGTH), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("name", String(200)),  # "Chase Terrace"
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(ID_LENGTH), primary_key=True),
    Column("org_id", String(ID_LENGTH), nullable=False),
    Column("site_id", String(ID_LENGTH), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime),
    # The highest seq up to which the server holds every event of this device.
    Column("holds_up_to", BigInteger, nullable=False, server_default="0"),
    # Refused events answered but not kept, because the device's quota was full.
    Column("unkept_rejections", BigInteger, nullable=False, server_default="0"),
    ForeignKeyConstraint(["org_id", "site_id"], ["sites.org_id", "sites.site_id"]),
)

users = Table(
    "users",
    metadata,
    Column("name", String(ID_LENGTH), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id")),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),  # the roster cursor
    Column("event_id", String(36), nullable=False, unique=True),
    Column("org_id", String(ID_LENGTH), nullable=False),
    Column("site_id", String(ID_LENGTH), nullable=False),
    Column("device_id", String(ID_LENGTH), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    # The record the event changes: family id, card uid or attendance id.
    Column("subject_id", String(ID_LENGTH), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("raw", Text, nullable=False),
    UniqueConstraint("device_id", "seq", name="uq_events_device_seq"),
    Index("ix_events_org_type_id", "org_id", "type", "id"),
    Index("ix_events_subject", "subject_id"),
    Index("ix_events_at", "at"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(ID_LENGTH), nullable=False),
    Column("seq", BigInteger),
    Column("event_id", String(80)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # SHA-256 of the event as sent: the same refused event is kept once.
    Column("digest", String(64)),
    UniqueConstraint("device_id", "seq", name="uq_rejections_device_seq"),
    Index("ix_rejections_device_digest", "device_id", "digest"),
)

#: The same event id sent with different content: the server keeps the copy it has
#: and this, once per different copy, for someone to compare (kiosk health on the dashboard).
event_conflicts = Table(
    "event_conflicts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(ID_LENGTH), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("differs", JSON, nullable=False),
    Column("raw", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("device_id", "event_id", "digest", name="uq_event_conflicts_copy"),
)

families = Table(
    "families",
    metadata,
    Column("family_id", String(ID_LENGTH), primary_key=True),
    Column("org_id", String(ID_LENGTH), nullable=False, index=True),
    Column("greeting_name", String(200), nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("criteria", JSON, nullable=False),
    Column("consent_date", Date),
    Column("heard_from", String(40)),
    Column("adults", Integer, nullable=False),
    Column("language", String(20)),
    Column("registered_at", UTCDateTime),
    Column("registered_site_id", String(ID_LENGTH)),
    Column("registered_device_id", String(ID_LENGTH)),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_event_id", String(36), nullable=False),
)

children = Table(
    "children",
    metadata,
    Column(
        "family_id",
        String(ID_LENGTH),
        ForeignKey("families.family_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("child_id", String(ID_LENGTH), primary_key=True),
    Column("first_name", String(200), nullable=False),
    Column("born", String(7)),
)

cards = Table(
    "cards",
    metadata,
    Column("org_id", String(ID_LENGTH), primary_key=True),
    Column("uid", String(20), primary_key=True),
    Column("family_id", String(ID_LENGTH), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_event_id", String(36), nullable=False),
)

attendances = Table(
    "attendances",
    metadata,
    Column("attendance_id", String(36), primary_key=True),  # the recording event's id
    Column("org_id", String(ID_LENGTH), nullable=False),
    Column("site_id", String(ID_LENGTH), nullable=False),
    Column("device_id", String(ID_LENGTH), nullable=False),
    Column("session_key", String(200), nullable=False),
    Column("session_date", Date, nullable=False),
    Column("session_name", String(200), nullable=False),
    Column("slot_id", String(ID_LENGTH), nullable=False),
    Column("family_id", String(ID_LENGTH), nullable=False, index=True),
    Column("adults", Integer, nullable=False),
    Column("method", String(10), nullable=False),
    Column("volunteer", String(200)),
    Column("qualifies", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("risk_version", String(ID_LENGTH), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    # When the children list last changed (the recording, or the latest amendment).
    Column("children_at", UTCDateTime, nullable=False),
    Index("ix_attendances_org_date", "org_id", "session_date"),
    Index("ix_attendances_session", "session_key"),
)

attendance_children = Table(
    "attendance_children",
    metadata,
    Column(
        "attendance_id",
        String(36),
        ForeignKey("attendances.attendance_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("child_id", String(ID_LENGTH), primary_key=True),
    # Copies of the attendance's own columns (migration 4), written with every child
    # row at ingest, so reach counts children from this table alone instead of joining a
    # county month of attendances. They never change: an attendance's organisation, date and
    # qualification are fixed when it is recorded; an amendment replaces the child rows.
    Column("org_id", String(ID_LENGTH), nullable=False),
    Column("session_date", Date, nullable=False),
    Column("qualifies", Boolean, nullable=False),
    Index("ix_attendance_children_org_date", "org_id", "session_date"),
)

# -- reports (used by central.reports) -------------------------------------------------------------
#: The rate paid per qualifying child-session, per organisation and contract, from a date.
org_rates = Table(
    "org_rates",
    metadata,
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id"), primary_key=True),
    Column("contract", String(ID_LENGTH), primary_key=True),
    Column("effective_from", Date, primary_key=True),
    Column("amount_pence", Integer, nullable=False),  # exact money: whole pence, never float
    Column("created_at", UTCDateTime, nullable=False),
)

#: Attendances recorded while the kiosk clock was not synchronised, once someone has reviewed
#: them: ``counted`` (into the invoice total) or ``excluded``. Keyed by the attendance id (the
#: recording event's id, stable across rebuilds), so no foreign key.
attendance_reviews = Table(
    "attendance_reviews",
    metadata,
    Column("attendance_id", String(36), primary_key=True),
    Column("decision", String(10), nullable=False),
    Column("reviewed_by", String(200), nullable=False),
    Column("note", Text),
    Column("reviewed_at", UTCDateTime, nullable=False),
)

#: Invoices issued (``kiosk-central invoice issue``): a month's backing sheet frozen
#: under its number. ``sheet_csv`` is the CSV exactly as issued (``fingerprint`` is its
#: SHA-256) and ``sheet`` the same lines with what the PDF needs, so an issued sheet is shown
#: as it was, whatever arrives later. A void keeps the row (when, who, why).
invoices = Table(
    "invoices",
    metadata,
    Column("number", String(120), primary_key=True),
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id"), nullable=False),
    Column("contract", String(ID_LENGTH), nullable=False),
    Column("month", String(7), nullable=False),  # "2016-04"
    Column("issued_at", UTCDateTime, nullable=False),
    Column("issued_by", String(200), nullable=False),
    Column("count", Integer, nullable=False),
    Column("total_pence", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("sheet_csv", Text, nullable=False),
    Column("sheet", JSON, nullable=False),
    Column("voided_at", UTCDateTime),
    Column("voided_by", String(200)),
    Column("void_reason", Text),
    Index("ix_invoices_org_month", "org_id", "contract", "month"),
)

#: Every line of an issued invoice, by attendance and child: what has been billed (``status``
#: counted, ``amount_pence`` positive), credited (``credit``, negative) or only listed, so
#: the next open invoice carries what arrived or changed after issue and nothing twice.
invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column(
        "number",
        String(120),
        ForeignKey("invoices.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("attendance_id", String(36), primary_key=True),
    Column("child_id", String(ID_LENGTH), primary_key=True),
    Column("family_id", String(ID_LENGTH), nullable=False),
    Column("kind", String(10), nullable=False),  # regular | late | credit
    Column("status", String(10), nullable=False),
    Column("session_date", Date, nullable=False),
    Column("amount_pence", Integer),
    Index("ix_invoice_lines_attendance", "attendance_id"),
)

#: Reach over many months and organisations: the qualifying share and visits per family.
ix_attendances_org_family_date = Index(
    "ix_attendances_org_family_date",
    attendances.c.org_id,
    attendances.c.family_id,
    attendances.c.session_date,
)


# -- recovery (used by central.setup_data, central.backup) -----------------------------------------
#: Small facts about the database itself; ``epoch`` is renewed when it is restored from a
#: backup, so kiosks know their roster cursor belongs to another history.
server_meta = Table(
    "server_meta",
    metadata,
    Column("key", String(ID_LENGTH), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: Seqs a kiosk told the server it can never send (pruned, set aside, on a replaced store):
#: counted as held so ``holds_up_to`` can pass them, and kept with their sessions so a
#: register can say it is incomplete.
seq_gaps = Table(
    "seq_gaps",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(ID_LENGTH), nullable=False),
    Column("from_seq", BigInteger, nullable=False),
    Column("to_seq", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("detail", Text, nullable=False),
    Column("sessions", JSON, nullable=False),
    Column("events", Integer),
    Column("reported_at", UTCDateTime, nullable=False),
    UniqueConstraint("device_id", "from_seq", "to_seq", "kind", name="uq_seq_gaps_range"),
    Index("ix_seq_gaps_device_from", "device_id", "from_seq"),
)

#: A site's timetable as the server holds it (``kiosk-central session add``); kiosks pull it.
site_sessions = Table(
    "site_sessions",
    metadata,
    Column("org_id", String(ID_LENGTH), primary_key=True),
    Column("site_id", String(ID_LENGTH), primary_key=True),
    Column("slot_id", String(ID_LENGTH), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("weekday", Integer),
    Column("on_date", Date),
    Column("start_time", String(5), nullable=False),
    Column("end_time", String(5), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["org_id", "site_id"], ["sites.org_id", "sites.site_id"]),
)

#: Every version of an organisation's risk list (``kiosk-central risk import``); kiosks pull
#: the newest and record its version string in every attendance.
risk_lists = Table(
    "risk_lists",
    metadata,
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("areas", JSON, nullable=False),
    Column("source", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Lists built from official data (``risk import-lsoa``): the selection rule in words and the
    # files it came from (names, dates, sha256, rows), as the kiosk's version record has them.
    Column("rule", Text),
    Column("sources", JSON),
)


# -- audit and access (used by central.audit, central.web.auth) ------------------------------------
#: Who did what, in order, hash-chained (``central.audit``): each row's ``hash`` is the SHA-256
#: of the previous row's hash and its own content, so a changed, removed or inserted row breaks
#: the chain (``kiosk-central audit verify``). Append-only: triggers refuse UPDATE and DELETE
#: (and TRUNCATE on PostgreSQL). ``detail`` is canonical JSON text, hashed exactly as stored.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_action", "action"),
)

#: Extra rights given to one user: ``names`` lets a commissioner see family names.
GRANTS: tuple[str, ...] = ("names",)
user_grants = Table(
    "user_grants",
    metadata,
    Column("user_name", String(ID_LENGTH), ForeignKey("users.name"), primary_key=True),
    Column("grant", String(32), primary_key=True),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UTCDateTime, nullable=False),
)

#: Failed dashboard logins, by name and client address, for throttling across processes
#: (``central.web.auth.LoginThrottle``); rows older than the window are pruned as it goes.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", String(64), nullable=False),
    Index("ix_login_failures_name_at", "name", "at"),
    Index("ix_login_failures_address_at", "address", "at"),
)

#: Dashboard sign-ins (``central.web.auth.Sessions``). Only the SHA-256 of each session id (the
#: cookie's value) is kept, so a copy of the database opens no session. A row goes at logout,
#: when its user is disabled or given a new password, and once expired; ``password_check`` (a
#: hash of the password hash it was opened with) also ends it if the password changes any other
#: way.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_name", String(ID_LENGTH), ForeignKey("users.name"), nullable=False),
    Column("password_check", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_web_sessions_user_name", "user_name"),
    Index("ix_web_sessions_expires_at", "expires_at"),
)

_APPEND_ONLY_SQLITE = tuple(
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for op in ("UPDATE", "DELETE")
)
_APPEND_ONLY_POSTGRES = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only: ' || TG_OP || ' refused'; "
    "END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)
# Run whenever audit_log is created: by create_all for a fresh database, by migration 6 else.
for _sql in _APPEND_ONLY_SQLITE:
    event.listen(audit_log, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in _APPEND_ONLY_POSTGRES:
    event.listen(audit_log, "after_create", DDL(_sql).execute_if(dialect="postgresql"))


# -- family rights (used by central.privacy) -------------------------------------------------------
#: One random salt per organisation, for the hashes that stand for erased families' ids
#: (``kiosk.domain.erasure``); kiosks of the organisation get it with each erasure.
privacy_salts = Table(
    "privacy_salts",
    metadata,
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id"), primary_key=True),
    Column("salt", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

#: Every erasure (``kiosk-central family erase``): when, who asked, the anonymous token and the
#: salted hash of the family id, never the id itself. ``id`` is the kiosks' erasure cursor.
erasures = Table(
    "erasures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", String(ID_LENGTH), nullable=False),
    Column("token", String(ID_LENGTH), nullable=False, unique=True),
    Column("family_hash", String(64), nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("erased_at", UTCDateTime, nullable=False),
    # What was erased and what was kept, as counts only.
    Column("summary", JSON, nullable=False),
    UniqueConstraint("org_id", "family_hash", name="uq_erasures_org_family"),
    Index("ix_erasures_org_id", "org_id", "id"),
)

#: How long an organisation keeps attendances (``kiosk-central retention set``); no row: keep.
retention_policies = Table(
    "retention_policies",
    metadata,
    Column("org_id", String(ID_LENGTH), ForeignKey("orgs.org_id"), primary_key=True),
    Column("years", Integer, nullable=False),
    Column("policy", String(10), nullable=False),  # "aggregate" or "delete"
    Column("set_by", String(200), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)

#: What ``retention apply`` kept of the attendances it deleted (policy ``aggregate``): counts
#: per organisation, site and month, added to when later runs reach the same month.
attendance_aggregates = Table(
    "attendance_aggregates",
    metadata,
    Column("org_id", String(ID_LENGTH), primary_key=True),
    Column("site_id", String(ID_LENGTH), primary_key=True),
    Column("month", String(7), primary_key=True),  # "2016-04"
    Column("attendances", Integer, nullable=False),
    Column("child_attendances", Integer, nullable=False),
    Column("qualifying_child_attendances", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: Every ``retention apply`` that changed something: what it removed, for the record.
retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", String(ID_LENGTH), nullable=False),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("ran_by", String(200), nullable=False),
    Column("policy", String(10), nullable=False),
    Column("cutoff", Date, nullable=False),  # attendances before this day were removed
    Column("attendances", Integer, nullable=False),
    Column("child_attendances", Integer, nullable=False),
    Column("events", Integer, nullable=False),
)


# -- kiosk health (used by central.health) ---------------------------------------------------------
#: Each kiosk's latest status report (``POST /api/v1/status``), replaced by the next one:
#: what the server cannot see itself (the kiosk's outbox, refused events, clock, software).
#: ``received_at`` is the server's clock; ``sent_at`` and ``oldest_waiting_at`` the kiosk's.
device_status = Table(
    "device_status",
    metadata,
    Column("device_id", String(ID_LENGTH), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("waiting", Integer, nullable=False),
    Column("oldest_waiting_at", UTCDateTime),
    Column("rejected", Integer, nullable=False),
    # [{"reason": ..., "count": ...}], at most sync.protocol.MAX_STATUS_REASONS of them.
    Column("reasons", JSON, nullable=False),
    Column("conflicts", Integer, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    Column("software_version", String(64), nullable=False),
)


# -- geography and population (used by central.geography) ------------------------------------------
#: The postcode directory as last imported (``risk import-lsoa``): each postcode's LSOA, and the
#: ward and district it lies in. Replaced whole by the next import (``area_imports`` says which).
postcode_areas = Table(
    "postcode_areas",
    metadata,
    Column("postcode", String(8), primary_key=True),  # as families' postcodes: "WS13 6AB"
    Column("lsoa", String(9), nullable=False, index=True),
    Column("ward", String(9), nullable=False),
    Column("district", String(9), nullable=False),
    Column("live", Boolean, nullable=False),  # not terminated (leaflets go to live ones)
)

#: Each LSOA of the imported directory: its IMD rank and decile, its (best-fit) ward and
#: district: the ward and district most of its postcodes are in.
lsoa_areas = Table(
    "lsoa_areas",
    metadata,
    Column("lsoa", String(9), primary_key=True),
    Column("imd_rank", Integer),
    Column("imd_decile", Integer),
    Column("ward", String(9), nullable=False),
    Column("district", String(9), nullable=False),
    Column("district_name", String(200), nullable=False, server_default=""),
)

#: What the postcode directory and the boundaries came from (one row per kind, replaced).
area_imports = Table(
    "area_imports",
    metadata,
    Column("kind", String(20), primary_key=True),  # "directory" or "boundaries"
    Column("source", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("vintage", Integer),  # LSOA 2011 or 2021 codes
    Column("rows", Integer, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
)

#: Every version of the population estimates (``kiosk-central population import``).
population_versions = Table(
    "population_versions",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("source", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("layout", String(20), nullable=False),
    Column("vintage", Integer),
    Column("lsoas", Integer, nullable=False),
    Column("people", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

#: One version's people per LSOA by single year of age: ``counts[a]`` people aged ``a``
#: (the last, 90, is 90 and over), persons (females and males added up).
population_estimates = Table(
    "population_estimates",
    metadata,
    Column(
        "version",
        Integer,
        ForeignKey("population_versions.number", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("lsoa", String(9), primary_key=True),
    Column("counts", JSON, nullable=False),
)

#: LSOA boundaries from the council's GeoJSON file, for the reach map: one (multi)polygon each.
lsoa_boundaries = Table(
    "lsoa_boundaries",
    metadata,
    Column("lsoa", String(9), primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("geometry", JSON, nullable=False),  # GeoJSON Polygon or MultiPolygon coordinates
)


# -- migrations ------------------------------------------------------------------------------------
# The schema's history is the Alembic revisions in central/migrations: the tables
# above are always the latest; change one only together with a new revision written with
# frozen operations (tests/upgrades checks the two agree).
#: The newest schema this server knows, as a number (``schema_version``, ``/health``).
LATEST_VERSION = migrations.revision_number(migrations.head())
