"""Migration 2 adds the rate and review tables (and an index) to an existing database."""

from __future__ import annotations

from sqlalchemy import inspect, text

from central import db as central_db
from central.db import CentralDB


def test_migration_2_gives_a_version_1_database_the_report_tables(db_url):
    [step] = [m for m in central_db.MIGRATIONS if m.version == 2]
    assert step.description == "organisation rates"
    db = CentralDB.open(db_url)
    db.add_org("lichfield")
    with db.engine.begin() as conn:  # back to the tables a version 1 server made
        conn.execute(text("DROP INDEX ix_attendances_org_family_date"))
        conn.execute(text("DROP TABLE org_rates"))
        conn.execute(text("DROP TABLE attendance_reviews"))
    with db.engine.begin() as conn:
        step.apply(conn)
    with db.engine.begin() as conn:
        step.apply(conn)  # safe to run again
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("attendances")}
    assert {"org_rates", "attendance_reviews"} <= tables
    assert "ix_attendances_org_family_date" in indexes
    db.close()
