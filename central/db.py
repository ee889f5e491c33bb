"""The central server's only data-access module (DESIGN.md, Central server).

SQLAlchemy Core over SQLite (the default: a file, no set-up) or PostgreSQL (a database URL).
Everything that reads or writes the database lives here; the HTTP API and the CLI call
:class:`CentralDB` and never build SQL themselves.

The schema is created and upgraded by :mod:`central.migrations` (Alembic revisions, issue 19):
a fresh database gets every table at the latest revision; an existing one is upgraded by
``kiosk-central migrate`` (:meth:`CentralDB.migrate`), and ``serve`` refuses one that is behind.

    >>> db = CentralDB.open("sqlite:////tmp/doorstep-doctest.sqlite3")  # doctest: +SKIP
    >>> db.add_org("lichfield"); db.add_site("lichfield", "library")    # doctest: +SKIP
    >>> token = db.add_device("lichfield", "library", "kiosk-1")         # doctest: +SKIP

Ingest (:meth:`CentralDB.ingest`) applies a batch in one transaction: events are inserted with
``executemany``, attendances and their children likewise; duplicates are recognised by
``event_id`` (a unique constraint, so a retry after a dropped connection is answered
``duplicate``). Writes for one organisation are serialised (PostgreSQL: an advisory lock;
SQLite: ``BEGIN IMMEDIATE``) so the roster cursor (the events' row id) only ever grows in commit
order and a kiosk pulling the roster never skips a row committed late.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pydantic_core
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import DDL
from sqlalchemy.types import TypeDecorator

from central import migrations
from central.claims import (
    DateWindow,
    conflict_reason,
    differences,
    implausible_date,
    write_off_refusal,
)
from central.files import private_sqlite
from central.health import DeviceFacts, ReportedStatus, WriteOff
from kiosk.domain.erasure import (
    ERASED_PREFIX,
    Erasure,
    event_family,
    family_hash,
    is_erased,
    scrub_event,
)
from sync.protocol import (
    MAX_SEQ,
    ROSTER_PAGE_SIZE,
    ROSTER_TYPES,
    AttendanceAmendedData,
    AttendanceRecordedData,
    CardData,
    Checked,
    EventResult,
    MemberData,
    validate_event,
)

#: The data folder used when no database URL is given (``$KIOSK_CENTRAL_DATA`` overrides).
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "doorstep-central"
#: ``staff`` see their organisation's totals and registers; ``finance`` (the organisation's
#: person who sends the invoice) also its lines, which say who qualifies and why; the
#: ``commissioner`` sees every organisation (issue 18).
ROLES: tuple[str, ...] = ("staff", "finance", "commissioner")
#: Roles that belong to one organisation.
ORG_ROLES: tuple[str, ...] = ("staff", "finance")

_ID = 64


class CentralError(Exception):
    """Root of the errors the central server raises on purpose (messages are for people)."""


class AlreadyExists(CentralError):
    """An organisation, site, device or user that is already enrolled."""


class NotFound(CentralError, LookupError):
    """An organisation, site or device that is not enrolled."""


class WriteOffRefused(CentralError, ValueError):
    """A write-off of seqs the device cannot have issued (``central.claims``); ``index`` is
    the gap's place in the report."""

    def __init__(self, message: str, index: int = 0) -> None:
        super().__init__(message)
        self.index = index


class SchemaTooNew(CentralError):
    """The database was migrated by a newer server than this one."""


class SchemaBehind(CentralError):
    """The database is at an older revision than this server's: ``kiosk-central migrate``."""


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


# -- the schema (latest version) -------------------------------------------------------------
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
    Column("org_id", String(_ID), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    # What people call it ("Spark CIC"), shown in reports; the id never changes (issue 18).
    Column("name", String(200)),
)

sites = Table(
    "sites",
    metadata,
    Column("org_id", String(_ID), ForeignKey("orgs.org_id"), primary_key=True),
    Column("site_id", String(_ID), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("name", String(200)),  # "Chase Terrace" (issue 18)
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(_ID), primary_key=True),
    Column("org_id", String(_ID), nullable=False),
    Column("site_id", String(_ID), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_seen_at", UTCDateTime),
    # The highest seq up to which the server holds every event of this device.
    Column("holds_up_to", BigInteger, nullable=False, server_default="0"),
    # Refused events answered but not kept, because the device's quota was full (issue 16).
    Column("unkept_rejections", BigInteger, nullable=False, server_default="0"),
    ForeignKeyConstraint(["org_id", "site_id"], ["sites.org_id", "sites.site_id"]),
)

users = Table(
    "users",
    metadata,
    Column("name", String(_ID), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("org_id", String(_ID), ForeignKey("orgs.org_id")),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),  # the roster cursor
    Column("event_id", String(36), nullable=False, unique=True),
    Column("org_id", String(_ID), nullable=False),
    Column("site_id", String(_ID), nullable=False),
    Column("device_id", String(_ID), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("type", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("clock_synced", Boolean, nullable=False),
    # The record the event changes: family id, card uid or attendance id.
    Column("subject_id", String(_ID), nullable=False),
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
    Column("device_id", String(_ID), nullable=False),
    Column("seq", BigInteger),
    Column("event_id", String(80)),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # SHA-256 of the event as sent: the same refused event is kept once (issue 16).
    Column("digest", String(64)),
    UniqueConstraint("device_id", "seq", name="uq_rejections_device_seq"),
    Index("ix_rejections_device_digest", "device_id", "digest"),
)

#: The same event id sent with different content (issue 16): the server keeps the copy it has
#: and this, once per different copy, for someone to compare (kiosk health on the dashboard).
event_conflicts = Table(
    "event_conflicts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(_ID), nullable=False),
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
    Column("family_id", String(_ID), primary_key=True),
    Column("org_id", String(_ID), nullable=False, index=True),
    Column("greeting_name", String(200), nullable=False),
    Column("postcode", String(16), nullable=False),
    Column("criteria", JSON, nullable=False),
    Column("consent_date", Date),
    Column("heard_from", String(40)),
    Column("adults", Integer, nullable=False),
    Column("language", String(20)),
    Column("registered_at", UTCDateTime),
    Column("registered_site_id", String(_ID)),
    Column("registered_device_id", String(_ID)),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_event_id", String(36), nullable=False),
)

children = Table(
    "children",
    metadata,
    Column(
        "family_id",
        String(_ID),
        ForeignKey("families.family_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("child_id", String(_ID), primary_key=True),
    Column("first_name", String(200), nullable=False),
    Column("born", String(7)),
)

cards = Table(
    "cards",
    metadata,
    Column("org_id", String(_ID), primary_key=True),
    Column("uid", String(20), primary_key=True),
    Column("family_id", String(_ID), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_event_id", String(36), nullable=False),
)

attendances = Table(
    "attendances",
    metadata,
    Column("attendance_id", String(36), primary_key=True),  # the recording event's id
    Column("org_id", String(_ID), nullable=False),
    Column("site_id", String(_ID), nullable=False),
    Column("device_id", String(_ID), nullable=False),
    Column("session_key", String(200), nullable=False),
    Column("session_date", Date, nullable=False),
    Column("session_name", String(200), nullable=False),
    Column("slot_id", String(_ID), nullable=False),
    Column("family_id", String(_ID), nullable=False, index=True),
    Column("adults", Integer, nullable=False),
    Column("method", String(10), nullable=False),
    Column("volunteer", String(200)),
    Column("qualifies", Boolean, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("risk_version", String(_ID), nullable=False),
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
    Column("child_id", String(_ID), primary_key=True),
    # Copies of the attendance's own columns (migration 4, issue 6), written with every child
    # row at ingest, so reach counts children from this table alone instead of joining a
    # county month of attendances. They never change: an attendance's organisation, date and
    # qualification are fixed when it is recorded; an amendment replaces the child rows.
    Column("org_id", String(_ID), nullable=False),
    Column("session_date", Date, nullable=False),
    Column("qualifies", Boolean, nullable=False),
    Index("ix_attendance_children_org_date", "org_id", "session_date"),
)

# -- reports (issue 6; used by central.reports) ----------------------------------------------
#: The rate paid per qualifying child-session, per organisation and contract, from a date.
org_rates = Table(
    "org_rates",
    metadata,
    Column("org_id", String(_ID), ForeignKey("orgs.org_id"), primary_key=True),
    Column("contract", String(_ID), primary_key=True),
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

#: Invoices issued (``kiosk-central invoice issue``, issue 18): a month's backing sheet frozen
#: under its number. ``sheet_csv`` is the CSV exactly as issued (``fingerprint`` is its
#: SHA-256) and ``sheet`` the same lines with what the PDF needs, so an issued sheet is shown
#: as it was, whatever arrives later. A void keeps the row (when, who, why).
invoices = Table(
    "invoices",
    metadata,
    Column("number", String(120), primary_key=True),
    Column("org_id", String(_ID), ForeignKey("orgs.org_id"), nullable=False),
    Column("contract", String(_ID), nullable=False),
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
    Column("child_id", String(_ID), primary_key=True),
    Column("family_id", String(_ID), nullable=False),
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


# -- recovery (issue 9; used by central.setup_data, central.backup) --------------------------
#: Small facts about the database itself; ``epoch`` is renewed when it is restored from a
#: backup, so kiosks know their roster cursor belongs to another history.
server_meta = Table(
    "server_meta",
    metadata,
    Column("key", String(_ID), primary_key=True),
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
    Column("device_id", String(_ID), nullable=False),
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
    Column("org_id", String(_ID), primary_key=True),
    Column("site_id", String(_ID), primary_key=True),
    Column("slot_id", String(_ID), primary_key=True),
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
    Column("org_id", String(_ID), ForeignKey("orgs.org_id"), primary_key=True),
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


# -- audit and access (issue 8; used by central.audit, central.web.auth) ---------------------
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
    Column("user_name", String(_ID), ForeignKey("users.name"), primary_key=True),
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
    Column("user_name", String(_ID), ForeignKey("users.name"), nullable=False),
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


# -- family rights (issue 8; used by central.privacy) ----------------------------------------
#: One random salt per organisation, for the hashes that stand for erased families' ids
#: (``kiosk.domain.erasure``); kiosks of the organisation get it with each erasure.
privacy_salts = Table(
    "privacy_salts",
    metadata,
    Column("org_id", String(_ID), ForeignKey("orgs.org_id"), primary_key=True),
    Column("salt", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

#: Every erasure (``kiosk-central family erase``): when, who asked, the anonymous token and the
#: salted hash of the family id, never the id itself. ``id`` is the kiosks' erasure cursor.
erasures = Table(
    "erasures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", String(_ID), nullable=False),
    Column("token", String(_ID), nullable=False, unique=True),
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
    Column("org_id", String(_ID), ForeignKey("orgs.org_id"), primary_key=True),
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
    Column("org_id", String(_ID), primary_key=True),
    Column("site_id", String(_ID), primary_key=True),
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
    Column("org_id", String(_ID), nullable=False),
    Column("ran_at", UTCDateTime, nullable=False),
    Column("ran_by", String(200), nullable=False),
    Column("policy", String(10), nullable=False),
    Column("cutoff", Date, nullable=False),  # attendances before this day were removed
    Column("attendances", Integer, nullable=False),
    Column("child_attendances", Integer, nullable=False),
    Column("events", Integer, nullable=False),
)


# -- kiosk health (used by central.health) --------------------------------------------------
#: Each kiosk's latest status report (``POST /api/v1/status``), replaced by the next one:
#: what the server cannot see itself (the kiosk's outbox, refused events, clock, software).
#: ``received_at`` is the server's clock; ``sent_at`` and ``oldest_waiting_at`` the kiosk's.
device_status = Table(
    "device_status",
    metadata,
    Column("device_id", String(_ID), primary_key=True),
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


# -- geography and population (issue 18; used by central.geography) -------------------------
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


# -- migrations ------------------------------------------------------------------------------
# The schema's history is the Alembic revisions in central/migrations (issue 19): the tables
# above are always the latest; change one only together with a new revision written with
# frozen operations (tests/upgrades checks the two agree).
#: The newest schema this server knows, as a number (``schema_version``, ``/health``).
LATEST_VERSION = migrations.revision_number(migrations.head())


# -- engines ---------------------------------------------------------------------------------
_READ_ONLY = "doorstep_read_only"
#: PostgreSQL connections each server process keeps open and uses at most. All kept, none
#: "overflow": an overflow connection is closed as soon as it is handed back, and opening one
#: costs PostgreSQL a process and a password exchange, which under load (300 kiosks) came to
#: 58 new connections a run with 10 kept + 10 overflow. ``serve --workers N`` opens up to N
#: times this many: 4 x 20 is within PostgreSQL's default max_connections of 100.
POSTGRES_POOL_SIZE = 20


def default_database_url() -> str:
    """``$KIOSK_CENTRAL_DB``, else a SQLite file in ``$KIOSK_CENTRAL_DATA`` (or the default)."""
    if os.environ.get("KIOSK_CENTRAL_DB"):
        return os.environ["KIOSK_CENTRAL_DB"]
    folder = Path(os.environ.get("KIOSK_CENTRAL_DATA") or DEFAULT_DATA_DIR)
    return f"sqlite:///{folder / 'central.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` (we use psycopg 3) and ``sqlite:///``."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and ``BEGIN IMMEDIATE``, and
    are made private (``central.files``: 0600, a new folder 0700)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise CentralError("use a SQLite file (sqlite:///path/to/central.sqlite3)")
        # 0600 before SQLite creates it: its -wal and -shm take the file's mode (issue 16).
        private_sqlite(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # One writer at a time, decided up front: no "database is locked" half way through
            # a batch, and rows become visible in the order their ids were given. Readers
            # (CentralDB._reading) take a plain snapshot and never wait for a writer (WAL).
            if conn.get_execution_options().get(_READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=0
        )
    raise CentralError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


# -- secrets ---------------------------------------------------------------------------------
def new_device_token() -> str:
    """A high-entropy bearer token (256 bits), shown once to the admin."""
    return "dsk_" + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a device token: enough for a random 256-bit secret (no dictionary to try)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A dashboard password's argon2id hash (``kiosk.domain.passwords``, the one password
    module)."""
    from kiosk.domain.passwords import hash_password as hashed

    return hashed(password, salt)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (argon2id, or the scrypt hashes written before
    it); False for a malformed hash (``kiosk.domain.passwords``)."""
    from kiosk.domain.passwords import verify_password as verified

    return verified(password, stored)


# -- records ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Device:
    """An enrolled kiosk, as the bearer token identifies it."""

    device_id: str
    org_id: str
    site_id: str
    revoked: bool = False
    holds_up_to: int = 0
    #: When the server last heard from it (kiosk health), as read with the token.
    last_seen_at: datetime | None = None
    #: When it was enrolled: its events' dates are checked against it (``central.claims``).
    enrolled_at: datetime | None = None


@dataclass(frozen=True)
class IngestResult:
    results: list[EventResult]
    holds_up_to: int


@dataclass(frozen=True)
class RosterPage:
    events: list[dict[str, Any]]
    cursor: int
    more: bool
    #: Families erased since the kiosk's erasure cursor (issue 8), when it asked for them.
    erasures: list[dict[str, Any]] | None = None
    erasure_cursor: int | None = None
    erasures_more: bool = False


def _lock_key(org_id: str) -> int:
    return int.from_bytes(hashlib.sha256(org_id.encode()).digest()[:8], "big", signed=True)


def _dumps(raw: Mapping[str, Any]) -> str:
    return pydantic_core.to_json(raw).decode(
        "utf-8"
    )  # compact JSON, several times json.dumps' speed


def _subject(checked: Checked) -> str:
    data = checked.data
    if isinstance(data, MemberData):
        return data.family.family_id
    if isinstance(data, CardData):
        return data.uid
    if isinstance(data, AttendanceAmendedData):
        return data.attendance_id
    assert checked.event is not None
    return checked.event.event_id


def _too_new(found: migrations.SchemaState) -> SchemaTooNew:
    return SchemaTooNew(
        f"the database is at schema revision {found.current} but this server only knows up to "
        f"{found.head}: upgrade doorstep-kiosk on the server"
    )


class CentralDB:
    """The central database: enrolment, ingest, the roster and counts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, migrate: bool = True, upgrade: bool = True) -> CentralDB:
        """Open the database at ``url``. ``migrate``: create it if it is empty and, with
        ``upgrade`` (tests, scripts), bring an older one to the latest revision; without
        ``upgrade`` (the ``kiosk-central`` commands) an older one is refused
        (:class:`SchemaBehind`, saying what to run). ``migrate=False`` opens it as it is."""
        db = cls(make_engine(url or default_database_url()))
        try:
            if migrate and upgrade:
                db.migrate()
            elif migrate:
                db.require_current(create=True)
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A connection for reads only (on SQLite it does not queue behind writers)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(**{_READ_ONLY: True})

    # -- schema ------------------------------------------------------------------------------
    def schema_state(self) -> migrations.SchemaState:
        """Where the database stands against this server's revisions (changes nothing)."""
        with self._reading() as conn:
            return migrations.state(conn)

    def schema_version(self) -> int:
        """The revision in force as a number (0 for an empty database)."""
        return migrations.revision_number(self.schema_state().current)

    def migrate(self) -> tuple[str | None, str]:
        """Create or upgrade the schema to the latest revision, in one transaction; returns
        (revision before, revision after): equal when there was nothing to do, None before
        for a database that was empty."""
        with self.engine.begin() as conn:
            self._lock(conn, "schema")
            found = migrations.state(conn)
            if found.too_new:
                raise _too_new(found)
            return migrations.upgrade(conn, metadata)

    def require_current(self, create: bool = False) -> None:
        """Refuse a database that is behind (or ahead of) this server, saying what to run;
        ``create``: an empty one is created at the latest revision (there is nothing to keep).
        """
        found = self.schema_state()
        if found.too_new:
            raise _too_new(found)
        if found.behind:
            how = "kiosk-central backup FILE" if self.dialect == "sqlite" else "pg_dump"
            raise SchemaBehind(
                f"the database is at schema revision {found.current} but this server needs "
                f"{found.head}: back it up ({how}), then run 'kiosk-central migrate' with the "
                "server stopped (docs/upgrades.md)"
            )
        if found.empty and create:
            self.migrate()

    def _lock(self, conn: Connection, name: str) -> None:
        """Serialise writers on ``name`` (SQLite is already serialised by BEGIN IMMEDIATE)."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(name)})

    # -- enrolment ---------------------------------------------------------------------------
    def add_org(self, org_id: str, name: str | None = None) -> None:
        org_id = _check_id(org_id, "organisation")
        name = _display_name(name, "organisation")
        with self.engine.begin() as conn:
            if conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first():
                raise AlreadyExists(f"organisation {org_id!r} already exists")
            conn.execute(insert(orgs).values(org_id=org_id, name=name, created_at=utcnow()))

    def add_site(self, org_id: str, site_id: str, name: str | None = None) -> None:
        site_id = _check_id(site_id, "site")
        name = _display_name(name, "site")
        with self.engine.begin() as conn:
            self._require_org(conn, org_id)
            exists = conn.execute(
                select(sites.c.site_id).where(sites.c.org_id == org_id, sites.c.site_id == site_id)
            ).first()
            if exists:
                raise AlreadyExists(f"site {site_id!r} already exists in organisation {org_id!r}")
            conn.execute(
                insert(sites).values(org_id=org_id, site_id=site_id, name=name, created_at=utcnow())
            )

    def set_org_name(self, org_id: str, name: str) -> None:
        """Give an existing organisation the name people use (its id stays as it is)."""
        value = _display_name(name, "organisation") or None
        with self.engine.begin() as conn:
            self._require_org(conn, org_id)
            conn.execute(update(orgs).where(orgs.c.org_id == org_id).values(name=value))

    def set_site_name(self, org_id: str, site_id: str, name: str) -> None:
        """Give an existing site the name people use (its id stays as it is)."""
        value = _display_name(name, "site") or None
        with self.engine.begin() as conn:
            self._require_org(conn, org_id)
            done = conn.execute(
                update(sites)
                .where(sites.c.org_id == org_id, sites.c.site_id == site_id)
                .values(name=value)
            )
            if not done.rowcount:
                raise NotFound(
                    f"organisation {org_id!r} has no site {site_id!r} (see 'kiosk-central site "
                    f"add {org_id} {site_id}')"
                )

    def org_list(self) -> list[tuple[str, str | None]]:
        """Every organisation's id and name, by id."""
        with self._reading() as conn:
            return [
                (r.org_id, r.name)
                for r in conn.execute(select(orgs.c.org_id, orgs.c.name).order_by(orgs.c.org_id))
            ]

    def site_list(self, org_id: str | None = None) -> list[tuple[str, str, str | None]]:
        """Sites as (organisation, site id, name), by organisation and id."""
        query = select(sites.c.org_id, sites.c.site_id, sites.c.name).order_by(
            sites.c.org_id, sites.c.site_id
        )
        if org_id is not None:
            query = query.where(sites.c.org_id == org_id)
        with self._reading() as conn:
            return [(r.org_id, r.site_id, r.name) for r in conn.execute(query)]

    def add_device(
        self, org_id: str, site_id: str, device_id: str, enrolled_at: datetime | None = None
    ) -> str:
        """Enrol a kiosk; returns its bearer token (only its hash is stored: show it once).

        ``enrolled_at`` (default now) bounds the dates its events may carry
        (``central.claims``); tests of old terms enrol their kiosks back then."""
        device_id = _check_id(device_id, "device")
        token = new_device_token()
        with self.engine.begin() as conn:
            self._require_org(conn, org_id)
            site = conn.execute(
                select(sites.c.site_id).where(sites.c.org_id == org_id, sites.c.site_id == site_id)
            ).first()
            if site is None:
                raise NotFound(
                    f"organisation {org_id!r} has no site {site_id!r}: add it first with "
                    f"'kiosk-central site add {org_id} {site_id}'"
                )
            existing = conn.execute(
                select(devices.c.org_id, devices.c.site_id, devices.c.revoked_at).where(
                    devices.c.device_id == device_id
                )
            ).first()
            if existing is not None and existing.revoked_at is not None:
                # Enrolled again after a revoke (a kiosk found, or its write-offs put right):
                # a new token, the same history, within the same organisation (issue 16).
                if existing.org_id != org_id:
                    raise AlreadyExists(
                        f"device {device_id!r} was enrolled at organisation "
                        f"{existing.org_id!r} (revoked); its events are that organisation's, "
                        "so it can only be enrolled again there: choose another id"
                    )
                conn.execute(
                    update(devices)
                    .where(devices.c.device_id == device_id)
                    .values(site_id=site_id, token_hash=token_hash(token), revoked_at=None)
                )
                return token
            if existing:
                raise AlreadyExists(
                    f"device {device_id!r} is already enrolled (at {existing.org_id}/"
                    f"{existing.site_id}); choose another id"
                )
            conn.execute(
                insert(devices).values(
                    device_id=device_id,
                    org_id=org_id,
                    site_id=site_id,
                    token_hash=token_hash(token),
                    created_at=enrolled_at or utcnow(),
                )
            )
        return token

    def revoke_device(self, device_id: str) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(devices.c.revoked_at).where(devices.c.device_id == device_id)
            ).first()
            if row is None:
                raise NotFound(f"no device {device_id!r} is enrolled")
            if row.revoked_at is None:
                conn.execute(
                    update(devices)
                    .where(devices.c.device_id == device_id)
                    .values(revoked_at=utcnow())
                )

    def devices(self) -> list[Device]:
        with self._reading() as conn:
            rows = conn.execute(select(devices).order_by(devices.c.device_id)).all()
        return [_device(r) for r in rows]

    def device_for_token(self, token: str) -> Device | None:
        with self._reading() as conn:
            row = conn.execute(
                select(devices).where(devices.c.token_hash == token_hash(token))
            ).first()
        return _device(row) if row else None

    def add_user(self, name: str, role: str, org_id: str | None = None) -> str:
        """Add a reporting user; returns a generated password (only its hash is stored)."""
        name = _check_id(name, "user name")
        if role not in ROLES:
            raise CentralError(f"role {role!r} must be one of {', '.join(ROLES)}")
        if role in ORG_ROLES and not org_id:
            raise CentralError(f"a {role} user belongs to an organisation: give --org ORG")
        password = secrets.token_urlsafe(15)
        with self.engine.begin() as conn:
            if org_id:
                self._require_org(conn, org_id)
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise AlreadyExists(f"user {name!r} already exists")
            conn.execute(
                insert(users).values(
                    name=name,
                    role=role,
                    org_id=org_id,
                    password_hash=hash_password(password),
                    created_at=utcnow(),
                )
            )
        return password

    def check_user(self, name: str, password: str) -> dict[str, Any] | None:
        """The user's name, role and organisation if ``password`` is theirs, else None."""
        with self._reading() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        if row is None or row.disabled_at is not None:
            return None
        if not verify_password(password, row.password_hash):
            return None
        return {"name": row.name, "role": row.role, "org_id": row.org_id}

    # -- users: disabling and grants (issue 8) ------------------------------------------------
    def disable_user(self, name: str, now: datetime | None = None) -> bool:
        """Stop ``name`` signing in (their sessions end too); False if already disabled."""
        with self.engine.begin() as conn:
            row = conn.execute(select(users.c.disabled_at).where(users.c.name == name)).first()
            if row is None:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            if row.disabled_at is not None:
                return False
            conn.execute(
                update(users).where(users.c.name == name).values(disabled_at=now or utcnow())
            )
            conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        return True

    def reset_password(self, name: str) -> str:
        """Give ``name`` a new generated password (returned, only its hash is stored) and end
        every dashboard session they have open."""
        password = secrets.token_urlsafe(15)
        with self.engine.begin() as conn:
            found = conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(password_hash=hash_password(password))
            )
            if found.rowcount == 0:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            conn.execute(delete(web_sessions).where(web_sessions.c.user_name == name))
        return password

    def list_users(self) -> list[dict[str, Any]]:
        """Every user with their role, organisation, whether disabled, and their grants."""
        with self._reading() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
            granted: dict[str, list[str]] = {}
            for g in conn.execute(select(user_grants).order_by(user_grants.c.grant)):
                granted.setdefault(g.user_name, []).append(g.grant)
        return [
            {
                "name": r.name,
                "role": r.role,
                "org_id": r.org_id,
                "disabled": r.disabled_at is not None,
                "grants": granted.get(r.name, []),
            }
            for r in rows
        ]

    def user_grants(self, name: str) -> frozenset[str]:
        with self._reading() as conn:
            found = conn.execute(
                select(user_grants.c.grant).where(user_grants.c.user_name == name)
            ).scalars()
            return frozenset(found)

    def grant(self, name: str, what: str, by: str, now: datetime | None = None) -> bool:
        """Give ``name`` the right ``what`` (one of :data:`GRANTS`); False if they had it."""
        if what not in GRANTS:
            raise CentralError(f"grant {what!r} must be one of {', '.join(GRANTS)}")
        with self.engine.begin() as conn:
            row = conn.execute(select(users.c.role).where(users.c.name == name)).first()
            if row is None:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            if what == "names" and row.role != "commissioner":
                raise CentralError(
                    f"{name} is {row.role}: staff already see their own organisation's names; "
                    "the names grant is for commissioners"
                )
            held = conn.execute(
                select(user_grants.c.grant).where(
                    user_grants.c.user_name == name, user_grants.c.grant == what
                )
            ).first()
            if held is not None:
                return False
            conn.execute(
                insert(user_grants).values(
                    user_name=name, grant=what, granted_by=by[:200], granted_at=now or utcnow()
                )
            )
        return True

    def revoke_grant(self, name: str, what: str) -> bool:
        """Take the right ``what`` away from ``name``; False if they did not have it."""
        if what not in GRANTS:
            raise CentralError(f"grant {what!r} must be one of {', '.join(GRANTS)}")
        with self.engine.begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first() is None:
                raise NotFound(f"no user {name!r}: see 'kiosk-central user list'")
            done = conn.execute(
                delete(user_grants).where(
                    user_grants.c.user_name == name, user_grants.c.grant == what
                )
            )
        return bool(done.rowcount)

    @staticmethod
    def _require_org(conn: Connection, org_id: str) -> None:
        if conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first() is None:
            raise NotFound(
                f"no organisation {org_id!r}: add it first with 'kiosk-central org add {org_id}'"
            )

    # -- ingest ------------------------------------------------------------------------------
    def ingest(
        self,
        device: Device,
        raw_events: Sequence[Any],
        now: datetime | None = None,
        window: DateWindow | None = None,
    ) -> IngestResult:
        """Validate and apply a batch from ``device``; one answer per event, in order.

        Idempotent by ``event_id``: an event already held is answered ``duplicate`` and changes
        nothing. All of the batch is applied in one transaction, or none of it. ``window``
        replaces the dates a kiosk's events may carry (``central.claims``) for what the
        server's admin types in (paper registers of any past term).
        """
        checked = [validate_event(raw, device.device_id, device.site_id) for raw in raw_events]
        now = now or utcnow()
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    self._lock(conn, "org:" + device.org_id)
                    results = _Batch(conn, device, checked, now, window).apply()
                    holds = self._advance_holds(conn, device.device_id, now)
                return IngestResult(results, holds)
            except IntegrityError:
                # Another request for the same events committed first (a retry racing the
                # original): run again, and the events will be answered as duplicates.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _advance_holds(conn: Connection, device_id: str, now: datetime) -> int:
        """Move ``holds_up_to`` past every seq now held (applied or set aside as rejected)."""
        current = int(
            conn.execute(
                select(devices.c.holds_up_to).where(devices.c.device_id == device_id)
            ).scalar_one()
        )
        start = current
        page = _HOLDS_PAGE
        while True:
            known: list[int] = []
            limit_at: int | None = None
            for table in (events, rejections):
                seqs = (
                    conn.execute(
                        select(table.c.seq)
                        .where(table.c.device_id == device_id, table.c.seq > current)
                        .order_by(table.c.seq)
                        .limit(page)
                    )
                    .scalars()
                    .all()
                )
                known.extend(seqs)
                if len(seqs) == page:
                    limit_at = seqs[-1] if limit_at is None else min(limit_at, seqs[-1])
            for seq in sorted(set(known)):
                if seq != current + 1 or (limit_at is not None and seq > limit_at):
                    break
                current = seq
            if limit_at is not None and current >= limit_at:
                continue
            # Seqs the kiosk wrote off (POST /api/v1/gaps) count as held too (issue 9).
            jump = _gap_end(conn, device_id, current)
            if jump is None:
                break
            current = jump
        values: dict[str, Any] = {"last_seen_at": now}
        if current != start:
            values["holds_up_to"] = current
        conn.execute(update(devices).where(devices.c.device_id == device_id).values(**values))
        return current

    # -- roster ------------------------------------------------------------------------------
    def roster(
        self,
        device: Device,
        cursor: int,
        limit: int = ROSTER_PAGE_SIZE,
        own_through: int = 0,
        erasures_after: int | None = None,
    ) -> RosterPage:
        """Member and card events of ``device``'s organisation from its other kiosks, and its
        own with ``seq <= own_through`` (those a replaced or restored store no longer has).

        Events of erased families (scrubbed, their subject an ``erased-`` token) are never
        served. ``erasures_after`` (issue 8) also asks for the organisation's erasures after
        that cursor; they are read after the events, so a kiosk that applies the events and
        then the erasures never keeps a family erased meanwhile.
        """
        others = events.c.device_id != device.device_id
        if own_through > 0:
            others = or_(others, events.c.seq <= own_through)
        with self._reading() as conn:
            rows = conn.execute(
                select(events.c.id, events.c.raw)
                .where(
                    events.c.org_id == device.org_id,
                    events.c.type.in_(ROSTER_TYPES),
                    events.c.id > cursor,
                    others,
                    ~events.c.subject_id.startswith(ERASED_PREFIX, autoescape=True),
                )
                .order_by(events.c.id)
                .limit(limit + 1)
            ).all()
        more = len(rows) > limit
        rows = rows[:limit]
        served = [json.loads(r.raw) for r in rows]
        next_cursor = rows[-1].id if rows else cursor
        if erasures_after is None:
            return RosterPage(served, next_cursor, more)
        with self._reading() as conn:
            salt = conn.execute(
                select(privacy_salts.c.salt).where(privacy_salts.c.org_id == device.org_id)
            ).scalar()
            found = conn.execute(
                select(
                    erasures.c.id, erasures.c.token, erasures.c.family_hash, erasures.c.erased_at
                )
                .where(erasures.c.org_id == device.org_id, erasures.c.id > erasures_after)
                .order_by(erasures.c.id)
                .limit(limit + 1)
            ).all()
        erasures_more = len(found) > limit
        found = found[:limit]
        gone = [
            {
                "cursor": int(r.id),
                "token": r.token,
                "family_hash": r.family_hash,
                "salt": salt,
                "erased_at": r.erased_at.isoformat().replace("+00:00", "Z"),
            }
            for r in found
        ]
        return RosterPage(
            served,
            next_cursor,
            more,
            erasures=gone,
            erasure_cursor=int(found[-1].id) if found else erasures_after,
            erasures_more=erasures_more,
        )

    # -- counts, for status and tests ----------------------------------------------------------
    def count(self, table: Table, **where: Any) -> int:
        with self._reading() as conn:
            query = select(func.count()).select_from(table)
            for key, value in where.items():
                query = query.where(table.c[key] == value)
            return int(conn.execute(query).scalar_one())

    def holds_up_to(self, device_id: str) -> int:
        with self._reading() as conn:
            value = conn.execute(
                select(devices.c.holds_up_to).where(devices.c.device_id == device_id)
            ).scalar()
        return int(value or 0)

    # -- recovery (issue 9) --------------------------------------------------------------------
    def highest_seq(self, device_id: str) -> int:
        """The highest seq of ``device_id`` the server knows: held, set aside or written off.

        A kiosk whose store is behind it (new SD card, restored backup) continues above it.
        """
        with self._reading() as conn:
            return self._highest_seq(conn, device_id)

    @staticmethod
    def _highest_seq(conn: Connection, device_id: str, write_offs: bool = True) -> int:
        found = [
            conn.execute(select(func.max(col)).where(table.c.device_id == device_id)).scalar()
            for table, col in (
                (events, events.c.seq),
                (rejections, rejections.c.seq),
                *([(seq_gaps, seq_gaps.c.to_seq)] if write_offs else []),
            )
        ]
        return max((int(v) for v in found if v is not None), default=0)

    def undo_write_off(self, device_id: str, gap_id: int, now: datetime | None = None) -> int:
        """Take back a write-off (``kiosk-central device undo-gap``): the seqs it covered are
        no longer counted as held, so ``holds_up_to`` is worked out again from the start.
        Returns ``holds_up_to`` afterwards."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            device = conn.execute(select(devices).where(devices.c.device_id == device_id)).first()
            if device is None:
                raise NotFound(f"no device {device_id!r} is enrolled")
            self._lock(conn, "org:" + device.org_id)
            gone = conn.execute(
                delete(seq_gaps).where(seq_gaps.c.device_id == device_id, seq_gaps.c.id == gap_id)
            ).rowcount
            if not gone:
                raise NotFound(
                    f"device {device_id!r} has no write-off {gap_id}: "
                    f"'kiosk-central device gaps {device_id}' lists them"
                )
            conn.execute(
                update(devices).where(devices.c.device_id == device_id).values(holds_up_to=0)
            )
            return self._advance_holds(conn, device_id, now)

    def record_gaps(self, device: Device, gaps: Sequence[Any], now: datetime | None = None) -> int:
        """Write off seqs ``device`` can never send (``sync.protocol.Gap``); the same gap
        reported again is kept once. Returns ``holds_up_to`` afterwards."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            self._lock(conn, "org:" + device.org_id)
            highest = self._highest_seq(conn, device.device_id, write_offs=False)
            for index, gap in enumerate(gaps):
                refusal = write_off_refusal(gap.from_seq, gap.to_seq, highest)
                if refusal:
                    raise WriteOffRefused(refusal, index)
            for gap in gaps:
                exists = conn.execute(
                    select(seq_gaps.c.id).where(
                        seq_gaps.c.device_id == device.device_id,
                        seq_gaps.c.from_seq == gap.from_seq,
                        seq_gaps.c.to_seq == gap.to_seq,
                        seq_gaps.c.kind == gap.kind,
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(seq_gaps).values(
                            device_id=device.device_id,
                            from_seq=gap.from_seq,
                            to_seq=gap.to_seq,
                            kind=gap.kind,
                            detail=gap.detail,
                            sessions=list(gap.sessions),
                            events=gap.events,
                            reported_at=now,
                        )
                    )
            return self._advance_holds(conn, device.device_id, now)

    def conflicts(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """Copies of held events sent with other content (issue 16), oldest first, each with
        the differing fields' values in the server's copy (``held``) and the other (``sent``).
        """
        query = (
            select(event_conflicts, events.c.raw.label("held_raw"))
            .select_from(
                event_conflicts.outerjoin(events, events.c.event_id == event_conflicts.c.event_id)
            )
            .order_by(event_conflicts.c.id)
        )
        if device_id is not None:
            query = query.where(event_conflicts.c.device_id == device_id)
        out = []
        with self._reading() as conn:
            for row in conn.execute(query):
                held = json.loads(row.held_raw) if row.held_raw else {}
                sent = json.loads(row.raw)
                out.append(
                    {
                        "device_id": row.device_id,
                        "event_id": row.event_id,
                        "received_at": row.received_at,
                        "differs": list(row.differs),
                        "held": {p: _at_path(held, p) for p in row.differs},
                        "sent": {p: _at_path(sent, p) for p in row.differs},
                    }
                )
        return out

    def gaps(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """Written-off seq ranges, oldest report first (for reports and ``device list``)."""
        query = select(seq_gaps).order_by(seq_gaps.c.device_id, seq_gaps.c.from_seq)
        if device_id is not None:
            query = query.where(seq_gaps.c.device_id == device_id)
        with self._reading() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def epoch(self) -> str:
        """This database's history: renewed by :meth:`renew_epoch` after a restore."""
        with self._reading() as conn:
            value = conn.execute(
                select(server_meta.c.value).where(server_meta.c.key == "epoch")
            ).scalar()
        return value if value is not None else self.renew_epoch(only_if_missing=True)

    def renew_epoch(self, only_if_missing: bool = False) -> str:
        """A new epoch (``kiosk-central restore`` and ``mark-restored`` call this): every
        kiosk's roster cursor is then treated as stale and the roster pulled again."""
        fresh = secrets.token_hex(8)
        with self.engine.begin() as conn:
            self._lock(conn, "schema")
            current = conn.execute(
                select(server_meta.c.value).where(server_meta.c.key == "epoch")
            ).scalar()
            if current is not None and only_if_missing:
                return current
            if current is None:
                conn.execute(
                    insert(server_meta).values(key="epoch", value=fresh, updated_at=utcnow())
                )
            else:
                conn.execute(
                    update(server_meta)
                    .where(server_meta.c.key == "epoch")
                    .values(value=fresh, updated_at=utcnow())
                )
        return fresh

    def max_cursor(self) -> int:
        """The highest roster cursor (event row id) given so far."""
        with self._reading() as conn:
            return int(conn.execute(select(func.max(events.c.id))).scalar() or 0)

    # -- kiosk health ------------------------------------------------------------------------
    def touch_device(self, device: Device, now: datetime | None = None) -> None:
        """Note that ``device`` is in contact (its last contact on the kiosk health panel).

        For requests that otherwise only read: at most once a minute per device, so a kiosk
        asking every pass does not turn each read into a write.
        """
        now = now or utcnow()
        seen = device.last_seen_at
        if seen is not None and timedelta(0) <= now - seen < _CONTACT_EVERY:
            return
        with self.engine.begin() as conn:
            conn.execute(
                update(devices)
                .where(
                    devices.c.device_id == device.device_id,
                    or_(devices.c.last_seen_at.is_(None), devices.c.last_seen_at < now),
                )
                .values(last_seen_at=now)
            )

    def record_status(self, device: Device, report: Any, now: datetime | None = None) -> datetime:
        """Keep ``report`` (``sync.protocol.StatusReport``) as the device's latest, replacing
        the one before, and note the contact. Returns when it was received."""
        now = now or utcnow()
        values = {
            "received_at": now,
            "sent_at": report.sent_at,
            "waiting": report.waiting,
            "oldest_waiting_at": report.oldest_waiting_at,
            "rejected": report.rejected,
            "reasons": [{"reason": r.reason, "count": r.count} for r in report.rejected_reasons],
            "conflicts": report.conflicts,
            "clock_synced": report.clock_synced,
            "software_version": report.software_version,
        }
        with self.engine.begin() as conn:
            self._lock(conn, "status:" + device.device_id)
            done = conn.execute(
                update(device_status)
                .where(device_status.c.device_id == device.device_id)
                .values(**values)
            )
            if not done.rowcount:
                conn.execute(insert(device_status).values(device_id=device.device_id, **values))
            conn.execute(
                update(devices)
                .where(devices.c.device_id == device.device_id)
                .values(last_seen_at=now)
            )
        return now

    def device_health_facts(self, org_id: str | None = None) -> list[DeviceFacts]:
        """What the server knows of each active kiosk of ``org_id`` (every organisation's for
        None), by organisation, site and name: for :func:`central.health.device_health`.

        Refused events count when the server stored them after the kiosk's latest report
        (that report counted those before) and no event has since been accepted with their
        seq (the kiosk sent them again, fixed).
        """
        query = (
            select(devices)
            .where(devices.c.revoked_at.is_(None))
            .order_by(devices.c.org_id, devices.c.site_id, devices.c.device_id)
        )
        if org_id is not None:
            query = query.where(devices.c.org_id == org_id)
        refused = (
            select(rejections.c.device_id, rejections.c.reason, func.count().label("n"))
            .select_from(
                rejections.outerjoin(
                    events,
                    and_(
                        events.c.device_id == rejections.c.device_id,
                        events.c.seq == rejections.c.seq,
                    ),
                ).outerjoin(device_status, device_status.c.device_id == rejections.c.device_id)
            )
            .where(
                events.c.id.is_(None),
                or_(
                    device_status.c.received_at.is_(None),
                    rejections.c.received_at > device_status.c.received_at,
                ),
            )
            .group_by(rejections.c.device_id, rejections.c.reason)
        )
        conflicting = (
            select(event_conflicts.c.device_id, func.count().label("n"))
            .select_from(
                event_conflicts.outerjoin(
                    device_status, device_status.c.device_id == event_conflicts.c.device_id
                )
            )
            .where(
                or_(
                    device_status.c.received_at.is_(None),
                    event_conflicts.c.received_at > device_status.c.received_at,
                )
            )
            .group_by(event_conflicts.c.device_id)
        )
        gaps = select(
            seq_gaps.c.device_id,
            seq_gaps.c.kind,
            seq_gaps.c.from_seq,
            seq_gaps.c.to_seq,
            seq_gaps.c.reported_at,
        )
        with self._reading() as conn:
            if org_id is not None:
                self._require_org(conn, org_id)
            rows = conn.execute(query).all()
            ids = [r.device_id for r in rows]
            latest = _rows_in_chunks(conn, select(device_status), device_status.c.device_id, ids)
            reports = {r.device_id: _reported(r) for r in latest}
            server_refused: dict[str, list[tuple[str, int]]] = {}
            for r in _rows_in_chunks(conn, refused, rejections.c.device_id, ids):
                server_refused.setdefault(r.device_id, []).append((r.reason, int(r.n)))
            conflicts = {
                r.device_id: int(r.n)
                for r in _rows_in_chunks(conn, conflicting, event_conflicts.c.device_id, ids)
            }
            written_off: dict[str, list[WriteOff]] = {}
            for r in _rows_in_chunks(conn, gaps, seq_gaps.c.device_id, ids):
                written_off.setdefault(r.device_id, []).append(
                    WriteOff(r.kind, int(r.to_seq) - int(r.from_seq) + 1, r.reported_at)
                )
        return [
            DeviceFacts(
                device_id=r.device_id,
                org_id=r.org_id,
                site_id=r.site_id,
                last_contact=r.last_seen_at,
                report=reports.get(r.device_id),
                server_rejected=tuple(server_refused.get(r.device_id, ())),
                write_offs=tuple(written_off.get(r.device_id, ())),
                conflicts_held=conflicts.get(r.device_id, 0),
                unkept_rejections=int(r.unkept_rejections or 0),
            )
            for r in rows
        ]


#: Contact is noted at most this often from requests that otherwise only read (whoami).
_CONTACT_EVERY = timedelta(minutes=1)


def _reported(row: Any) -> ReportedStatus:
    reasons = row.reasons if isinstance(row.reasons, list) else []
    return ReportedStatus(
        received_at=row.received_at,
        sent_at=row.sent_at,
        waiting=int(row.waiting),
        oldest_waiting_at=row.oldest_waiting_at,
        rejected=int(row.rejected),
        reasons=tuple(
            (str(r.get("reason", "")), int(r.get("count", 0)))
            for r in reasons
            if isinstance(r, dict)
        ),
        clock_synced=bool(row.clock_synced),
        software_version=row.software_version,
        conflicts=int(row.conflicts or 0),
    )


def _device(row: Any) -> Device:
    return Device(
        device_id=row.device_id,
        org_id=row.org_id,
        site_id=row.site_id,
        revoked=row.revoked_at is not None,
        holds_up_to=int(row.holds_up_to or 0),
        last_seen_at=row.last_seen_at,
        enrolled_at=row.created_at,
    )


_NAME_MOST = 200


def _display_name(value: str | None, what: str) -> str | None:
    """A display name as typed, with its spaces tidied; None when not given. Control
    characters are refused (a name is printed in PDFs, CSVs and pages)."""
    if value is None:
        return None
    tidy = " ".join(value.split())
    if not tidy:
        raise CentralError(
            f'the {what} name is empty: give the words people use, e.g. --name "Spark CIC"'
        )
    if len(tidy) > _NAME_MOST:
        raise CentralError(f"the {what} name is {len(tidy)} characters; at most {_NAME_MOST}")
    if any(ord(c) < 32 or ord(c) == 127 for c in tidy):
        raise CentralError(f"the {what} name {value!r} has a control character in it")
    return tidy


def _check_id(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise CentralError(f"{what} id is empty")
    if len(value) > _ID:
        raise CentralError(f"{what} id {value[:20]!r}... is longer than {_ID} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise CentralError(f"{what} id {value!r} may not contain spaces or control characters")
    return value


class _Batch:
    """One batch being applied inside a transaction (see :meth:`CentralDB.ingest`)."""

    def __init__(
        self,
        conn: Connection,
        device: Device,
        checked: Sequence[Checked],
        now: datetime,
        window: DateWindow | None = None,
    ) -> None:
        self.conn = conn
        self.device = device
        self.checked = list(checked)
        self.now = now
        self.results: list[EventResult | None] = [None] * len(checked)
        #: Member and card events of erased families (issue 8): kept scrubbed, never applied.
        self.erased_subjects: dict[int, str] = {}
        #: Events whose id is held with other content, and the fields that differ (issue 16).
        self.conflicts: dict[int, list[str]] = {}
        #: Rows of ``families`` read so far in this batch, and every id asked about.
        self._families_found: dict[str, Any] = {}
        self._families_read: set[str] = set()
        if window is None:
            # Read with the token (central.app); a Device made by hand is looked up.
            enrolled = (
                device.enrolled_at
                or conn.execute(
                    select(devices.c.created_at).where(devices.c.device_id == device.device_id)
                ).scalar()
            )
            window = DateWindow.for_device(enrolled or now, now)
        self.window = window

    def _reject(self, index: int, reason: str) -> None:
        self.results[index] = EventResult(
            event_id=self.checked[index].event_id, status="rejected", reason=reason
        )

    def _conflict(self, index: int, paths: list[str]) -> None:
        event_id = self.checked[index].event_id
        self.results[index] = EventResult(
            event_id=event_id, status="conflict", reason=conflict_reason(event_id, paths)
        )
        self.conflicts[index] = paths

    def apply(self) -> list[EventResult]:
        conn, device = self.conn, self.device
        for i, item in enumerate(self.checked):
            if not item.ok:
                self._reject(i, item.reason or "invalid event")
        valid = [i for i, item in enumerate(self.checked) if item.ok]

        # Duplicates: already held (a retry), or sent twice within this batch. The same id
        # with different content is a conflict (issue 16): the copy held stays.
        ids = sorted({self.checked[i].event.event_id for i in valid})  # type: ignore[union-attr]
        held = {
            r.event_id: r
            for r in _rows_in_chunks(
                conn,
                select(events.c.event_id, events.c.subject_id, events.c.raw),
                events.c.event_id,
                ids,
            )
        }
        seen: dict[str, Mapping[str, Any]] = {}
        fresh: list[int] = []
        for i in valid:
            ev = self.checked[i].event
            assert ev is not None
            if ev.event_id in held or ev.event_id in seen:
                row = held.get(ev.event_id)
                first = json.loads(row.raw) if row is not None else seen[ev.event_id]
                # A copy the server scrubbed (an erased family) cannot be compared.
                scrubbed = row is not None and (
                    is_erased(row.subject_id) or is_erased(event_family(first))
                )
                paths = [] if scrubbed else differences(first, self.checked[i].raw)
                if paths:
                    self._conflict(i, paths)
                else:
                    self.results[i] = EventResult(
                        event_id=self.checked[i].event_id, status="duplicate"
                    )
            else:
                seen[ev.event_id] = self.checked[i].raw
                fresh.append(i)

        # A seq already used by a different event of this device is a kiosk fault: set aside.
        seqs = sorted({self.checked[i].event.seq for i in fresh})  # type: ignore[union-attr]
        used = {
            r.seq: r.event_id
            for r in _rows_in_chunks(
                conn,
                select(events.c.seq, events.c.event_id).where(
                    events.c.device_id == device.device_id
                ),
                events.c.seq,
                seqs,
            )
        }
        keep: list[int] = []
        for i in fresh:
            ev = self.checked[i].event
            assert ev is not None
            if ev.seq in used:
                self._reject(
                    i, f"seq: {ev.seq} is already used by event {used[ev.seq]} from this device"
                )
            else:
                used[ev.seq] = ev.event_id
                keep.append(i)

        keep = self._check_organisation(keep)
        keep = self._scrub_erased(keep)
        keep = self._check_dates(keep)
        keep = self._check_families(keep)
        self._insert_events(keep)
        self._record_rejections()
        self._record_conflicts()
        applied = [i for i in keep if i not in self.erased_subjects]
        self._apply_members(
            [i for i in applied if self.checked[i].event.type.startswith("member.")]
        )  # type: ignore[union-attr]
        self._apply_cards([i for i in applied if self.checked[i].event.type.startswith("card.")])  # type: ignore[union-attr]
        self._apply_attendances(keep)
        for i in keep:
            self.results[i] = EventResult(event_id=self.checked[i].event_id, status="accepted")
        assert all(r is not None for r in self.results)
        return self.results  # type: ignore[return-value]

    def _families_held(self, ids: Iterable[str]) -> dict[str, Any]:
        """The rows held in ``families`` (id, organisation, updated and registered times) for
        ``ids``, each read once per batch: the organisation check, the attendance check and
        the member updates all ask, and nothing writes ``families`` before the member updates
        read them last (``_apply_members``), so the first read answers all three."""
        wanted = list(dict.fromkeys(ids))
        missing = sorted(i for i in wanted if i not in self._families_read)
        if missing:
            query = select(
                families.c.family_id,
                families.c.org_id,
                families.c.updated_at,
                families.c.registered_at,
            )
            for row in _rows_in_chunks(self.conn, query, families.c.family_id, missing):
                self._families_found[row.family_id] = row
            self._families_read.update(missing)
        return {i: self._families_found[i] for i in wanted if i in self._families_found}

    # -- checks --------------------------------------------------------------------------------
    def _check_organisation(self, keep: list[int]) -> list[int]:
        """A device may only touch its own organisation's families and attendances."""
        family_ids: set[str] = set()
        attendance_ids: set[str] = set()
        for i in keep:
            data = self.checked[i].data
            if isinstance(data, MemberData):
                family_ids.add(data.family.family_id)
            elif isinstance(data, CardData | AttendanceRecordedData | AttendanceAmendedData):
                family_ids.add(data.family_id)
            if isinstance(data, AttendanceAmendedData):
                attendance_ids.add(data.attendance_id)
        foreign_families = {
            family_id
            for family_id, row in self._families_held(family_ids).items()
            if row.org_id != self.device.org_id
        }
        foreign_attendances = {
            r.attendance_id
            for r in _rows_in_chunks(
                self.conn,
                select(attendances.c.attendance_id).where(
                    attendances.c.org_id != self.device.org_id
                ),
                attendances.c.attendance_id,
                sorted(attendance_ids),
            )
        }
        if not foreign_families and not foreign_attendances:
            return keep
        out = []
        for i in keep:
            data = self.checked[i].data
            family_id = data.family.family_id if isinstance(data, MemberData) else data.family_id  # type: ignore[union-attr]
            field = "data.family.family_id" if isinstance(data, MemberData) else "data.family_id"
            if family_id in foreign_families:
                self._reject(i, f"{field}: family {family_id} belongs to another organisation")
            elif (
                isinstance(data, AttendanceAmendedData)
                and data.attendance_id in foreign_attendances
            ):
                self._reject(
                    i,
                    f"data.attendance_id: attendance {data.attendance_id} belongs to another "
                    "organisation",
                )
            else:
                out.append(i)
        return out

    def _check_dates(self, keep: list[int]) -> list[int]:
        """A kiosk whose clock is synchronised cannot have recorded outside its date window
        (``central.claims``); one whose clock is not is kept, its attendances held for review."""
        out = []
        for i in keep:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None
            if ev.clock_synced:
                day = (
                    date.fromisoformat(data.session.date)
                    if isinstance(data, AttendanceRecordedData)
                    else None
                )
                reason = implausible_date(self.window, ev.at, day)
                if reason:
                    self._reject(i, reason)
                    continue
            out.append(i)
        return out

    def _check_families(self, keep: list[int]) -> list[int]:
        """An attendance names a family the organisation holds (or registers in this batch)
        and only that family's children: a token cannot invent families or children to put
        on the invoice (issue 16). Erased families are known by their tokens."""
        wanted = [
            i
            for i in keep
            if isinstance(self.checked[i].data, AttendanceRecordedData | AttendanceAmendedData)
        ]
        if not wanted:
            return keep
        org = self.device.org_id
        named = {self.checked[i].data.family_id for i in wanted}
        # Children by family: registered in this batch, held now, or ever listed by a member
        # event (a child taken off a family later still came to the sessions before).
        kids: dict[str, set[str]] = {}
        for i in keep:
            data = self.checked[i].data
            if isinstance(data, MemberData) and i not in self.erased_subjects:
                family = data.family
                kids.setdefault(family.family_id, set()).update(c.child_id for c in family.children)
        plain = sorted(f for f in named if not is_erased(f))
        for family_id, row in self._families_held(plain).items():
            if row.org_id == org:
                kids.setdefault(family_id, set())
        for row in _rows_in_chunks(
            self.conn,
            select(children.c.family_id, children.c.child_id),
            children.c.family_id,
            sorted(f for f in plain if f in kids),
        ):
            kids[row.family_id].add(row.child_id)
        tokens = set(
            _rows_in_chunks(
                self.conn,
                select(erasures.c.token).where(erasures.c.org_id == org),
                erasures.c.token,
                sorted(f for f in named if is_erased(f)),
                scalars=True,
            )
        )
        unlisted = {
            f
            for i in wanted
            if (f := self.checked[i].data.family_id) in kids
            and not set(self.checked[i].data.children) <= kids[f]
        }
        if unlisted:
            query = select(events.c.subject_id, events.c.raw).where(
                events.c.org_id == org, events.c.type.in_(("member.registered", "member.updated"))
            )
            for row in _rows_in_chunks(self.conn, query, events.c.subject_id, sorted(unlisted)):
                family = json.loads(row.raw).get("data", {}).get("family", {})
                kids[row.subject_id].update(
                    c.get("child_id") for c in family.get("children", []) if isinstance(c, dict)
                )
        out = []
        for i in keep:
            data = self.checked[i].data
            if i not in wanted:
                out.append(i)
                continue
            family_id = data.family_id
            if is_erased(family_id):
                strangers = [c for c in data.children if not c.startswith(family_id + "-")]
                if family_id not in tokens:
                    self._reject(
                        i,
                        f"data.family_id: no family of organisation {org} was erased as "
                        f"{family_id}",
                    )
                    continue
            elif family_id not in kids:
                self._reject(
                    i,
                    f"data.family_id: family {family_id} is not registered in organisation "
                    f"{org} (its member.registered must reach the server first)",
                )
                continue
            else:
                strangers = [c for c in data.children if c not in kids[family_id]]
            if strangers:
                shown = ", ".join(strangers[:5]) + (
                    f" and {len(strangers) - 5} more" if len(strangers) > 5 else ""
                )
                self._reject(
                    i,
                    f"data.children: {shown} {'is' if len(strangers) == 1 else 'are'} not "
                    f"a child of family {family_id}",
                )
                continue
            out.append(i)
        return out

    def _scrub_erased(self, keep: list[int]) -> list[int]:
        """Events about a family erased on the server (issue 8): a kiosk that had not heard of
        it yet still sends them. Stored scrubbed (family and children as their tokens), so the
        attendances still count; member and card events are not applied. Refused ones are kept
        aside scrubbed too."""
        named = {f for item in self.checked if (f := event_family(item.raw))}
        erased = erased_families(self.conn, self.device.org_id, named) if named else {}
        if not erased:
            return keep
        kept = set(keep)
        out: list[int] = []
        for i, item in enumerate(self.checked):
            erasure = erased.get(event_family(item.raw) or "")
            if erasure is None:
                if i in kept:
                    out.append(i)
                continue
            clean = scrub_event(item.raw, erasure)
            if i in kept:
                again = validate_event(clean, self.device.device_id, self.device.site_id)
                self.checked[i] = again
                if not again.ok:
                    self._reject(i, again.reason or "invalid event")
                    continue
                if not str(clean.get("type", "")).startswith("attendance."):
                    self.erased_subjects[i] = erasure.token
                out.append(i)
            elif self.results[i] is not None and self.results[i].status == "rejected":  # type: ignore[union-attr]
                reason = (self.results[i].reason or "").replace(erasure.family_id, erasure.token)  # type: ignore[union-attr]
                self.checked[i] = Checked(clean, reason=reason)
                self._reject(i, reason)
        return out

    # -- writes --------------------------------------------------------------------------------
    def _insert_events(self, keep: list[int]) -> None:
        rows = []
        for i in keep:
            item = self.checked[i]
            ev = item.event
            assert ev is not None
            rows.append(
                {
                    "event_id": ev.event_id,
                    "org_id": self.device.org_id,
                    "site_id": ev.site_id,
                    "device_id": ev.device_id,
                    "seq": ev.seq,
                    "type": ev.type,
                    "at": ev.at,
                    "clock_synced": ev.clock_synced,
                    "subject_id": self.erased_subjects.get(i) or _subject(item),
                    "received_at": self.now,
                    "raw": _dumps(item.raw),
                }
            )
        if rows:
            _insert_rows(self.conn, events, rows)

    def _record_rejections(self) -> None:
        """Keep what was refused, so the server can say it holds that seq (set aside).

        Bounded (issue 16): the same refused event is kept once (by its digest), a refused
        event is kept only up to ``REJECTED_RAW_KEPT`` characters, and a device keeps at most
        ``REJECTIONS_KEPT`` refusals; past that each is still answered ``rejected`` but only
        counted (``devices.unkept_rejections``), and kiosk health says so.
        """
        rows: dict[int | None, dict[str, Any]] = {}
        loose: dict[str, dict[str, Any]] = {}
        for item, result in zip(self.checked, self.results, strict=True):
            if result is None or result.status != "rejected":
                continue
            raw = item.raw if isinstance(item.raw, Mapping) else {}
            seq = raw.get("seq")
            fits = isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= MAX_SEQ
            seq = seq if fits else None  # a seq the columns cannot hold is kept as loose
            text_, digest = _kept_copy(raw)
            row = {
                "device_id": self.device.device_id,
                "seq": seq,
                "event_id": (item.event_id or None) and item.event_id[:80],
                "reason": result.reason or "",
                "raw": text_,
                "received_at": self.now,
                "digest": digest,
            }
            if seq is None:
                loose.setdefault(digest, row)
            else:
                rows[seq] = row
        if not rows and not loose:
            return
        device_id = self.device.device_id
        fresh: list[dict[str, Any]] = []
        if rows:
            # A seq also held as an accepted event (a "seq already used" refusal) stays held
            # by that event; a seq refused before (the kiosk sent it again) is kept once.
            held = set(
                _rows_in_chunks(
                    self.conn,
                    select(rejections.c.seq).where(rejections.c.device_id == device_id),
                    rejections.c.seq,
                    sorted(rows),
                    scalars=True,
                )
            )
            fresh.extend(row for seq, row in rows.items() if seq not in held)
        if loose:
            known = set(
                _rows_in_chunks(
                    self.conn,
                    select(rejections.c.digest).where(rejections.c.device_id == device_id),
                    rejections.c.digest,
                    sorted(loose),
                    scalars=True,
                )
            )
            fresh.extend(row for digest, row in loose.items() if digest not in known)
        if not fresh:
            return
        # Refusals with a seq first: they are what lets holds_up_to move on.
        fresh.sort(key=lambda row: row["seq"] is None)
        self._keep_within_quota(rejections, fresh)

    def _record_conflicts(self) -> None:
        """Each different copy of a held event, once, within the same quota as refusals."""
        if not self.conflicts:
            return
        device_id = self.device.device_id
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for i, paths in self.conflicts.items():
            text_, digest = _kept_copy(self.checked[i].raw)
            event_id = self.checked[i].event.event_id  # type: ignore[union-attr]
            rows.setdefault(
                (event_id, digest),
                {
                    "device_id": device_id,
                    "event_id": event_id,
                    "digest": digest,
                    "differs": paths[:50],
                    "raw": text_,
                    "received_at": self.now,
                },
            )
        known = {
            (r.event_id, r.digest)
            for r in _rows_in_chunks(
                self.conn,
                select(event_conflicts.c.event_id, event_conflicts.c.digest).where(
                    event_conflicts.c.device_id == device_id
                ),
                event_conflicts.c.event_id,
                sorted({key[0] for key in rows}),
            )
        }
        self._keep_within_quota(
            event_conflicts, [row for key, row in rows.items() if key not in known]
        )

    def _keep_within_quota(self, table: Table, fresh: list[dict[str, Any]]) -> None:
        """Insert ``fresh`` rows of ``table`` up to the device's ``REJECTIONS_KEPT``; the rest
        are only counted (``devices.unkept_rejections``), and kiosk health says so."""
        device_id = self.device.device_id
        stored = int(
            self.conn.execute(
                select(func.count()).select_from(table).where(table.c.device_id == device_id)
            ).scalar_one()
        )
        room = max(0, REJECTIONS_KEPT - stored)
        kept, unkept = fresh[:room], len(fresh) - min(room, len(fresh))
        if kept:
            _insert_rows(self.conn, table, kept)
        if unkept:
            self.conn.execute(
                update(devices)
                .where(devices.c.device_id == device_id)
                .values(unkept_rejections=devices.c.unkept_rejections + unkept)
            )

    def _apply_members(self, indexes: list[int]) -> None:
        """Families and their children: the newest news about each family wins (by ``at``).

        Worked out in memory for the whole batch, then written with a few ``executemany``.
        """
        if not indexes:
            return
        conn = self.conn
        ids = sorted({self.checked[i].data.family.family_id for i in indexes})  # type: ignore[union-attr]
        current = self._families_held(ids)
        latest: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        registered: dict[str, dict[str, Any]] = {}
        for i in indexes:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, MemberData)
            fam = data.family
            if ev.type == "member.registered" and fam.family_id not in registered:
                registered[fam.family_id] = {
                    "registered_at": ev.at,
                    "registered_site_id": ev.site_id,
                    "registered_device_id": ev.device_id,
                }
            held = latest.get(fam.family_id)
            held_at = (
                held[0]["updated_at"]
                if held
                else getattr(current.get(fam.family_id), "updated_at", None)
            )
            if held_at is not None and ev.at < held_at:
                continue  # older news than what we hold: kept as an event only
            values = {
                "b_family_id": fam.family_id,
                "org_id": self.device.org_id,
                "greeting_name": fam.greeting_name,
                "postcode": fam.postcode,
                "criteria": sorted(fam.criteria),
                "consent_date": date.fromisoformat(fam.consent_date) if fam.consent_date else None,
                "heard_from": fam.heard_from,
                "adults": fam.adults,
                "language": fam.language,
                "updated_at": ev.at,
                "updated_event_id": ev.event_id,
            }
            kids = {
                c.child_id: {
                    "family_id": fam.family_id,
                    "child_id": c.child_id,
                    "first_name": c.first_name,
                    "born": c.born,
                }
                for c in fam.children
            }
            latest[fam.family_id] = (values, list(kids.values()))

        no_registration = dict.fromkeys(
            ("registered_at", "registered_site_id", "registered_device_id")
        )
        new_rows = []
        for family_id, (values, _kids) in latest.items():
            if family_id not in current:
                row = {k: v for k, v in values.items() if k != "b_family_id"}
                new_rows.append(
                    {"family_id": family_id, **row, **registered.get(family_id, no_registration)}
                )
        if new_rows:
            _insert_rows(conn, families, new_rows)
        changed = [values for fid, (values, _) in latest.items() if fid in current]
        if changed:
            conn.execute(
                update(families).where(families.c.family_id == bindparam("b_family_id")), changed
            )
        late_registrations = [
            {"b_family_id": fid, **reg}
            for fid, reg in registered.items()
            if fid in current and current[fid].registered_at is None
        ]
        if late_registrations:
            conn.execute(
                update(families).where(families.c.family_id == bindparam("b_family_id")),
                late_registrations,
            )
        replaced = sorted(fid for fid in latest if fid in current)
        for start in range(0, len(replaced), _CHUNK):
            conn.execute(
                delete(children).where(children.c.family_id.in_(replaced[start : start + _CHUNK]))
            )
        kid_rows = [kid for _values, kids in latest.values() for kid in kids]
        if kid_rows:
            _insert_rows(conn, children, kid_rows)

    def _apply_cards(self, indexes: list[int]) -> None:
        """Cards: the newest assignment or revocation of each card wins (by ``at``)."""
        if not indexes:
            return
        conn, org = self.conn, self.device.org_id
        uids = sorted({self.checked[i].data.uid for i in indexes})  # type: ignore[union-attr]
        current = {
            r.uid: r.updated_at
            for r in _rows_in_chunks(
                conn,
                select(cards.c.uid, cards.c.updated_at).where(cards.c.org_id == org),
                cards.c.uid,
                uids,
            )
        }
        latest: dict[str, dict[str, Any]] = {}
        for i in indexes:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, CardData)
            held = latest[data.uid]["updated_at"] if data.uid in latest else current.get(data.uid)
            if held is not None and ev.at < held:
                continue
            latest[data.uid] = {
                "b_org_id": org,
                "b_uid": data.uid,
                "family_id": data.family_id,
                "active": ev.type == "card.assigned",
                "updated_at": ev.at,
                "updated_event_id": ev.event_id,
            }
        new_rows = [
            {"org_id": org, "uid": uid, **{k: v for k, v in row.items() if not k.startswith("b_")}}
            for uid, row in latest.items()
            if uid not in current
        ]
        if new_rows:
            _insert_rows(conn, cards, new_rows)
        changed = [row for uid, row in latest.items() if uid in current]
        if changed:
            conn.execute(
                update(cards).where(
                    cards.c.org_id == bindparam("b_org_id"), cards.c.uid == bindparam("b_uid")
                ),
                changed,
            )

    def _apply_attendances(self, keep: list[int]) -> None:
        recorded = [i for i in keep if self.checked[i].event.type == "attendance.recorded"]  # type: ignore[union-attr]
        amended = [i for i in keep if self.checked[i].event.type == "attendance.amended"]  # type: ignore[union-attr]
        if not recorded and not amended:
            return
        new_ids = [self.checked[i].event.event_id for i in recorded]  # type: ignore[union-attr]
        targets = set(new_ids) | {self.checked[i].data.attendance_id for i in amended}  # type: ignore[union-attr]
        # The latest amendment held for each target wins, whatever order events arrived in
        # (this batch's amendments are already in the events table).
        latest = self._latest_amendments(sorted(targets))

        rows, child_rows = [], []
        for i in recorded:
            ev, data = self.checked[i].event, self.checked[i].data
            assert ev is not None and isinstance(data, AttendanceRecordedData)
            at = ev.at
            kids, kids_at = data.children, at
            if ev.event_id in latest and latest[ev.event_id][0] >= at:
                kids_at, kids = latest[ev.event_id]
            rows.append(
                {
                    "attendance_id": ev.event_id,
                    "org_id": self.device.org_id,
                    "site_id": ev.site_id,
                    "device_id": ev.device_id,
                    "session_key": data.session.key,
                    "session_date": date.fromisoformat(data.session.date),
                    "session_name": data.session.name,
                    "slot_id": data.session.slot_id,
                    "family_id": data.family_id,
                    "adults": data.adults,
                    "method": data.method,
                    "volunteer": data.volunteer,
                    "qualifies": data.qualifies,
                    "reasons": list(data.reasons),
                    "risk_version": data.risk_version,
                    "at": at,
                    "clock_synced": ev.clock_synced,
                    "children_at": kids_at,
                }
            )
            child_rows.extend(_child_rows(rows[-1], kids))
        if rows:
            _insert_rows(self.conn, attendances, rows)
        if child_rows:
            _insert_rows(self.conn, attendance_children, child_rows)

        # Amendments to attendances recorded in earlier batches.
        earlier = sorted(targets - set(new_ids))
        if not earlier:
            return
        current = {
            r.attendance_id: r
            for r in _rows_in_chunks(
                self.conn,
                select(
                    attendances.c.attendance_id,
                    attendances.c.children_at,
                    *(attendances.c[name] for name in _CHILD_COPIES),
                ),
                attendances.c.attendance_id,
                earlier,
            )
        }
        for attendance_id, row in current.items():
            if attendance_id not in latest:
                continue
            at, kids = latest[attendance_id]
            if at < row.children_at:
                continue
            self.conn.execute(
                delete(attendance_children).where(
                    attendance_children.c.attendance_id == attendance_id
                )
            )
            if kids:
                self.conn.execute(insert(attendance_children), _child_rows(row._mapping, kids))
            self.conn.execute(
                update(attendances)
                .where(attendances.c.attendance_id == attendance_id)
                .values(children_at=at)
            )

    def _latest_amendments(self, targets: list[str]) -> dict[str, tuple[datetime, list[str]]]:
        out: dict[str, tuple[datetime, int, list[str]]] = {}
        query = select(events.c.subject_id, events.c.at, events.c.seq, events.c.raw).where(
            events.c.type == "attendance.amended"
        )
        for row in _rows_in_chunks(self.conn, query, events.c.subject_id, targets):
            best = out.get(row.subject_id)
            if best is None or (row.at, row.seq) >= best[:2]:
                out[row.subject_id] = (
                    row.at,
                    row.seq,
                    list(json.loads(row.raw)["data"]["children"]),
                )
        return {k: (at, kids) for k, (at, _seq, kids) in out.items()}


def _insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one statement.

    On PostgreSQL an ``executemany`` is one INSERT per row: psycopg pipelines them, but the
    server still binds and runs each one, and SQLAlchemy and psycopg prepare each row's
    parameters one by one in Python. Here the rows travel as one JSON array (encoded by
    pydantic-core, in Rust) that ``json_populate_recordset`` turns back into the table's own
    row type, in the order given, so the events' row ids (the roster cursor) still follow
    the batch's order. Values still pass each column type's bind processing (UTC datetimes)
    first, as an ``insert()`` would; JSON columns go in as the JSON they are. SQLite runs
    in-process: a plain executemany.
    """
    if not rows:
        return
    names = tuple(rows[0])
    if (
        conn.dialect.name != "postgresql"
        or len(rows) == 1
        or any(row.keys() != rows[0].keys() for row in rows)
    ):
        conn.execute(insert(table), rows)
        return
    sql, processors = _json_insert(conn.dialect, table, names)
    if processors:
        processed = []
        for row in rows:
            copy = dict(row)
            for name, process in processors:
                copy[name] = process(copy[name])
            processed.append(copy)
        rows = processed
    conn.exec_driver_sql(sql, {"rows": pydantic_core.to_json(rows).decode("utf-8")})


#: ``_json_insert``'s answers, by dialect class, table and column names.
_JSON_INSERTS: dict[tuple[type, Table, tuple[str, ...]], tuple[str, list[Any]]] = {}


def _json_insert(dialect: Any, table: Table, names: tuple[str, ...]) -> tuple[str, list[Any]]:
    """``INSERT INTO t (names) SELECT names FROM json_populate_recordset(NULL::t, ...)`` for
    PostgreSQL, and the bind processors of its columns that have one (not JSON's)."""
    key = (type(dialect), table, names)
    if key not in _JSON_INSERTS:
        preparer = dialect.identifier_preparer
        columns = [table.c[name] for name in names]
        listed = ", ".join(preparer.format_column(column) for column in columns)
        name = preparer.format_table(table)
        sql = (
            f"INSERT INTO {name} ({listed}) SELECT {listed} "
            f"FROM json_populate_recordset(NULL::{name}, %(rows)s::json)"
        )
        processors = [
            (column.name, process)
            for column in columns
            if not isinstance(column.type, JSON)
            and (process := column.type.dialect_impl(dialect).bind_processor(dialect))
        ]
        _JSON_INSERTS[key] = (sql, processors)
    return _JSON_INSERTS[key]


def erased_families(conn: Connection, org_id: str, named: Iterable[str]) -> dict[str, Erasure]:
    """Which of the family ids (or tokens) ``named`` belong to families erased in ``org_id``,
    matched by the salted hash the erasure kept (issue 8). A token the server does not know
    (a database restored from before the erasure) still counts as erased."""
    names = sorted(set(named))
    salt = conn.execute(
        select(privacy_salts.c.salt).where(privacy_salts.c.org_id == org_id)
    ).scalar()
    out: dict[str, Erasure] = {}
    tokens = [n for n in names if is_erased(n)]
    for token in tokens:
        out[token] = Erasure(token, token, salt or "")
    if salt is None:
        return out
    hashes = {family_hash(salt, n): n for n in names if not is_erased(n)}
    query = select(erasures.c.family_hash, erasures.c.token).where(erasures.c.org_id == org_id)
    for row in _rows_in_chunks(conn, query, erasures.c.family_hash, sorted(hashes)):
        out[hashes[row.family_hash]] = Erasure(hashes[row.family_hash], row.token, salt)
    return out


#: The attendance columns copied onto each of its ``attendance_children`` rows (for reach).
_CHILD_COPIES = ("org_id", "session_date", "qualifies")


def _child_rows(attendance: Mapping[str, Any], kids: Iterable[str]) -> list[dict[str, Any]]:
    """The ``attendance_children`` rows of an attendance: one per child, with the copies."""
    copies = {name: attendance[name] for name in _CHILD_COPIES}
    return [
        {"attendance_id": attendance["attendance_id"], "child_id": c, **copies}
        for c in dict.fromkeys(kids)
    ]


#: Refused events (and conflicting copies) a device may have kept on the server (issue 16).
REJECTIONS_KEPT = 5000
#: Characters of a refused event kept (a real event is a few hundred; junk is cut short).
REJECTED_RAW_KEPT = 16_384


def _at_path(doc: Any, path: str) -> Any:
    """The value at a dotted path (``data.children``) of a JSON document, or None."""
    for key in path.split("."):
        if not isinstance(doc, Mapping) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _kept_copy(raw: Mapping[str, Any]) -> tuple[str, str]:
    """What the server keeps of a refused or conflicting event: its JSON (cut short past
    ``REJECTED_RAW_KEPT``) and the SHA-256 of it as sent, by which it is kept once."""
    text_ = _dumps(raw)
    digest = hashlib.sha256(text_.encode("utf-8")).hexdigest()
    if len(text_) > REJECTED_RAW_KEPT:
        text_ = _dumps(_shortened(raw, len(text_)))
    return text_, digest


def _shortened(raw: Mapping[str, Any], size: int) -> dict[str, Any]:
    """A refused event too big to keep whole: its envelope, and a note of its size."""
    out = {k: raw[k] for k in ("event_id", "seq", "type", "device_id", "site_id", "at") if k in raw}
    out = {k: v for k, v in out.items() if isinstance(v, str | int) and len(str(v)) <= 100}
    out["_kept"] = f"cut short: {size} characters as sent, more than {REJECTED_RAW_KEPT}"
    return out


_CHUNK = 500
#: Seqs read per query while moving ``holds_up_to`` forward.
_HOLDS_PAGE = 2000


def _gap_end(conn: Connection, device_id: str, current: int) -> int | None:
    """The end of the furthest written-off range that starts at or before ``current + 1`` and
    reaches past ``current``, or None."""
    value = conn.execute(
        select(func.max(seq_gaps.c.to_seq)).where(
            seq_gaps.c.device_id == device_id,
            seq_gaps.c.from_seq <= current + 1,
            seq_gaps.c.to_seq > current,
        )
    ).scalar()
    return int(value) if value is not None else None


def _in_chunks(conn: Connection, column: Any, values: Sequence[Any], pick: Any) -> Iterable[Any]:
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        yield from conn.execute(select(pick).where(_is_in(conn, column, chunk))).scalars()


def _rows_in_chunks(
    conn: Connection, query: Any, column: Any, values: Sequence[Any], scalars: bool = False
) -> Iterable[Any]:
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        result = conn.execute(query.where(_is_in(conn, column, chunk)))
        yield from (result.scalars() if scalars else result)


def _is_in(conn: Connection, column: Any, values: Sequence[Any]) -> Any:
    """``column IN values``. On PostgreSQL the values travel as one JSON array parameter
    (``column IN (SELECT json_array_elements_text(...))``): the statement is then the same
    whatever the count, so SQLAlchemy's compiled cache and psycopg's prepared statement serve
    every batch, where an ``IN`` list renders (and PostgreSQL plans) one parameter per value.
    Text and whole-number columns only; anything else is the plain ``IN``."""
    if conn.dialect.name != "postgresql" or not all(
        type(v) is str or type(v) is int for v in values
    ):
        return column.in_(values)
    listed = func.json_array_elements_text(bindparam(None, list(values), type_=JSON))
    if isinstance(column.type, Integer):
        return column.in_(select(listed.cast(BigInteger)))
    if isinstance(column.type, String):
        return column.in_(select(listed))
    return column.in_(values)
