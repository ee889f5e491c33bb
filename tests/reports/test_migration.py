"""Revision 0002 adds the rate and review tables (and an index) to a version 1 database."""

from __future__ import annotations

from sqlalchemy import inspect

from central.db import CentralDB
from tests.schema_history import rewind


def test_migration_2_gives_a_version_1_database_the_report_tables(db_url):
    db = CentralDB.open(db_url)
    db.add_org("lichfield")
    rewind(db, 1)  # back to the tables a version 1 server made
    with db.engine.connect() as conn:
        assert "org_rates" not in inspect(conn).get_table_names()
    assert db.migrate() == ("0001", "0012")
    assert db.migrate() == ("0012", "0012")  # safe to run again
    with db.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        indexes = {ix["name"] for ix in inspect(conn).get_indexes("attendances")}
    assert {"org_rates", "attendance_reviews"} <= tables
    assert "ix_attendances_org_family_date" in indexes
    assert db.org_list() == [("lichfield", None)]  # the organisation is still there
    db.close()
