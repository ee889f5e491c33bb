"""Databases as released versions left them: a committed schema snapshot, filled by plain SQL.

Nothing here uses today's tables to make the old database: the schema is the SQL the release's
own code created (``snapshots/``), and the rows are INSERTs written for that schema, so what an
upgrade meets is what a county's server really holds.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


@dataclass(frozen=True)
class Release:
    """A landed release whose schema is in ``snapshots/``."""

    version: int  # its schema_version
    commit: str

    @property
    def has_rates(self) -> bool:
        """Migration 2 (organisation rates) came with release e9fcf3f (version 3)."""
        return self.version >= 2

    @property
    def has_child_copies(self) -> bool:
        """Child rows carry their attendance's org, date and qualification: migration 4."""
        return self.version >= 4

    @property
    def has_names(self) -> bool:
        """Display names of organisations and sites: migration 11."""
        return self.version >= 11

    def snapshot(self, backend: str) -> str:
        name = f"v{self.version:02d}-{self.commit}.{'sqlite' if backend == 'sqlite' else backend}"
        return (SNAPSHOTS / f"{name}.sql").read_text()

    def invoice_as_released(self) -> str:
        """April's CSV as this release's own code wrote it (``snapshots/make_invoice.py``); the
        first release had no invoice, so the next release's, which read the same rows."""
        release = self if self.has_rates else RELEASES[1]
        name = f"v{release.version:02d}-{release.commit}.invoice.csv"
        return (SNAPSHOTS / name).read_text()

    def __str__(self) -> str:
        return f"v{self.version}-{self.commit}"


#: The first landed release first (the one the issue asks for), the last of the home-made
#: migrator last.
RELEASES = (
    Release(1, "6d53a55"),
    Release(3, "e9fcf3f"),
    Release(8, "1771f0a"),
    Release(12, "0f4be84"),
)


def load(url: str, sql: str) -> None:
    """Run a snapshot's SQL on the (empty) database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        conn = sqlite3.connect(parsed.database)
        try:
            conn.executescript(sql)
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]  # a whole dump, no parameters


# -- the month the tests invoice: April 2016, Lichfield at £3.00 per child-session -----------
MONTH = "2016-04"
RATE_PENCE = 300


def fill(url: str, release: Release) -> None:
    """Two organisations, their kiosks, families, children and April's attendances, in plain
    SQL valid for ``release``'s schema (columns it has, and only those)."""
    postgres = make_url(url).get_backend_name() == "postgresql"

    def ts(text: str) -> str:
        return f"'{text}+00'" if postgres else f"'{text}'"

    rows: list[str] = []
    if release.has_names:
        rows += [
            "INSERT INTO orgs (org_id, created_at, name) VALUES"
            f" ('lichfield', {ts('2016-03-01 09:00:00')}, NULL),"
            f" ('spark', {ts('2016-03-01 09:00:00')}, NULL)",
            "INSERT INTO sites (org_id, site_id, created_at, name) VALUES"
            f" ('lichfield', 'library', {ts('2016-03-01 09:00:00')}, NULL),"
            f" ('spark', 'chase', {ts('2016-03-01 09:00:00')}, NULL)",
        ]
    else:
        rows += [
            "INSERT INTO orgs (org_id, created_at) VALUES"
            f" ('lichfield', {ts('2016-03-01 09:00:00')}), ('spark', {ts('2016-03-01 09:00:00')})",
            "INSERT INTO sites (org_id, site_id, created_at) VALUES"
            f" ('lichfield', 'library', {ts('2016-03-01 09:00:00')}),"
            f" ('spark', 'chase', {ts('2016-03-01 09:00:00')})",
        ]
    enrolled = ts("2016-03-01 09:00:00")
    rows += [
        "INSERT INTO devices (device_id, org_id, site_id, token_hash, created_at, holds_up_to)"
        f" VALUES ('kiosk-1', 'lichfield', 'library', '{'a' * 64}', {enrolled}, 6),"
        f" ('kiosk-2', 'spark', 'chase', '{'b' * 64}', {enrolled}, 1)",
    ]
    for family, org, postcode in (
        ("F-SARAH", "lichfield", "WS13 6YY"),
        ("F-OMAR", "lichfield", "WS14 9AA"),
        ("F-ANNA", "spark", "WS7 1AA"),
    ):
        rows.append(
            "INSERT INTO families (family_id, org_id, greeting_name, postcode, criteria,"
            " consent_date, adults, registered_at, updated_at, updated_event_id) VALUES"
            f" ('{family}', '{org}', '{family[2:].title()}', '{postcode}', '[]', '2016-03-01',"
            f" 1, {ts('2016-03-01 09:00:00')}, {ts('2016-03-01 09:00:00')}, 'e-{family}')"
        )
    for family, child, name in (
        ("F-SARAH", "C-MIA", "Mia"),
        ("F-SARAH", "C-LEO", "Leo"),
        ("F-OMAR", "C-ZARA", "Zara"),
        ("F-ANNA", "C-EVA", "Eva"),
    ):
        rows.append(
            "INSERT INTO children (family_id, child_id, first_name, born) VALUES"
            f" ('{family}', '{child}', '{name}', '2014-05')"
        )
    # (id, org, site, device, date, family, qualifies, clock synced, children)
    visits = (
        # Counted: two children, both qualifying lines.
        ("A1", "lichfield", "library", "kiosk-1", "2016-04-04", "F-SARAH", True, True, "MIA LEO"),
        # The same child at the same session again (a second tap typed from paper): once.
        ("A2", "lichfield", "library", "kiosk-1", "2016-04-04", "F-SARAH", True, True, "MIA"),
        # Not qualifying: never on the sheet.
        ("A3", "lichfield", "library", "kiosk-1", "2016-04-11", "F-OMAR", False, True, "ZARA"),
        # Clock not synchronised: listed for review, not in the total.
        ("A4", "lichfield", "library", "kiosk-1", "2016-04-18", "F-SARAH", True, False, "MIA"),
        # Counted, one child.
        ("A5", "lichfield", "library", "kiosk-1", "2016-04-25", "F-SARAH", True, True, "LEO"),
        # May: another month.
        ("A6", "lichfield", "library", "kiosk-1", "2016-05-02", "F-SARAH", True, True, "MIA"),
        # Another organisation.
        ("A7", "spark", "chase", "kiosk-2", "2016-04-04", "F-ANNA", True, True, "EVA"),
    )
    true, false = ("TRUE", "FALSE") if postgres else ("1", "0")
    for aid, org, site, device, day, family, qualifies, synced, kids in visits:
        at = ts(f"{day} 09:45:00")
        reasons = '["postcode"]' if qualifies else "[]"
        rows.append(
            "INSERT INTO attendances (attendance_id, org_id, site_id, device_id, session_key,"
            " session_date, session_name, slot_id, family_id, adults, method, volunteer,"
            " qualifies, reasons, risk_version, at, clock_synced, children_at) VALUES"
            f" ('{aid}', '{org}', '{site}', '{device}', '{site}/{day}/stay', '{day}',"
            f" 'Stay and Play', 'stay', '{family}', 1, 'card', NULL,"
            f" {true if qualifies else false}, '{reasons}', 'v1', {at},"
            f" {true if synced else false}, {at})"
        )
        for kid in kids.split():
            if release.has_child_copies:
                rows.append(
                    "INSERT INTO attendance_children (attendance_id, child_id, org_id,"
                    f" session_date, qualifies) VALUES ('{aid}', 'C-{kid}', '{org}', '{day}',"
                    f" {true if qualifies else false})"
                )
            else:
                rows.append(
                    "INSERT INTO attendance_children (attendance_id, child_id) VALUES"
                    f" ('{aid}', 'C-{kid}')"
                )
    if release.has_rates:
        rows.append(
            "INSERT INTO org_rates (org_id, contract, effective_from, amount_pence, created_at)"
            f" VALUES ('lichfield', 'incentive', '2016-04-01', {RATE_PENCE},"
            f" {ts('2016-03-01 09:00:00')})"
        )
    run(url, rows)


def run(url: str, statements: list[str]) -> None:
    """Run plain SQL statements in one transaction."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database
        conn = sqlite3.connect(parsed.database)
        try:
            with conn:
                for statement in statements:
                    conn.execute(statement)
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


#: Lichfield's April sheet, worked out by hand from :func:`fill`: (date, child, status, pence).
EXPECTED_LINES = [
    ("2016-04-04", "C-LEO", "counted", RATE_PENCE),
    ("2016-04-04", "C-MIA", "counted", RATE_PENCE),
    ("2016-04-25", "C-LEO", "counted", RATE_PENCE),
    ("2016-04-18", "C-MIA", "review", None),
    ("2016-04-04", "C-MIA", "duplicate", None),
]
EXPECTED_TOTAL_PENCE = 3 * RATE_PENCE
