"""Registers: who came to each session of a day."""

from __future__ import annotations

import csv
import io
from datetime import date

from central.reports.registers import CSV_COLUMNS, registers, write_registers_csv
from tests.reports.helpers import Kiosk, at


def test_a_days_registers_list_families_children_and_adults_per_session(db, kiosk):
    sarah = kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001", adults=2)
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")
    kiosk.tap("04A00002", at("2016-04-04", "09:31"))
    kiosk.sign_in(sarah, at("2016-04-04", "09:45"), ["Leo"])
    kiosk.tap("04A00001", at("2016-04-06", "13:05"))  # another day
    pool = Kiosk(db, site="pool", device="kiosk-pool").timetable(
        ("swim", "Baby Swim", "10:00", "11:00", "mon")
    )
    pool.register("Kim", "WS14 9AB", ["Zoe"], card="04C00001")
    pool.tap("04C00001", at("2016-04-04", "10:02"))
    kiosk.sync()
    pool.sync()

    regs = registers(db, "lichfield", date(2016, 4, 4))

    assert [(r.session_name, r.site_id, r.start, r.end) for r in regs] == [
        ("Stay and Play", "library", "09:30", "11:30"),
        ("Baby Swim", "pool", "10:00", "11:00"),
    ]
    play = regs[0]
    assert [(ln.greeting_name, ln.children, ln.adults, ln.method) for ln in play.lines] == [
        ("Tom", ("Ava",), 1, "card"),
        ("Sarah", ("Leo",), 2, "manual"),
    ]
    assert (play.families, play.children, play.adults) == (2, 2, 3)
    assert [r.site_id for r in registers(db, "lichfield", date(2016, 4, 4), "pool")] == ["pool"]

    buf = io.StringIO()
    write_registers_csv(regs, buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [(r["family"], r["children"], r["checked_in"]) for r in rows] == [
        ("Tom", "Ava", "09:31"),
        ("Sarah", "Leo", "09:45"),
        ("Kim", "Zoe", "10:02"),
    ]
    assert "qualif" not in buf.getvalue()  # registers never say who qualifies


def test_a_day_with_no_sessions_has_no_registers(db, kiosk):
    assert registers(db, "lichfield", date(2016, 4, 5)) == []
