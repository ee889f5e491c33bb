"""The county scenario: reach against the population, worked out by hand.

Staffordshire (E10000028), two districts, five 2021 LSOAs, the postcode directory in the
ONSPD layout and the IMD 2025 File 1, imported with ``kiosk-central risk import-lsoa
--county``; the ONS population estimates (``LSOA 2021 Code``, ``Total``, ``F0``..``M90``)
imported with ``kiosk-central population import``; two organisations whose families registered
and came through the real kiosk and ingest path.

The LSOAs (IMD 2025 ranks of 33,755; 30% is ranks 1 to 10,126, deciles 1-3):

    code       district       ward        rank    decile  children 0-4
    E01029700  Lichfield      E05010001    2,000  1       12
    E01029701  Lichfield      E05010001    9,000  3       18
    E01029702  Lichfield      E05010002   25,000  8       40
    E01029800  Cannock Chase  E05009900    5,000  2       30
    E01029801  Cannock Chase  E05009900   30,000  9       20

Children aged 0-4 who came between April 2016 and March 2017 (each once, where they live):

    E01029700: Mia, Leo (Amy's), Ava (Bea's: 4 in June, 5 in September)           3
    E01029701: Noah (Cat's; his sister Isla was already 5), Ella (Dee's),
               Max's boy (Max comes to Cannock's centre)                            3
    E01029702: Eve's three, Fay's girl (a terminated postcode), Ned's boy            5
    E01029800: Jo's two                                                             2
    E01029801: Kim's three, Lu's two                                                5

By hand: 3/12 = 25.0%, 3/18 = 16.7%, 5/40 = 12.5%, 2/30 = 6.7%, 5/20 = 25.0%; the 0-30% most
deprived (the first, second and fourth): 8 of 60 = 13.3%; everywhere else 10 of 60 = 16.7%;
all 18 of 120 = 15.0%. Districts: Lichfield 11 of 70 = 15.7%, Cannock Chase 7 of 50 = 14.0%.
Counted apart: Gus's girl (B1 1AA, outside the directory's county), Hal's baby (no birth month).
Not counted at all: Ian's girl (came in March 2016 only), Bea's Sam (7).
"""

from __future__ import annotations

import csv
import io

from central.reports.area_reach import AgeBand, build_area_reach
from central.reports.period import Period
from tests.geography.county import C1, C2, L1, L2, L3, W1, W2, W3, YEAR, central
from tests.reports.helpers import Kiosk


def test_county_reach_by_lsoa_as_worked_out_by_hand(db, county):
    report = build_area_reach(db, None, YEAR, AgeBand(0, 4), "lsoa")

    by_code = {r.code: (r.imd_decile, r.population, r.reached, r.reach_text) for r in report.rows}
    assert by_code == {
        L1: (1, 12, 3, "25.0%"),
        L2: (3, 18, 3, "16.7%"),
        L3: (8, 40, 5, "12.5%"),
        C1: (2, 30, 2, "6.7%"),
        C2: (9, 20, 5, "25.0%"),
    }
    assert (report.deprived.reached, report.deprived.population) == (8, 60)
    assert report.deprived.reach_text == "13.3%"
    assert (report.elsewhere.reached, report.elsewhere.population) == (10, 60)
    assert report.elsewhere.reach_text == "16.7%"
    assert report.total.reach_text == "15.0%"
    apart = {a.reason: (a.children, a.families) for a in report.apart}
    assert apart == {
        "postcode with no LSOA in the postcode directory": (1, 1),
        "LSOA without a population figure": (0, 0),
        "no birth month recorded (age unknown)": (1, 1),
    }
    assert report.notes == []


def test_county_reach_by_district_and_ward(db, county):
    districts = build_area_reach(db, None, YEAR, AgeBand(0, 4), "district")
    assert [(r.code, r.name, r.deprived_lsoas, r.lsoas, r.population, r.reached, r.reach_text)
            for r in districts.rows] == [
        ("E07000192", "Cannock Chase", 1, 2, 50, 7, "14.0%"),
        ("E07000194", "Lichfield", 2, 3, 70, 11, "15.7%"),
    ]  # fmt: skip
    wards = build_area_reach(db, None, YEAR, AgeBand(0, 4), "ward")
    assert [(r.code, r.population, r.reached, r.reach_text) for r in wards.rows] == [
        (W3, 50, 7, "14.0%"),
        (W1, 30, 6, "20.0%"),
        (W2, 40, 5, "12.5%"),
    ]
    # The headline does not depend on how the areas are grouped.
    assert districts.deprived == wards.deprived


def test_one_organisation_counts_only_its_own_children(db, county):
    report = build_area_reach(db, "lichfield", YEAR, AgeBand(0, 4), "lsoa")
    assert {r.code: (r.reached, r.reach_text) for r in report.rows} == {
        L1: (3, "25.0%"),
        L2: (2, "11.1%"),
        L3: (4, "10.0%"),
        C1: (0, "0.0%"),
        C2: (0, "0.0%"),
    }
    assert report.deprived.reach_text == "8.3%"  # 5 of 60
    assert report.elsewhere.reach_text == "6.7%"  # 4 of 60


def test_another_age_band_counts_other_children(db, county):
    """Ages 2-3: Mia (2), Leo (3), Ava no (4-5), Noah no (1), Ella no, Sol (2)..."""
    report = build_area_reach(db, None, YEAR, AgeBand(2, 3), "lsoa")
    # E01029700: Mia born 2014-03 is 2 in June; Leo born 2013-01 is 3; Ava is 4 then 5: 2.
    assert {r.code: r.reached for r in report.rows}[L1] == 2
    # Population 2-3: people_with spreads 12 as 2 per age plus 2 at age 0: ages 2 and 3 -> 4.
    assert {r.code: r.population for r in report.rows}[L1] == 4


def test_the_command_line_csv_has_the_figures_as_numbers(capsys, db_url, county):
    code, out, err = central(
        capsys, db_url, "report", "reach", "--county", "--from", "2016-04", "--to", "2017-03",
        "--by", "district", "--ages", "0-4", "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    areas = {r["code"]: r for r in rows if r["section"] == "area"}
    assert areas["E07000194"]["reach_percent"] == "15.7"
    assert areas["E07000194"]["child_population"] == "70"
    headline = {r["name"]: r for r in rows if r["section"] == "headline"}
    assert headline["0-30% most deprived LSOAs"]["reach_percent"] == "13.3"
    assert headline["everywhere else"]["children_reached"] == "10"
    apart = {r["name"]: r["children_reached"] for r in rows if r["section"] == "counted_apart"}
    assert apart["postcode with no LSOA in the postcode directory"] == "1"
    assert "0-30% most deprived LSOAs: 8 of 60 children aged 0-4 reached (13.3%" in err


def test_pdf_and_html_forms(capsys, db_url, county, tmp_path):
    pdf = tmp_path / "reach.pdf"
    code, _out, err = central(
        capsys, db_url, "report", "reach", "--county", "--from", "2016-04", "--to", "2017-03",
        "--by", "lsoa", "--format", "pdf", "--out", str(pdf),
    )  # fmt: skip
    assert code == 0, err and pdf.read_bytes().startswith(b"%PDF")
    code, out, err = central(
        capsys, db_url, "report", "reach", "--org", "lichfield", "--from", "2016-04",
        "--to", "2017-03", "--by", "lsoa", "--format", "html",
    )  # fmt: skip
    assert code == 0, err
    assert "25.0%" in out and "E01029700" in out and "0-30% most deprived LSOAs" in out


def test_without_imports_the_report_says_what_to_import(db, tmp_path):
    Kiosk(db, org="lichfield", site="library", device="lich-1")
    report = build_area_reach(db, None, YEAR, AgeBand(0, 4), "lsoa")
    assert report.rows == []
    assert any("risk import-lsoa" in n for n in report.notes)
    assert any("population import" in n for n in report.notes)


def test_a_range_of_years_counts_the_same_way(db, county):
    """Over 62 months each attendance's age is worked out on its own row, not by bitmask: the
    same children, plus Ian's Jen (2 in March 2016, before the year)."""
    long = build_area_reach(db, None, Period.between_months("2011-01", "2017-03"), AgeBand(0, 4))
    year = build_area_reach(db, None, YEAR, AgeBand(0, 4))
    assert {r.code: r.reached for r in long.rows} == {
        **{r.code: r.reached for r in year.rows},
        L3: 6,
    }
    assert long.apart == year.apart
