"""``attendance_children`` carries its attendance's organisation, date and qualification
(so county reach counts children without a join), and they stay right through ingest,
amendments, re-sent batches and migration 4 of an existing database."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import inspect, select

from central.db import LATEST_VERSION, CentralDB, attendance_children, attendances
from central.reports.period import Period
from central.reports.reach import Reach, build_reach
from tests.reports.helpers import Kiosk, at
from tests.schema_history import rewind

APRIL = Period.month("2016-04")
COPIES = ("org_id", "session_date", "qualifies")


def child_rows(db: CentralDB) -> list[tuple]:
    """Every child attendance with its copies: (attendance, child, org, date, qualifies)."""
    ac = attendance_children
    with db.engine.connect() as conn:
        rows = conn.execute(select(ac.c.attendance_id, ac.c.child_id, *(ac.c[c] for c in COPIES)))
        return sorted(tuple(r) for r in rows)


def from_attendances(db: CentralDB) -> list[tuple]:
    """The same rows with the copies read from ``attendances`` (the source of truth)."""
    a, ac = attendances, attendance_children
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(ac.c.attendance_id, ac.c.child_id, *(a.c[c] for c in COPIES)).select_from(
                ac.join(a, a.c.attendance_id == ac.c.attendance_id)
            )
        )
        return sorted(tuple(r) for r in rows)


def assert_copies_right(db: CentralDB) -> list[tuple]:
    rows = child_rows(db)
    assert rows == from_attendances(db)
    return rows


def figures(reach: Reach) -> dict:
    out = dataclasses.asdict(reach)
    out.pop("generated_at")
    return out


def two_organisations(db: CentralDB, kiosk: Kiosk) -> Kiosk:
    """lichfield: a qualifying family and one that does not; tamworth: one family."""
    other = Kiosk(db, org="tamworth", site="hub", device="tam-1").timetable(
        ("play", "Stay and Play", "09:30", "11:30", "mon")
    )
    kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")  # qualifies
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")
    other.register("Amira", "WS13 6YY", ["Isla", "Noah"], card="04B00001")
    for day in ("2016-04-04", "2016-04-11"):
        kiosk.tap("04A00001", at(day))
        kiosk.tap("04A00002", at(day))
        other.tap("04B00001", at(day))
    return other


def test_a_new_attendance_copies_its_organisation_date_and_qualification(db, kiosk):
    other = two_organisations(db, kiosk)
    kiosk.sync()
    other.sync()

    rows = assert_copies_right(db)

    assert len(rows) == 2 * (2 + 1 + 2)
    assert {(org, day, q) for _a, _c, org, day, q in rows} == {
        ("lichfield", date(2016, 4, 4), True),
        ("lichfield", date(2016, 4, 4), False),
        ("lichfield", date(2016, 4, 11), True),
        ("lichfield", date(2016, 4, 11), False),
        ("tamworth", date(2016, 4, 4), False),
        ("tamworth", date(2016, 4, 11), False),
    }


def test_an_amendment_that_removes_one_child_and_adds_another_keeps_the_copies(db, kiosk):
    sarah = kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo", "Ava"], card="04A00001")
    mia, leo, ava = (c.child_id for c in sarah.children)
    assert kiosk.sign_in(sarah, at("2016-04-04"), [mia, leo]) == "welcome"
    kiosk.sync()
    before = assert_copies_right(db)
    assert sorted(r[1] for r in before) == sorted([mia, leo])

    kiosk.desk.set_children(sarah.family_id, [leo, ava], at("2016-04-04", "10:15"))
    kiosk.sync()  # the amendment arrives in a later batch than the attendance

    rows = assert_copies_right(db)
    assert sorted(r[1] for r in rows) == sorted([leo, ava])
    assert {r[2:] for r in rows} == {("lichfield", date(2016, 4, 4), True)}
    reach = build_reach(db, "lichfield", APRIL)
    assert (reach.total.children, reach.total.qualifying_children) == (2, 2)


def test_an_amendment_in_the_same_batch_as_its_attendance_keeps_the_copies(db, kiosk):
    tom = kiosk.register("Tom", "WS13 6YY", ["Mia", "Leo"], card="04A00002")
    mia, leo = (c.child_id for c in tom.children)
    kiosk.sign_in(tom, at("2016-04-06", "13:10"), [mia])
    kiosk.desk.set_children(tom.family_id, [leo], at("2016-04-06", "13:20"))
    kiosk.sync()

    rows = assert_copies_right(db)
    assert [(r[1], *r[2:]) for r in rows] == [(leo, "lichfield", date(2016, 4, 6), False)]


def test_a_re_sent_batch_changes_nothing(db, kiosk):
    other = two_organisations(db, kiosk)
    sarah = kiosk.store.families()[0]
    kiosk.desk.set_children(
        sarah.family_id, [sarah.children[1].child_id], at("2016-04-11", "10:00")
    )
    kiosk.sync()
    other.sync()
    rows = assert_copies_right(db)
    reach = figures(build_reach(db, None, APRIL, with_names=False))

    assert set(kiosk.resend(list(kiosk.store.events()))) == {"duplicate"}
    assert set(other.resend(list(other.store.events()))) == {"duplicate"}

    assert assert_copies_right(db) == rows
    assert figures(build_reach(db, None, APRIL, with_names=False)) == reach


def _back_to_version_3(db: CentralDB) -> None:
    """The attendance_children a version 3 server made (revisions 12 to 4 run backwards)."""
    rewind(db, 3)


def _shape(db: CentralDB) -> tuple:
    with db.engine.connect() as conn:
        inspector = inspect(conn)
        columns = [
            (c["name"], c["nullable"], str(c["type"]))
            for c in inspector.get_columns("attendance_children")
        ]
        indexes = sorted(
            (ix["name"], tuple(ix["column_names"]))
            for ix in inspector.get_indexes("attendance_children")
        )
        keys = inspector.get_pk_constraint("attendance_children")["constrained_columns"]
        foreign = [
            (fk["referred_table"], fk["options"].get("ondelete"))
            for fk in inspector.get_foreign_keys("attendance_children")
        ]
    return columns, indexes, keys, foreign


def test_migration_4_fills_the_copies_of_an_existing_database(db_url, db, kiosk):
    other = two_organisations(db, kiosk)
    sarah = kiosk.store.families()[0]
    kiosk.desk.set_children(
        sarah.family_id, [sarah.children[0].child_id], at("2016-04-11", "10:05")
    )
    kiosk.sync()
    other.sync()
    rows = assert_copies_right(db)
    county = figures(build_reach(db, None, APRIL, with_names=False))
    mine = figures(build_reach(db, "lichfield", APRIL))
    fresh = _shape(db)

    _back_to_version_3(db)
    with db.engine.connect() as conn:
        left = {c["name"] for c in inspect(conn).get_columns("attendance_children")}
    assert left == {"attendance_id", "child_id"}

    migrated = CentralDB.open(db_url)  # runs migration 4 (and the later ones) again
    try:
        assert migrated.schema_version() == LATEST_VERSION
        assert child_rows(migrated) == rows  # back-filled from attendances
        assert _shape(migrated) == fresh  # the same table as a new database gets
        assert migrated.migrate() == ("0012", "0012")  # nothing left to do
        assert child_rows(migrated) == rows
        assert figures(build_reach(migrated, None, APRIL, with_names=False)) == county
        assert figures(build_reach(migrated, "lichfield", APRIL)) == mine
        # Ingest after the migration writes the copies too.
        kiosk.tap("04A00001", at("2016-04-18"))
        kiosk.sync()
        assert len(assert_copies_right(migrated)) == len(rows) + 2
    finally:
        migrated.close()


def test_not_seen_for_six_weeks_counts_match_the_names_whatever_as_of(db, kiosk):
    kiosk.register("Regular", "WS13 6YY", ["Mia"], card="04A00001", at=at("2016-01-04"))
    kiosk.register("Lapsed", "WS13 6YY", ["Leo"], card="04A00002", at=at("2016-01-04"))
    kiosk.register("Later", "WS13 6YY", ["Ava"], card="04A00003", at=at("2016-01-04"))
    kiosk.register("Recent", "WS13 6YY", ["Zoe"], card="04A00004", at=at("2016-04-01"))
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.tap("04A00002", at("2016-02-01"))
    kiosk.tap("04A00003", at("2016-04-25"))  # only after the earlier as_of below
    kiosk.sync()

    expected = {
        # as_of 2016-04-11: cutoff 2016-02-29; Later came only after as_of ("never came" then).
        date(2016, 4, 11): [("Lapsed", date(2016, 2, 1), 1), ("Later", None, 0)],
        date(2016, 4, 30): [("Lapsed", date(2016, 2, 1), 1)],
        # Long after: everyone lapsed, the most recently seen first.
        date(2016, 9, 1): [
            ("Later", date(2016, 4, 25), 1),
            ("Regular", date(2016, 4, 4), 1),
            ("Lapsed", date(2016, 2, 1), 1),
            ("Recent", None, 0),
        ],
    }
    for as_of, names in expected.items():
        reach = build_reach(db, "lichfield", APRIL, as_of=as_of)
        assert [(f.greeting_name, f.last_seen, f.visits) for f in reach.not_seen] == names
        assert reach.not_seen_by_org == [("lichfield", len(names))]
        county = build_reach(db, None, APRIL, as_of=as_of, with_names=False)
        assert county.not_seen_by_org == [("lichfield", len(names))]
        # The period's figures do not depend on as_of: Regular and Later came in April.
        assert county.total.families == 2
