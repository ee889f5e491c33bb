"""Reach and engagement: unique families and children, visits, lapsed families, registrations."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from central.reports.charts import reach_charts
from central.reports.pdf import reach_pdf
from central.reports.period import Period
from central.reports.reach import build_reach, write_reach_csv, write_reach_text
from tests.reports.helpers import Kiosk, at

APRIL = Period.month("2016-04")


def mondays(start: str, count: int) -> list[date]:
    first = date.fromisoformat(start)
    return [first + timedelta(weeks=n) for n in range(count)]


def test_unique_families_and_children_with_the_share_that_qualifies(db, kiosk):
    kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")  # qualifies
    kiosk.register("Tom", "WS13 6YY", ["Ava"], card="04A00002")
    kiosk.register("Kim", "WS14 9AB", ["Zoe", "Max"], card="04A00003")
    kiosk.register(
        "Jo", "WS14 9AB", ["Ivy"], card="04A00004", criteria=["young_parent"], consent=True
    )
    for day in mondays("2016-04-04", 4):
        kiosk.tap("04A00001", at(day))
        kiosk.tap("04A00002", at(day))
    kiosk.tap("04A00003", at("2016-04-06", "13:10"))  # Baby Group
    kiosk.tap("04A00004", at("2016-04-06", "13:15"))
    kiosk.sync()

    reach = build_reach(db, "lichfield", APRIL)

    t = reach.total
    assert (t.families, t.children, t.qualifying_families, t.qualifying_children) == (4, 6, 2, 3)
    assert t.share == 0.5 and t.sessions == 5 and t.visits == 10
    assert [(c.label, c.families, c.children) for c in reach.by_month] == [("Apr 2016", 4, 6)]
    sessions = {c.label: c for c in reach.by_session}
    assert sessions["Stay and Play (library)"].families == 2
    assert sessions["Stay and Play (library)"].sessions == 4
    assert sessions["Baby Group (library)"].qualifying_children == 1
    mix = {(c.key[2], c.key[3]): c for c in reach.occurrences}
    assert mix[(date(2016, 4, 4), "Stay and Play")].attendance_share == 2 / 3
    assert mix[(date(2016, 4, 6), "Baby Group")].attendance_share == 1 / 3


def test_how_often_families_came_falls_into_bands(db, kiosk):
    counts = {"04A00001": 1, "04A00002": 2, "04A00003": 4, "04A00004": 8, "04A00005": 9}
    for n, card in enumerate(counts):
        kiosk.register(f"P{n}", "WS7 1AA" if n == 4 else "WS13 6YY", ["Mia"], card=card)
    days = [d for d in mondays("2016-04-04", 5)] + [
        d + timedelta(days=2) for d in mondays("2016-04-04", 4)
    ]
    for card, visits in counts.items():
        for day in sorted(days)[:visits]:
            hhmm = "09:40" if day.weekday() == 0 else "13:10"
            assert kiosk.tap(card, at(day, hhmm)) == "welcome"
    kiosk.sync()

    bands = build_reach(db, "lichfield", Period.between("2016-04-01", "2016-05-31")).visit_bands
    assert [(b.label, b.families, b.qualifying_families) for b in bands] == [
        ("1 visit", 1, 0),
        ("2-3 visits", 1, 0),
        ("4-7 visits", 1, 0),
        ("8+ visits", 2, 1),
    ]


def test_families_not_seen_for_six_weeks_and_those_who_never_came_are_listed(db, kiosk):
    kiosk.register("Regular", "WS13 6YY", ["Mia"], card="04A00001", at=at("2016-02-01"))
    kiosk.register("Lapsed", "WS13 6YY", ["Leo"], card="04A00002", at=at("2016-02-01"))
    kiosk.register("Never", "WS13 6YY", ["Ava"], card="04A00003", at=at("2016-02-01"))
    kiosk.register("New", "WS13 6YY", ["Zoe"], card="04A00004", at=at("2016-04-20"))
    kiosk.tap("04A00001", at("2016-04-25"))
    kiosk.tap("04A00002", at("2016-03-07"))
    kiosk.tap("04A00002", at("2016-02-08"))
    kiosk.sync()

    reach = build_reach(db, "lichfield", APRIL)

    assert reach.as_of == date(2016, 4, 30)
    assert [(f.greeting_name, f.last_seen, f.visits) for f in reach.not_seen] == [
        ("Lapsed", date(2016, 3, 7), 2),
        ("Never", None, 0),
    ]
    assert reach.not_seen_by_org == [("lichfield", 2)]
    county = build_reach(db, None, APRIL, with_names=False)
    assert county.not_seen == [] and county.not_seen_count == 2


def test_new_registrations_say_how_they_first_heard_of_us(db, kiosk):
    kiosk.register("A", "WS13 6YY", at=at("2016-04-02"), heard_from="health_visitor")
    kiosk.register("B", "WS13 6YY", at=at("2016-04-09"), heard_from="health_visitor")
    kiosk.register("C", "WS13 6YY", at=at("2016-04-30", "23:30"), heard_from="leaflet")
    kiosk.register("D", "WS13 6YY", at=at("2016-04-12"))
    kiosk.register("E", "WS13 6YY", at=at("2016-05-01", "00:30"), heard_from="friend")  # May
    kiosk.register("F", "WS13 6YY", at=at("2016-03-31", "23:30"), heard_from="friend")  # March
    kiosk.sync()

    reach = build_reach(db, "lichfield", APRIL)

    assert reach.registrations == 4
    heard = {label: n for _code, label, n in reach.heard_from}
    assert heard["Health visitor"] == 2 and heard["Leaflet"] == 1 and heard["Not recorded"] == 1
    assert heard["A friend"] == 0 and heard["Birth registration"] == 0


def test_the_commissioner_sees_every_organisation_with_no_names(db, kiosk):
    other = Kiosk(db, org="tamworth", site="hub", device="tam-1").timetable(
        ("play", "Stay and Play", "09:30", "11:30", "mon")
    )
    kiosk.register("Sarah", "WS7 1AA", ["Mia"], card="04A00001")
    other.register("Amira", "WS13 6YY", ["Isla", "Noah"], card="04B00001")
    kiosk.tap("04A00001", at("2016-04-04"))
    other.tap("04B00001", at("2016-04-04"))
    kiosk.sync()
    other.sync()

    reach = build_reach(db, None, APRIL, with_names=False)

    assert reach.scope == "all organisations"
    assert [(c.label, c.children, c.qualifying_children) for c in reach.by_org] == [
        ("lichfield", 1, 1),
        ("tamworth", 2, 0),
    ]
    assert reach.total.children == 3 and reach.not_seen == []


def test_the_reach_report_renders_as_text_csv_charts_and_pdf(db, kiosk):
    kiosk.register(
        "Sarah", "WS7 1AA", ["Mia"], card="04A00001", heard_from="friend", at=at("2016-04-01")
    )
    kiosk.tap("04A00001", at("2016-04-04"))
    kiosk.sync()
    reach = build_reach(db, "lichfield", Period.between("2016-03-01", "2016-05-31"))

    text = io.StringIO()
    write_reach_text(reach, text)
    assert "Families: 1   children: 1" in text.getvalue()
    rows = list(csv.DictReader(io.StringIO(_csv(reach))))
    months = [r for r in rows if r["section"] == "month"]
    assert [(r["group"], r["children"]) for r in months] == [
        ("Mar 2016", "0"),
        ("Apr 2016", "1"),
        ("May 2016", "0"),
    ]
    charts = reach_charts(reach)
    assert [c.name for c in charts] == ["reach", "visits", "heard_from", "mix"]
    assert all(c.alt and c.svg().lstrip().startswith("<?xml") for c in charts)
    assert "Apr 2016: 1 children, 1 qualify (100%)" in charts[0].alt
    assert charts[1].png()[:4] == b"\x89PNG"
    assert reach_pdf(reach, charts).startswith(b"%PDF")


def test_an_empty_month_still_renders(db, kiosk):
    reach = build_reach(db, "lichfield", APRIL)
    assert reach.total.families == 0 and reach.total.share is None
    charts = reach_charts(reach)
    assert "no children came" in charts[3].alt.lower()
    assert reach_pdf(reach, charts).startswith(b"%PDF")


def _csv(reach) -> str:
    buf = io.StringIO()
    write_reach_csv(reach, buf)
    return buf.getvalue()
