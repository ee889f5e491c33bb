"""The trend over a pilot, month by month, against a baseline month.

    family  postcode  children  March  April  May  June  July
    A       WS7 1AA   2 (qualify)       x      x
    B       WS13 6YY  1                 x                  x x
    C       WS12 3AB  1 (qualifies)            x
    D       WS13 6YY  2                                    x
    E       WS13 6YY  1           x     x

April (the baseline): qualifying 2 (A's), other 2 (B, E), first visits 2 (A, B), returning 1
(E, first seen in March), share 2 of 4 = 50.0%. May: qualifying 3, other 0, first 1 (C),
returning 1 (A), 100.0% (+50.0 points). June: nobody. July: qualifying 0, other 3, first 1 (D),
returning 1 (B, counted once though it came twice), 0.0% (-50.0 points).
"""

from __future__ import annotations

import csv
import io

import pytest

from central.cli import main
from central.db import CentralError
from central.reports.charts import trend_chart
from central.reports.period import Period
from central.reports.trend import build_trend
from tests.reports.helpers import at

PILOT = Period.between_months("2016-04", "2016-07")


@pytest.fixture
def pilot(db, kiosk):
    kiosk.register("A", "WS7 1AA", ["A1", "A2"], card="04A00001")
    kiosk.register("B", "WS13 6YY", ["B1"], card="04A00002")
    kiosk.register("C", "WS12 3AB", ["C1"], card="04A00003")
    kiosk.register("D", "WS13 6YY", ["D1", "D2"], card="04A00004")
    kiosk.register("E", "WS13 6YY", ["E1"], card="04A00005")
    visits = {
        "04A00001": ["2016-04-04", "2016-05-02"],
        "04A00002": ["2016-04-04", "2016-07-04", "2016-07-11"],
        "04A00003": ["2016-05-09"],
        "04A00004": ["2016-07-04"],
        "04A00005": ["2016-03-07", "2016-04-11"],
    }
    for card, days in visits.items():
        for day in days:
            assert kiosk.tap(card, at(day)) == "welcome"
    kiosk.sync()
    return kiosk


def test_month_by_month_with_first_visits_and_returning_families(db, pilot):
    trend = build_trend(db, "lichfield", PILOT)
    assert [
        (m.month, m.qualifying_children, m.other_children, m.first_visits, m.returning_families)
        for m in trend.months
    ] == [
        ("2016-04", 2, 2, 2, 1),
        ("2016-05", 3, 0, 1, 1),
        ("2016-06", 0, 0, 0, 0),
        ("2016-07", 0, 3, 1, 1),
    ]
    assert [m.share for m in trend.months] == [0.5, 1.0, None, 0.0]
    assert trend.baseline == "2016-04"
    may = trend.months[1]
    assert trend.change(may, "qualifying_children") == 1
    assert trend.change(may, "first_visits") == -1


def test_the_csv_gives_the_change_against_a_chosen_baseline(capsys, db_url, pilot):
    code = main(
        ["--db", db_url, "report", "trend", "--org", "lichfield", "--from", "2016-04",
         "--to", "2016-07", "--baseline", "2016-05", "--format", "csv"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {r["month"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["2016-05"]["baseline"] == "yes"
    assert rows["2016-04"]["qualifying_share_percent"] == "50.0"
    assert rows["2016-04"]["qualifying_share_change_points"] == "-50.0"
    assert rows["2016-07"]["qualifying_children_change"] == "-3"
    assert rows["2016-07"]["other_children_change"] == "3"
    assert rows["2016-06"]["qualifying_share_percent"] == ""


def test_a_range_of_years_gives_the_same_months(db, pilot):
    """Over 62 months the months are counted in pieces (one bitmask of months each)."""
    long = build_trend(db, "lichfield", Period.between_months("2011-01", "2016-07"))
    assert len(long.months) == 67
    assert long.months[-4:] == build_trend(db, "lichfield", PILOT).months
    march = long.months[-5]
    assert (march.month, march.first_visits, march.other_children) == ("2016-03", 1, 1)


def test_the_county_adds_up_every_organisation(db, pilot):
    county = build_trend(db, None, PILOT)
    assert county.months == build_trend(db, "lichfield", PILOT).months


def test_a_baseline_outside_the_range_is_refused(db, pilot):
    with pytest.raises(CentralError, match="--baseline 2016-09 is not one of the months shown"):
        build_trend(db, "lichfield", PILOT, "2016-09")


def test_the_chart_and_the_pdf(db, pilot, capsys, db_url, tmp_path):
    chart = trend_chart(build_trend(db, "lichfield", PILOT))
    assert "Baseline Apr 2016: 4 children, 2 qualifying (50.0%)" in chart.alt
    assert "Jul 2016: 3 children, 0 qualifying (0.0%, -50.0 pts on the baseline)" in chart.alt
    assert chart.png().startswith(b"\x89PNG")
    out = tmp_path / "trend.pdf"
    code = main(
        ["--db", db_url, "report", "trend", "--county", "--from", "2016-04", "--to", "2016-07",
         "--format", "pdf", "--out", str(out)]
    )  # fmt: skip
    assert code == 0 and out.read_bytes().startswith(b"%PDF")


def test_an_empty_range_draws_words_not_axes(db, kiosk):
    chart = trend_chart(build_trend(db, "lichfield", PILOT))
    assert chart.alt == "No children came in 1 April 2016 to 31 July 2016."
    [ax] = [a for a in chart.figure.axes]
    assert not ax.axison
