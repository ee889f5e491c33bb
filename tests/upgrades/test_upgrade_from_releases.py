"""Issue 19: each released schema, filled with data, upgrades to the head by `kiosk-central
migrate` and then gives the invoice it gave before: the lines worked out by hand, and the CSV
the release's own code wrote (``snapshots/*.invoice.csv``), byte for byte.

The old database is the release's own schema (a committed SQL snapshot made by that release's
code) with rows inserted in plain SQL, never today's tables with some dropped. Every test runs
on SQLite and on PostgreSQL (``KIOSK_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from central import migrations
from central.db import LATEST_VERSION, CentralDB, attendance_children, attendances, metadata
from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.rates import set_rate
from tests.sync.servers import command, free_port, subprocess_env
from tests.upgrades.releases import (
    EXPECTED_LINES,
    EXPECTED_TOTAL_PENCE,
    MONTH,
    RATE_PENCE,
    RELEASES,
    Release,
    fill,
    load,
)

FIRST = RELEASES[0]
HEAD = migrations.head()


def central(db_url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``kiosk-central --db URL ARGS...`` as a real process."""
    return subprocess.run(
        [*command("kiosk-central", "central.cli"), "--db", db_url, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(),
    )


def released(db_url: str, backend: str, release: Release) -> None:
    """The database ``release`` made, holding April's attendances."""
    load(db_url, release.snapshot(backend))
    fill(db_url, release)


def schema_drift(db: CentralDB) -> list:
    """What differs between the database and today's tables (nothing, when they agree)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def triggers(db: CentralDB) -> set[str]:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            found = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        else:
            found = conn.execute(
                text(
                    "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                    " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
                )
            )
        return set(found.scalars())


def invoice_lines(db: CentralDB) -> tuple[list[tuple], int]:
    sheet = build_invoice(db, "lichfield", Period.month(MONTH))
    lines = [
        (
            line.session_date.isoformat(),
            line.child_id,
            line.status,
            None if line.amount is None else int(line.amount * 100),
        )
        for line in sheet.lines
    ]
    return lines, int(sheet.total * 100)


@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_a_released_database_upgrades_and_gives_the_same_invoice(db_url, backend, release):
    released(db_url, backend, release)

    done = central(db_url, "migrate")

    assert done.returncode == 0, done.stderr
    if release.version == LATEST_VERSION:
        assert f"already current (revision {HEAD})" in done.stderr
    else:
        assert f"upgraded from revision {release.version:04d} to {HEAD}" in done.stderr
    db = CentralDB.open(db_url, upgrade=False)  # refuses a database that is still behind
    try:
        assert db.schema_version() == LATEST_VERSION
        assert schema_drift(db) == []  # the same tables, columns, types and indexes as today's
        assert len(triggers(db)) == 2  # the audit log is append-only (UPDATE/DELETE, TRUNCATE)
        if not release.has_rates:  # the first release had no rates: set April's now
            set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
        assert invoice_lines(db) == (EXPECTED_LINES, EXPECTED_TOTAL_PENCE)
        # The very sheet the release's own code wrote from these rows, byte for byte.
        sheet = build_invoice(db, "lichfield", Period.month(MONTH))
        assert sheet.csv_text() == release.invoice_as_released()
        # Revision 4's copies were filled from each child's attendance.
        with db.engine.connect() as conn:
            copies = conn.execute(
                select(
                    attendance_children.c.org_id == attendances.c.org_id,
                    attendance_children.c.session_date == attendances.c.session_date,
                    attendance_children.c.qualifies == attendances.c.qualifies,
                ).join_from(
                    attendance_children,
                    attendances,
                    attendances.c.attendance_id == attendance_children.c.attendance_id,
                )
            ).all()
        assert len(copies) == 8 and all(all(row) for row in copies)
    finally:
        db.close()


def test_the_first_release_upgrades_with_its_data_intact(db_url, backend):
    """The issue's must-show: the first landed release's database, upgraded to the head."""
    released(db_url, backend, FIRST)
    assert central(db_url, "migrate").returncode == 0
    db = CentralDB.open(db_url, upgrade=False)
    try:
        assert db.org_list() == [("lichfield", None), ("spark", None)]
        assert [d.device_id for d in db.devices()] == ["kiosk-1", "kiosk-2"]
        assert db.holds_up_to("kiosk-1") == 6
        assert db.count(attendances) == 7
        set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
        lines, total = invoice_lines(db)
        assert total == EXPECTED_TOTAL_PENCE == 3 * RATE_PENCE
        assert lines == EXPECTED_LINES
    finally:
        db.close()


def test_migrate_twice_changes_nothing_the_second_time(db_url, backend):
    released(db_url, backend, RELEASES[1])
    assert central(db_url, "migrate").returncode == 0
    again = central(db_url, "migrate")
    assert again.returncode == 0
    assert f"schema already current (revision {HEAD}): nothing to do" in again.stderr
    db = CentralDB.open(db_url, upgrade=False)
    try:
        assert invoice_lines(db) == (EXPECTED_LINES, EXPECTED_TOTAL_PENCE)
    finally:
        db.close()


def test_serve_refuses_a_database_that_is_behind_and_says_what_to_run(db_url, backend):
    released(db_url, backend, FIRST)
    refused = central(db_url, "serve", "--port", str(free_port()), timeout=60)
    assert refused.returncode == 1
    message = refused.stderr
    assert "schema revision 0001" in message and f"needs {HEAD}" in message
    assert "kiosk-central migrate" in message and "back it up" in message
    # Nothing was changed: the database is still as the release left it.
    db = CentralDB.open(db_url, migrate=False)
    try:
        assert db.schema_state().current == "0001" and db.schema_state().adopt
        with db.engine.connect() as conn:
            assert "org_rates" not in inspect(conn).get_table_names()
    finally:
        db.close()


def test_other_commands_refuse_a_behind_database_too(db_url, backend):
    released(db_url, backend, RELEASES[2])
    refused = central(db_url, "org", "list")
    assert refused.returncode == 1 and "kiosk-central migrate" in refused.stderr


def test_a_database_of_the_home_made_migrator_at_version_12_is_adopted(db_url, backend):
    """The last release before Alembic: same tables, so it is only stamped at the head."""
    released(db_url, backend, RELEASES[-1])
    db = CentralDB.open(db_url, migrate=False)
    try:
        assert db.schema_state().adopt and db.schema_state().current == "0012"
        assert db.migrate() == ("0012", HEAD)
        with db.engine.connect() as conn:
            assert "alembic_version" in inspect(conn).get_table_names()
        assert not db.schema_state().adopt
        assert invoice_lines(db) == (EXPECTED_LINES, EXPECTED_TOTAL_PENCE)
    finally:
        db.close()


def test_running_every_revision_gives_the_same_schema_as_a_new_database(db_url):
    """A new database is made from today's tables and stamped; the revisions must agree, or
    an upgraded database would differ from a new one."""
    db = CentralDB.open(db_url, migrate=False)
    try:
        with db.engine.begin() as conn:
            migrations.run_revisions(conn, "head")
        assert db.schema_state().current == HEAD
        assert schema_drift(db) == []
        assert len(triggers(db)) == 2
    finally:
        db.close()
