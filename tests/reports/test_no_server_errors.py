"""What a user types never makes the dashboard answer 500.

Against a real ``kiosk-central serve`` process over HTTP: a session named like a mathtext
formula (``$\\frac$``) is drawn literally in every chart, and a month or day outside the dates
the reports cover (``?month=9999-12``, ``0001-01``) is a 400 that names the parameter and the
range, on every page and download; the command line says the same and exits 1."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from central.cli import main
from central.db import CentralDB
from central.reports import charts
from central.reports.period import Period
from central.reports.rates import set_rate
from central.reports.reach import build_reach
from tests.reports.helpers import Kiosk, at
from tests.sync.servers import CentralServer

MATHTEXT = r"$\frac$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Every page and download that takes ?month=, and who may see it.
MONTH_PATHS = (
    ("/dashboard", "carol"),
    ("/dashboard/org/lichfield", "alice"),
    ("/dashboard/org/lichfield/invoice.csv", "fred"),  # the lines are finance's
    ("/dashboard/org/lichfield/invoice.pdf", "alice"),
    ("/dashboard/org/lichfield/reach.csv", "alice"),
    ("/dashboard/org/lichfield/reach.pdf", "alice"),
    ("/dashboard/org/lichfield/outreach", "alice"),
    ("/dashboard/all/reach.csv", "carol"),
    ("/dashboard/all/reach.pdf", "carol"),
)
DAY_PATHS = ("/dashboard/org/lichfield/register", "/dashboard/org/lichfield/register.csv")
OUT_OF_RANGE_MONTHS = ("9999-12", "0001-01", "0000-01", "1999-12", "2100-01")
OUT_OF_RANGE_DAYS = ("9999-12-31", "0001-01-01", "1999-12-31", "2100-01-01")


def users(db: CentralDB) -> dict[str, dict[str, str]]:
    """A staff user and a finance user of lichfield and the commissioner: name to Basic auth
    header."""
    passwords = {
        "alice": db.add_user("alice", "staff", "lichfield"),
        "fred": db.add_user("fred", "finance", "lichfield"),
        "carol": db.add_user("carol", "commissioner"),
    }
    return {
        name: {"Authorization": "Basic " + base64.b64encode(f"{name}:{pw}".encode()).decode()}
        for name, pw in passwords.items()
    }


@pytest.fixture
def mathtext(db: CentralDB) -> CentralDB:
    """lichfield's library, with two sessions every day of April 2016 (60 held, more than the
    mix chart draws one by one, so it labels its bars with the sessions' names), one of them
    named ``$\\frac$``."""
    k = Kiosk(db)
    k.timetable(
        *(
            slot
            for day in WEEKDAYS
            for slot in (
                (f"frac-{day}", MATHTEXT, "09:00", "10:00", day),
                (f"play-{day}", "Stay and Play", "11:00", "12:00", day),
            )
        )
    )
    k.risk("WS7 1AA")
    families = [
        k.register("Sarah", "WS7 1AA", ["Mia"], at=at("2016-03-01")),
        k.register("Tom", "WS13 6YY", ["Ava"], at=at("2016-03-01")),
    ]
    day = date(2016, 4, 1)
    while day.month == 4:
        for fam in families:
            k.sign_in(fam, at(day, "09:10"))
            k.sign_in(fam, at(day, "11:10"))
        day += timedelta(days=1)
    assert set(k.sync()) == {"accepted"}
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    return db


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[str]:
    central = CentralServer(db_url, tmp_path / "server.log").start()
    try:
        yield central.url
    finally:
        central.stop()


def test_a_session_named_like_a_formula_is_drawn_as_it_is_written(mathtext, server):
    auth = users(mathtext)
    page = requests.get(f"{server}/dashboard/org/lichfield?month=2016-04", headers=auth["alice"])
    assert page.status_code == 200, page.text[-500:]
    svgs = [  # the charts are <img> elements with the SVG inline, base64
        base64.b64decode(data).decode()
        for data in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page.text)
    ]
    assert len(svgs) == 5  # the four reach charts, and the trend
    labels = [html.unescape(t) for svg in svgs for t in re.findall(r">([^<>]+)</text>", svg)]
    assert f"{MATHTEXT} (library)" in labels  # a bar of the mix chart, labelled as typed
    for path in ("reach.pdf", "reach.csv"):
        r = requests.get(
            f"{server}/dashboard/org/lichfield/{path}?month=2016-04", headers=auth["alice"]
        )
        assert r.status_code == 200, (path, r.text[-300:])
    assert MATHTEXT in r.text


def test_every_chart_draws_the_name_literally_even_outside_the_reports_style(mathtext):
    reach = build_reach(mathtext, "lichfield", Period.month("2016-04"))
    for make in (charts.reach_chart, charts.visits_chart, charts.heard_from_chart):
        make(reach).png()
    mix = charts.mix_chart(reach)  # made here, with matplotlib's own defaults
    assert MATHTEXT in html.unescape(mix.svg()) and mix.png().startswith(b"\x89PNG")


def test_a_month_outside_the_reports_range_is_a_400_that_says_so(db, server):
    db.add_org("lichfield")
    auth = users(db)
    for month in OUT_OF_RANGE_MONTHS:
        for path, who in MONTH_PATHS:
            r = requests.get(f"{server}{path}?month={month}", headers=auth[who])
            assert r.status_code == 400, (path, month, r.status_code, r.text[-300:])
            text = html.unescape(r.text)
            assert f"month '{month}'" in text and "(2000-01 to 2099-12)" in text, (path, month)
    for day in OUT_OF_RANGE_DAYS:
        for path in DAY_PATHS:
            r = requests.get(f"{server}{path}?date={day}", headers=auth["alice"])
            assert r.status_code == 400, (path, day, r.status_code, r.text[-300:])
            text = html.unescape(r.text)
            assert f"date '{day}'" in text and "(2000-01-01 to 2099-12-31)" in text, (path, day)
    for month in ("2000-01", "2099-12"):  # the range's own ends are shown
        for path, who in MONTH_PATHS:
            r = requests.get(f"{server}{path}?month={month}", headers=auth[who])
            assert r.status_code == 200, (path, month, r.text[-300:])
    for day in ("2000-01-01", "2099-12-31"):
        for path in DAY_PATHS:
            r = requests.get(f"{server}{path}?date={day}", headers=auth["alice"])
            assert r.status_code == 200, (path, day, r.text[-300:])


ORG = ("--org", "lichfield")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "invoice", *ORG, "--month", "9999-12"], "month '9999-12'"),
        (["report", "reach", *ORG, "--month", "0001-01"], "month '0001-01'"),
        (["report", "reach", "--month", "0001-01"], "month '0001-01'"),
        (["report", "reach", *ORG, "--from", "0001-01-01", "--to", "2016-04-30"], "--from '0001"),
        (["report", "invoice", *ORG, "--from", "2016-04-01", "--to", "9999-12-31"], "--to '9999"),
        (["report", "reach", *ORG, "--month", "2016-04", "--as-of", "0001-01-01"], "--as-of '"),
        (["report", "register", *ORG, "--date", "9999-12-31"], "--date '9999-12-31'"),
        (["review", "list", *ORG, "--month", "9999-12"], "month '9999-12'"),
        (["org", "rate", "lichfield", "3.00", "--from", "0001-01-01"], "--from '0001-01-01'"),
    ],
)
def test_the_command_line_refuses_dates_outside_the_range_by_name(
    capsys, db_url, db, argv, message
):
    db.add_org("lichfield")
    code = main(["--db", db_url, *argv])
    err = capsys.readouterr().err
    assert code == 1 and message in err and "is outside the" in err and " to 2099-12" in err, err


def test_a_paper_register_for_a_day_outside_the_range_is_refused(capsys, db_url, db, tmp_path):
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    paper = tmp_path / "paper.csv"
    paper.write_text("family_id,children\n")
    argv = ["import", "register", str(paper), *ORG, "--site", "library", "--date", "9999-12-31"]
    argv += ["--session-name", "Stay and Play", "--start", "09:30", "--end", "11:30"]
    code = main(["--db", db_url, *argv])
    err = capsys.readouterr().err
    assert code == 1 and "--date '9999-12-31' is outside the dates" in err, err
