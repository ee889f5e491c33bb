"""``kiosk-central population import``: the ONS layouts (CSV and XLSX) and the plain one,
versioned, every bad line by number, nothing changed on error."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from central.cli import main
from central.db import CentralDB
from central.geography.population import (
    PopulationError,
    children_in,
    population_history,
    read_population,
)
from tests.geography.helpers import (
    ONS_HEADER,
    people_with,
    write_ons_csv,
    write_ons_xlsx,
    write_plain_csv,
)
from tests.schema_history import rewind

PEOPLE = {"E01029700": people_with(12), "E01029701": people_with(18, older=3)}


def central(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_ons_csv_adds_females_and_males_by_single_year(tmp_path):
    read = read_population(write_ons_csv(tmp_path / "sape.csv", PEOPLE))
    assert read.layout == "ons-by-sex" and read.vintage == 2021
    assert read.counts["E01029700"][:6] == (4, 2, 2, 2, 2, 5)
    assert read.people == 12 + 5 * 86 + 18 + 3 * 86


def test_the_ons_workbook_reads_the_same_as_its_csv(tmp_path):
    """Title rows above the header and a Contents sheet first, as the ONS publishes it."""
    from_csv = read_population(write_ons_csv(tmp_path / "sape.csv", PEOPLE))
    from_xlsx = read_population(write_ons_xlsx(tmp_path / "sape.xlsx", PEOPLE))
    assert from_xlsx.counts == from_csv.counts
    assert from_xlsx.sheet == "Mid-2022 LSOA 2021" and from_xlsx.layout == "ons-by-sex"


def test_a_workbook_sheet_can_be_named_and_a_wrong_name_is_listed(tmp_path):
    path = write_ons_xlsx(tmp_path / "sape.xlsx", PEOPLE)
    with pytest.raises(
        PopulationError, match="no sheet 'Mid-2023'; its sheets: Contents, Mid-2022"
    ):
        read_population(path, sheet="Mid-2023")
    assert read_population(path, sheet="Mid-2022 LSOA 2021").counts.keys() == PEOPLE.keys()


def test_the_plain_layout_and_ages_it_does_not_give(tmp_path, db):
    path = write_plain_csv(
        tmp_path / "under5.csv",
        [("E01029700", a, 3) for a in range(5)] + [("E01029701", "90+", 7)],
    )
    read = read_population(path)
    assert read.layout == "plain" and read.vintage is None
    assert read.counts["E01029700"][:6] == (3, 3, 3, 3, 3, None)
    assert read.counts["E01029701"][90] == 7


def test_unknown_ages_make_the_population_unknown_not_zero(tmp_path, db, capsys, db_url):
    path = write_plain_csv(tmp_path / "under5.csv", [("E01029700", a, 3) for a in range(5)])
    assert central(capsys, db_url, "population", "import", str(path))[0] == 0
    assert children_in(db, 0, 4)[1] == {"E01029700": 15}
    assert children_in(db, 0, 5)[1] == {"E01029700": None}


def test_every_bad_line_is_reported_by_number_and_nothing_is_saved(tmp_path, capsys, db_url, db):
    good = write_ons_csv(tmp_path / "good.csv", PEOPLE)
    assert central(capsys, db_url, "population", "import", str(good))[0] == 0
    lines = good.read_text().splitlines()
    cells = lines[1].split(",")
    cells[ONS_HEADER.index("F3")] = "x"  # line 2: not a number
    lines[1] = ",".join(cells)
    cells = lines[2].split(",")
    cells[ONS_HEADER.index("Total")] = "1"  # line 3: the total is not the sum
    lines[2] = ",".join(cells)
    lines.append(lines[2].replace(",1,", ",999,", 1))  # line 4: repeated LSOA...
    lines.append("E07000194,Lichfield,E0102,Lichfield 999A," + ",".join(["1"] * 183))  # line 5
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")

    code, out, err = central(capsys, db_url, "population", "import", str(bad))

    assert code == 1 and out == ""
    assert "bad.csv: line 2: LSOA E01029700: age 3: 'x' is not a whole number" in err
    assert "bad.csv: line 3: LSOA E01029701: the total '1' is not the sum of the ages" in err
    assert "bad.csv: line 4: LSOA E01029701 is given twice (first on line 3)" in err
    assert "bad.csv: line 5: 'E0102' is not an LSOA code like E01029750" in err
    assert "4 bad line(s); nothing imported" in err
    assert [v.number for v in population_history(db)] == [1]  # unchanged


def test_a_file_without_age_columns_says_what_it_expected(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("LSOA 2021 Code,Total,Females,Males\nE01029700,10,5,5\n")
    with pytest.raises(
        PopulationError, match=r"line 1: no single-year-of-age columns: expected F0"
    ):
        read_population(path)
    path.write_text("code,people\nE01029700,10\n")
    with pytest.raises(PopulationError, match="no LSOA code column"):
        read_population(path)
    path.write_text("lsoa,age,count\n")
    with pytest.raises(PopulationError, match="no LSOA rows after the header"):
        read_population(path)


def test_versions_history_and_dry_run(tmp_path, capsys, db_url, db):
    path = write_ons_csv(tmp_path / "sape.csv", PEOPLE)
    code, out, _ = central(capsys, db_url, "population", "import", str(path), "--dry-run")
    assert code == 0 and "dry run: the population is unchanged" in out
    assert population_history(db) == []
    assert "version: 1" in central(capsys, db_url, "population", "import", str(path))[1]
    code, out, _ = central(capsys, db_url, "population", "import", str(path))
    assert "version: 2" in out and "note: the same file as the current version" in out
    code, out, _ = central(capsys, db_url, "population", "history")
    assert out.count("sape.csv\tons-by-sex\t2021 LSOAs\t2 LSOAs") == 2
    assert out.startswith("v1\t")


def test_migration_12_gives_an_older_database_the_geography_tables(db_url):
    db = CentralDB.open(db_url)
    names = ("postcode_areas", "lsoa_areas", "area_imports", "population_estimates")
    names += ("population_versions", "lsoa_boundaries")
    rewind(db, 11)  # back to what a version 11 server made
    with db.engine.connect() as conn:
        assert not set(names) & set(inspect(conn).get_table_names())
    assert db.migrate() == ("0011", "0012")
    assert db.migrate() == ("0012", "0012")  # safe to run again
    with db.engine.connect() as conn:
        assert set(names) <= set(inspect(conn).get_table_names())
    db.close()


def test_an_unreadable_file_is_one_line(tmp_path: Path, capsys, db_url):
    code, _out, err = central(capsys, db_url, "population", "import", str(tmp_path / "no.csv"))
    assert code == 1 and "cannot read" in err and "no.csv" in err
