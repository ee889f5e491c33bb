"""Migration 5's tables, and refused late events about an erased family kept scrubbed."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from central.db import CentralDB, Device, rejections
from central.privacy.erase import erase_family
from tests.privacy.helpers import SARAH_CARD, leaks
from tests.reports.helpers import at
from tests.schema_history import rewind

MINE = (
    "privacy_salts",
    "erasures",
    "retention_policies",
    "attendance_aggregates",
    "retention_runs",
)


def test_migration_5_gives_an_older_database_the_family_rights_tables(db_url):
    db = CentralDB.open(db_url)
    rewind(db, 4)  # back to the tables a version 4 server made
    with db.engine.connect() as conn:
        assert not set(MINE) & set(inspect(conn).get_table_names())
    assert db.migrate() == ("0004", "0012")
    assert db.migrate() == ("0012", "0012")  # safe to run again
    with db.engine.connect() as conn:
        assert set(MINE) <= set(inspect(conn).get_table_names())
    db.close()


def test_a_refused_late_event_about_an_erased_family_is_kept_scrubbed(db, kiosk, families):
    report = erase_family(db, families.sarah.family_id, requested_by="alice")
    kiosk.tap(SARAH_CARD, at("2016-05-02"))
    late = list(kiosk.store.events())[-1].to_dict()
    late["data"] = {**late["data"], "adults": "two"}  # refused: adults must be a number

    [answer] = db.ingest(Device("kiosk-1", "lichfield", "library"), [late]).results

    assert answer.status == "rejected" and answer.reason.startswith("data.adults")
    with db.engine.connect() as conn:
        row = conn.execute(
            select(rejections).where(rejections.c.event_id == late["event_id"])
        ).one()
    kept = json.loads(row.raw)
    assert kept["data"]["family_id"] == report.token
    assert all(c.startswith(report.token) for c in kept["data"]["children"])
    assert leaks(db, families.secrets) == []


def test_a_batch_mixing_erased_and_other_families_applies_the_others(db, kiosk, families):
    erase_family(db, families.sarah.family_id, requested_by="alice")
    tom_event = kiosk.desk.tap("04B7C2D3", at("2016-05-02"))
    sarah_event = kiosk.desk.tap(SARAH_CARD, at("2016-05-02", "09:50"))
    assert tom_event.kind == sarah_event.kind == "welcome"

    assert set(kiosk.sync()) == {"accepted"}
    with db.engine.connect() as conn:
        families_now = (
            conn.execute(
                text("SELECT family_id FROM attendances WHERE session_date >= '2016-05-01'")
            )
            .scalars()
            .all()
        )
    assert families.tom.family_id in families_now
    assert sum(f.startswith("erased-") for f in families_now) == 1
