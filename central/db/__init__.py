"""The central server's database: SQLAlchemy Core over SQLite (the default: a file, no set-up)
or PostgreSQL (a database URL). SECURITY.md (On the central server) sums up who writes what.

The modules of this package:

- :mod:`~central.db.schema`: every table at the latest revision (``metadata``), ``UTCDateTime``.
- :mod:`~central.db.engine`: database URLs and engines; :mod:`~central.db.errors`: the errors.
- :mod:`~central.db.base`: :class:`~central.db.base.Database`, the engine, migrations, and the
  two gates, :meth:`~CentralDB.reading` and :meth:`~CentralDB.writing`.
- :class:`CentralDB` (:mod:`~central.db.database`) is that base with its parts mixed in:
  :mod:`~central.db.enrolment` (organisations, sites, kiosks and their tokens),
  :mod:`~central.db.users` (users, passwords, grants), :mod:`~central.db.kiosk_data` (ingest,
  the roster, seq bookkeeping), :mod:`~central.db.device_health` (contact, status reports).
- :mod:`~central.db.ingest`: applying one batch of events (:mod:`~central.db.batch_rows`: its
  one-statement inserts and chunked lookups); :mod:`~central.db.records`: the
  records handed out and the checks on ids and names.

The schema is created and upgraded by :mod:`central.migrations` (Alembic revisions): a fresh
database gets every table at the latest revision; an existing one is upgraded by
``kiosk-central migrate`` (:meth:`CentralDB.migrate`), and ``serve`` refuses one that is behind.

Reading: ``with db.reading() as conn``, a connection that only reads (on SQLite it never waits
for a writer). Anyone may read any table.

Writing, and who may write what. Writes for one organisation are serialised (PostgreSQL: an
advisory lock; SQLite: ``BEGIN IMMEDIATE``) so the roster cursor (the events' row id) only ever
grows in commit order and a kiosk pulling the roster never skips a row committed late; so that
a batch never lands half way through an erasure, an export or a retention run; and so that two
imports of a risk list, or two invoices, never take the same number. **Any transaction that
writes an organisation's rows goes through** ``with db.writing(org_id) as conn``: its kiosk and
family data, and what is set or issued for it (risk lists, timetables, rates, review decisions,
invoices, retention policy). Today these are the writers, all under ``writing(org)``:

- :mod:`central.db.kiosk_data` (:meth:`CentralDB.ingest` with :mod:`central.db.ingest`,
  ``record_gaps``, ``undo_write_off``): ``events``, ``rejections``, ``event_conflicts``,
  ``families``, ``children``, ``cards``, ``attendances``, ``attendance_children``,
  ``seq_gaps``, and each device's ``holds_up_to``, ``last_seen_at`` and ``unkept_rejections``.
- :mod:`central.privacy.erase`: scrubs the family out of all of those, ``attendance_reviews``,
  ``device_status`` and any other table with a family or child id; adds ``erasures`` and
  ``privacy_salts`` (:func:`central.privacy.keys.org_salt`, which :mod:`central.privacy.export`
  also calls).
- :mod:`central.privacy.retention`: deletes old ``events``, ``attendances``,
  ``attendance_children``, ``attendance_reviews``; writes ``attendance_aggregates``,
  ``retention_runs`` and ``retention_policies``.
- :mod:`central.setup_data`: ``risk_lists``, ``site_sessions``.
- :mod:`central.reports.rates`: ``org_rates``; :mod:`central.reports.invoice`:
  ``attendance_reviews``; :mod:`central.reports.issued`: ``invoices``, ``invoice_lines``.

Rows that are no one organisation's are written in plain transactions (``engine.begin()``) or,
where two writers must not interleave, under ``db.writing_shared(name)``:

- enrolment and accounts: :mod:`central.db.enrolment` (``orgs``, ``sites``, ``devices``),
  :mod:`central.db.users` (``users``, ``user_grants``, ``web_sessions``),
  :mod:`central.web.auth` (``login_failures``, ``web_sessions``);
- :mod:`central.db.device_health`: ``device_status`` (a lock per device) and
  ``devices.last_seen_at``; :meth:`CentralDB.migrate` and ``renew_epoch``: the schema and
  ``server_meta`` (the ``schema`` lock);
- :mod:`central.audit`: ``audit_log`` (append-only), under ``writing_shared("audit_log")``;
- :mod:`central.geography`: ``postcode_areas``, ``lsoa_areas``, ``area_imports``,
  ``population_versions``, ``population_estimates``, ``lsoa_boundaries``, under
  ``writing_shared`` of ``"directory"``, ``"population"`` or ``"boundaries"``.

The one exception to the rule: :mod:`central.copy_db` (``kiosk-central copy-to``) writes every
table of a new, empty target database in one plain transaction of the target; no server or
kiosk uses that database yet, so no writer can come between.

No module outside this package uses a ``_private`` name of it; the names below are its public
face (``from central.db import CentralDB, events``).
"""

from __future__ import annotations

from central.db.batch_rows import REJECTED_RAW_KEPT, REJECTIONS_KEPT, erased_families
from central.db.database import CentralDB
from central.db.engine import (
    DEFAULT_DATA_DIR,
    POSTGRES_POOL_SIZE,
    default_database_url,
    make_engine,
    normalise_url,
)
from central.db.enrolment import new_device_token, token_hash
from central.db.errors import (
    AlreadyExists,
    CentralError,
    NotFound,
    SchemaBehind,
    SchemaTooNew,
    WriteOffRefused,
)
from central.db.records import Device, IngestResult, RosterPage, require_org, require_site
from central.db.schema import (
    GRANTS,
    LATEST_VERSION,
    UTCDateTime,
    area_imports,
    attendance_aggregates,
    attendance_children,
    attendance_reviews,
    attendances,
    audit_log,
    cards,
    children,
    device_status,
    devices,
    erasures,
    event_conflicts,
    events,
    families,
    invoice_lines,
    invoices,
    login_failures,
    lsoa_areas,
    lsoa_boundaries,
    metadata,
    org_rates,
    orgs,
    population_estimates,
    population_versions,
    postcode_areas,
    privacy_salts,
    rejections,
    retention_policies,
    retention_runs,
    risk_lists,
    schema_version,
    seq_gaps,
    server_meta,
    site_sessions,
    sites,
    user_grants,
    users,
    utcnow,
    web_sessions,
)
from central.db.users import ORG_ROLES, ROLES, hash_password, verify_password

__all__ = [
    "require_org",
    "require_site",
    "DEFAULT_DATA_DIR",
    "GRANTS",
    "LATEST_VERSION",
    "ORG_ROLES",
    "POSTGRES_POOL_SIZE",
    "REJECTED_RAW_KEPT",
    "REJECTIONS_KEPT",
    "ROLES",
    "AlreadyExists",
    "CentralDB",
    "CentralError",
    "Device",
    "IngestResult",
    "NotFound",
    "RosterPage",
    "SchemaBehind",
    "SchemaTooNew",
    "UTCDateTime",
    "WriteOffRefused",
    "area_imports",
    "attendance_aggregates",
    "attendance_children",
    "attendance_reviews",
    "attendances",
    "audit_log",
    "cards",
    "children",
    "default_database_url",
    "device_status",
    "devices",
    "erased_families",
    "erasures",
    "event_conflicts",
    "events",
    "families",
    "hash_password",
    "invoice_lines",
    "invoices",
    "login_failures",
    "lsoa_areas",
    "lsoa_boundaries",
    "make_engine",
    "metadata",
    "new_device_token",
    "normalise_url",
    "org_rates",
    "orgs",
    "population_estimates",
    "population_versions",
    "postcode_areas",
    "privacy_salts",
    "rejections",
    "retention_policies",
    "retention_runs",
    "risk_lists",
    "schema_version",
    "seq_gaps",
    "server_meta",
    "site_sessions",
    "sites",
    "token_hash",
    "user_grants",
    "users",
    "utcnow",
    "verify_password",
    "web_sessions",
]
