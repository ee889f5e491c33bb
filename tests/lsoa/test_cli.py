"""``kiosk-admin risk import-lsoa`` end to end, through ``kiosk.admin.main``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kiosk.admin import main
from tests.lsoa.helpers import CANNOCK, Lsoa, Pc, write_imd, write_onspd

ROWS = [
    Pc("WV8 1AA", "E01029600", imd=5),
    Pc("WV8 1AB", "E01029600", imd=5, doterm="202203"),
    Pc("WV8 2AA", "E01029601", imd=9_000),
    Pc("WV8 3AA", "E01029602", imd=20_000),
    Pc("WS11 1AA", "E01029300", imd=40, lad=CANNOCK),
]
LSOAS = [
    Lsoa("E01029600", 5),
    Lsoa("E01029601", 9_000),
    Lsoa("E01029602", 20_000),
    Lsoa("E01029300", 40, lad=CANNOCK, lad_name="Cannock Chase"),
]


class Run:
    def __init__(self, data: Path) -> None:
        self.data = data

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--data", str(self.data), *argv], out=out, err=err)
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path / "kiosk")


@pytest.fixture
def onspd(tmp_path: Path) -> str:
    return str(write_onspd(tmp_path / "ONSPD_FEB_2023_UK.csv", ROWS))


@pytest.fixture
def imd(tmp_path: Path) -> str:
    return str(write_imd(tmp_path / "File_1_IoD2019.csv", LSOAS))


def fields(out: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def test_import_prints_rule_counts_and_the_new_version(run, onspd, imd):
    code, out, err = run(
        "risk", "import-lsoa", "--postcodes", onspd, "--imd", imd, "--most-deprived", "30%"
    )
    assert code == 0, err
    got = fields(out)
    assert got["rule"] == "IMD 2019 rank <= 30% (9,853 LSOAs)"
    assert (got["rows"], got["lsoas"], got["postcodes"]) == ("5", "3", "3")
    assert got["terminated"] == "1" and got["terminated e.g."] == "WV8 1AB"
    assert (got["added"], got["removed"], got["unchanged"]) == ("3", "0", "0")
    assert got["version"].startswith("v1-")
    assert "source: postcodes ONSPD_FEB_2023_UK.csv 2023-02 (5 rows," in out
    assert "source: imd File_1_IoD2019.csv " in out
    assert err == ""  # no progress bar: stderr is not a terminal


def test_imported_postcodes_are_checked_like_any_risk_entry(run, onspd, imd):
    run("risk", "import-lsoa", "--postcodes", onspd, "--imd", imd, "--deciles", "1-3")
    _, out, _ = run("risk", "check", "wv8 2aa")
    assert "WV8 2AA: in the risk list (matched by postcode)" in out
    _, out, _ = run("risk", "check", "WV8 3AA")
    assert "not in the risk list" in out


def test_dry_run_shows_the_counts_and_changes_nothing(run, onspd):
    code, out, _ = run(
        "risk", "import-lsoa", "--postcodes", onspd, "--most-deprived", "30%", "--dry-run"
    )
    assert code == 0
    assert fields(out)["added"] == "3" and "dry run: the risk list is unchanged" in out
    _, out, _ = run("risk", "history")
    assert out == ""


def test_history_shows_each_versions_rule_and_source_hashes(run, onspd, imd, tmp_path):
    manual = tmp_path / "council.txt"
    manual.write_text("WS7 1AA\n")
    run("risk", "import", str(manual))
    run(
        "risk",
        "import-lsoa",
        "--postcodes",
        onspd,
        "--imd",
        imd,
        "--most-deprived",
        "30%",
        "--local-authority",
        "South Staffordshire",
        "--allow-shrink",  # WS7 1AA, the whole of the list, is replaced
    )
    code, out, _ = run("risk", "history")
    assert code == 0
    manual_line, lsoa_line = out.splitlines()
    assert manual_line.split("\t")[-1] == "council.txt"  # older lines are unchanged
    parts = lsoa_line.split("\t")
    assert parts[0].startswith("v2-") and parts[2] == "2 entries"
    assert parts[4] == "ONSPD_FEB_2023_UK.csv + File_1_IoD2019.csv"
    assert parts[5] == (
        "rule: IMD 2019 rank <= 30% (9,853 LSOAs); LAD E07000196 (South Staffordshire)"
    )
    assert parts[6].startswith("postcodes: ONSPD_FEB_2023_UK.csv 2023-02 sha256:")
    assert parts[7].startswith("imd: File_1_IoD2019.csv ")


def test_verbose_lists_every_terminated_postcode(run, onspd):
    code, out, _ = run(
        "risk", "import-lsoa", "--postcodes", onspd, "--most-deprived", "30%", "--verbose"
    )
    assert code == 0
    assert "terminated postcode: WV8 1AB" in out.splitlines()


def test_progress_bar_goes_to_stderr_when_asked(run, onspd):
    code, out, err = run(
        "risk", "import-lsoa", "--postcodes", onspd, "--most-deprived", "30%", "--progress"
    )
    assert code == 0
    assert "ONSPD_FEB_2023_UK.csv [" in err and "100%" in err
    assert "[" not in out.split("rule:")[0]  # stdout keeps its key: value lines


def test_several_authorities_and_a_county_on_the_command_line(run, onspd):
    code, out, _ = run(
        "risk",
        "import-lsoa",
        "--postcodes",
        onspd,
        "--most-deprived",
        "30%",
        "--local-authority",
        "E07000196",
        "--local-authority",
        CANNOCK,
        "--county",
        "E10000028",
    )
    assert code == 0
    assert fields(out)["rule"].endswith("; LAD E07000196, E07000192; county E10000028")


def test_missing_column_is_one_line_on_stderr_with_status_1(run, imd):
    code, out, err = run("risk", "import-lsoa", "--postcodes", imd, "--most-deprived", "30%")
    assert code == 1 and out == ""
    assert err.startswith("kiosk-admin: File_1_IoD2019.csv: no postcode column: expected one of")
    assert "found 'LSOA code (2011)'" in err


def test_mixed_vintages_are_refused_and_nothing_is_saved(run, imd, tmp_path):
    newer = write_onspd(tmp_path / "ONSPD_MAY_2025_UK.csv", ROWS, "2025")
    code, _, err = run(
        "risk", "import-lsoa", "--postcodes", str(newer), "--imd", imd, "--most-deprived", "30%"
    )
    assert code == 1 and "has 2021 LSOA codes" in err
    assert run("risk", "history")[1] == ""


def test_bad_lines_are_listed_by_number_and_nothing_is_saved(run, tmp_path):
    bad = write_onspd(
        tmp_path / "onspd.csv",
        [Pc("WV8 1AA", "E01029600", imd=5), Pc("WV8 1AC", "E01029600", imd=5)],
    )
    code, out, err = run("risk", "import-lsoa", "--postcodes", str(bad), "--most-deprived", "30%")
    assert code == 1 and out == ""
    assert "onspd.csv: line 3: 'WV8 1AC' is not a UK postcode" in err
    assert "1 invalid line(s); the risk list is unchanged" in err
    code, out, err = run(
        "risk", "import-lsoa", "--postcodes", str(bad), "--most-deprived", "30%", "--skip-invalid"
    )
    assert code == 0 and fields(out)["skipped"] == "1" and "line 3" in err


def test_a_rule_is_required_and_only_one(run, onspd):
    with pytest.raises(SystemExit) as caught:
        run("risk", "import-lsoa", "--postcodes", onspd)
    assert caught.value.code == 2
    with pytest.raises(SystemExit):
        run("risk", "import-lsoa", "--postcodes", onspd, "--most-deprived", "30%", "--deciles", "1")
