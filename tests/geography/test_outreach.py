"""``report outreach``: the risk-area LSOAs ranked by children of the ages not
yet reached, with their postcodes, for a leaflet drop; never names.

In the county (tests/geography/county.py) lichfield's risk list is the one ``risk import-lsoa
--most-deprived 30%`` built: the live postcodes of E01029700, E01029701 and E01029800.
Children aged 0-4 not yet reached, by hand (population less reached):

    lichfield alone: E01029800 30 - 0 = 30, E01029701 18 - 2 = 16, E01029700 12 - 3 = 9
    the county:      E01029800 30 - 2 = 28, E01029701 18 - 3 = 15, E01029700 12 - 3 = 9
"""

from __future__ import annotations

import csv
import io

from central.reports.area_reach import AgeBand
from central.reports.outreach import build_outreach
from tests.geography.county import C1, C2, L1, L2, YEAR, central


def test_lichfield_risk_areas_ranked_by_children_not_yet_reached(db, county):
    plan = build_outreach(db, "lichfield", YEAR, AgeBand(0, 4))
    assert plan.chosen_by == "LSOAs with a postcode on the current risk list"
    assert [(a.rank, a.lsoa, a.population, a.reached, a.not_reached) for a in plan.areas] == [
        (1, C1, 30, 0, 30),
        (2, L2, 18, 2, 16),
        (3, L1, 12, 3, 9),
    ]
    assert [a.postcodes for a in plan.areas] == [
        ("WS11 1AA",),
        ("WS13 7AA", "WS13 7AB"),
        ("WS13 6AA", "WS13 6AB"),
    ]


def test_the_county_counts_every_organisations_children(db, county):
    plan = build_outreach(db, None, YEAR, AgeBand(0, 4), top=2)
    assert [(a.lsoa, a.not_reached) for a in plan.areas] == [(C1, 28), (L2, 15)]


def test_a_sector_on_the_list_brings_its_lsoa_and_postcodes(db, county, db_url, capsys):
    sectors = county / "cannock-list.csv"
    sectors.write_text("WS11 2\n")
    assert central(capsys, db_url, "risk", "import", "cannock", str(sectors))[0] == 0
    plan = build_outreach(db, "cannock", YEAR, AgeBand(0, 4))
    assert [(a.lsoa, a.reached, a.not_reached, a.postcodes) for a in plan.areas] == [
        (C2, 5, 15, ("WS11 2AA", "WS11 2AB")),
    ]
    deprived = build_outreach(db, "cannock", YEAR, AgeBand(0, 4), areas="deprived")
    assert [a.lsoa for a in deprived.areas] == [C1, L2, L1]


def test_the_csv_and_text_name_no_family(db, county, db_url, capsys):
    code, out, err = central(
        capsys, db_url, "report", "outreach", "--county", "--from", "2016-04", "--to", "2017-03",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    ranked = [(r["rank"], r["lsoa"], r["not_yet_reached"]) for r in rows if r["section"] == "lsoa"]
    assert ranked == [("1", C1, "28"), ("2", L2, "15"), ("3", L1, "9")]
    postcodes = [r["postcode"] for r in rows if r["section"] == "postcode"]
    assert postcodes == ["WS11 1AA", "WS13 7AA", "WS13 7AB", "WS13 6AA", "WS13 6AB"]
    code, text, _ = central(
        capsys, db_url, "report", "outreach", "--org", "lichfield", "--from", "2016-04",
        "--to", "2017-03",
    )  # fmt: skip
    assert code == 0 and "1. E01029800: WS11 1AA" in text
    for words in (out, text):
        assert "F-" not in words and "C-" not in words
        for name in ("Amy", "Bea", "Mia", "Jo", "Kim"):
            assert name not in words
