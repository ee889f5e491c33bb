"""``InLookup``: a batch's lookups built once answer exactly what building them anew answered."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, text

from central.db.batch_rows import InLookup, rows_in_chunks
from central.db.schema import children, devices, events, families
from tests.helpers import statements_run


def _fleet(db) -> None:
    for org in ("lichfield", "tamworth"):
        db.add_org(org)
        db.add_site(org, "library")
        for n in range(5):
            db.add_device(org, "library", f"{org}-{n}")


_BY_ID = InLookup(
    select(devices.c.device_id, devices.c.org_id).where(devices.c.org_id == bindparam("org")),
    devices.c.device_id,
)
_IDS_BY_HOLDS = InLookup(select(devices.c.device_id), devices.c.holds_up_to, scalars=True)


def test_it_finds_the_rows_asked_for_with_the_other_values_bound_by_name(db, monkeypatch):
    _fleet(db)
    monkeypatch.setattr("central.db.batch_rows.CHUNK", 2)  # several statements per lookup
    wanted = ["lichfield-0", "lichfield-3", "tamworth-1", "nobody", "lichfield-4"]
    with db.reading() as conn:
        found = sorted(tuple(r) for r in _BY_ID.rows(conn, wanted, org="lichfield"))
        anew = sorted(
            tuple(r)
            for r in rows_in_chunks(
                conn,
                select(devices.c.device_id, devices.c.org_id).where(
                    devices.c.org_id == "lichfield"
                ),
                devices.c.device_id,
                wanted,
            )
        )
        other_org = sorted(r.device_id for r in _BY_ID.rows(conn, wanted, org="tamworth"))
    assert (
        found
        == anew
        == [
            ("lichfield-0", "lichfield"),
            ("lichfield-3", "lichfield"),
            ("lichfield-4", "lichfield"),
        ]
    )
    assert other_org == ["tamworth-1"]


def test_whole_number_columns_and_scalars(db):
    _fleet(db)
    with db.reading() as conn:
        ids = sorted(_IDS_BY_HOLDS.rows(conn, [0, 7]))
    assert ids == sorted(f"{org}-{n}" for org in ("lichfield", "tamworth") for n in range(5))


def test_no_values_runs_no_statement(db):
    with db.reading() as conn, statements_run(db.engine) as statements:
        assert list(_BY_ID.rows(conn, [], org="lichfield")) == []
    assert statements == []


_BY_ID_OR_HOLDS = InLookup(
    select(devices.c.device_id, devices.c.holds_up_to),
    devices.c.device_id,
    (devices.c.holds_up_to, devices.c.org_id == bindparam("org")),
)


def test_two_keys_find_the_rows_either_finds_in_one_statement(db, monkeypatch):
    _fleet(db)
    with db.engine.begin() as conn:
        conn.execute(devices.update().where(devices.c.device_id.like("%-3")).values(holds_up_to=9))
    wanted_ids = ["lichfield-0", "tamworth-1", "nobody"]
    with db.reading() as conn:
        with statements_run(db.engine) as statements:
            found = {
                r.device_id for r in _BY_ID_OR_HOLDS.rows(conn, wanted_ids, [9], org="tamworth")
            }
        # Past CHUNK values it takes several statements, and finds the same rows.
        monkeypatch.setattr("central.db.batch_rows.CHUNK", 1)
        chunked = {r.device_id for r in _BY_ID_OR_HOLDS.rows(conn, wanted_ids, [9], org="tamworth")}
        # No values for one key: only the other finds rows.
        by_holds = {r.device_id for r in _BY_ID_OR_HOLDS.rows(conn, [], [9], org="lichfield")}
    # By id: lichfield-0 and tamworth-1; by holds, only where the condition holds: tamworth-3
    # (lichfield-3 also holds 9, but is not of the organisation asked about).
    assert found == chunked == {"lichfield-0", "tamworth-1", "tamworth-3"}
    assert [s for s in statements if s.lstrip().startswith("SELECT")] == statements[-1:]
    assert by_holds == {"lichfield-3"}


def test_one_list_of_values_per_key(db):
    with db.reading() as conn, pytest.raises(TypeError, match="takes 2 list"):
        list(_BY_ID_OR_HOLDS.rows(conn, ["lichfield-0"], org="tamworth"))


_FAMILIES = InLookup(  # the shapes of central.db.ingest's lookups
    select(families.c.family_id, children.c.child_id).select_from(
        families.outerjoin(children, children.c.family_id == families.c.family_id)
    ),
    families.c.family_id,
)
_HELD_OR_SEQ = InLookup(
    select(events.c.event_id, events.c.seq),
    events.c.event_id,
    (events.c.seq, events.c.device_id == bindparam("device")),
)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_on_postgresql_each_value_is_an_index_lookup_even_without_statistics(db):
    """A new server's tables grow faster than autovacuum analyses them. Without statistics
    PostgreSQL took an ``IN``/``= ANY`` lookup to match a twentieth of the table and read it
    whole; a prepared statement then kept that plan for the connection's life, and 300 kiosks
    at once read ``children`` in full on every batch. The lookups of every batch look each
    value up on its own instead: no whole-table read, with the statistics missing and the plan
    the generic one a prepared statement keeps."""
    db.add_org("lichfield")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO families (family_id, org_id, greeting_name, postcode, criteria, "
                "adults, language, updated_at, updated_event_id) "
                "SELECT 'F-' || n, 'lichfield', 'Amy', 'WS7 1AA', '[]', 1, 'en', now(), 'e' || n "
                "FROM generate_series(1, 3000) AS n"
            )
        )
        conn.execute(
            text(
                "INSERT INTO children (family_id, child_id, first_name) "
                "SELECT 'F-' || n, 'F-' || n || '-' || k, 'Ben' "
                "FROM generate_series(1, 3000) AS n, generate_series(1, 2) AS k"
            )
        )
    scans = text(
        "SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_xact_user_tables "
        "WHERE relname IN ('families', 'children', 'events')"
    )
    with db.engine.begin() as conn:
        analysed = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('families', "
                "'children') AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) "
                "AND schemaname = current_schema()"
            )
        ).scalar_one()
        assert analysed == 0  # the case of a new server: no statistics yet
        conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        before = conn.execute(scans).scalar_one()
        for _ in range(8):  # past psycopg's prepare threshold (5)
            found = list(_FAMILIES.rows(conn, ["F-7", "F-2999", "nobody"]))
            held = list(_HELD_OR_SEQ.rows(conn, ["e-1", "e-2"], [1, 2], device="kiosk-1"))
        after = conn.execute(scans).scalar_one()
    assert sorted((r.family_id, r.child_id) for r in found) == [
        ("F-2999", "F-2999-1"),
        ("F-2999", "F-2999-2"),
        ("F-7", "F-7-1"),
        ("F-7", "F-7-2"),
    ]
    assert held == []
    assert after == before, "a batch's lookup read a whole table"


def test_a_value_named_twice_finds_its_row_once(db):
    _fleet(db)
    with db.reading() as conn:
        found = [r.device_id for r in _BY_ID.rows(conn, ["lichfield-0"] * 3, org="lichfield")]
    assert found == ["lichfield-0"]
