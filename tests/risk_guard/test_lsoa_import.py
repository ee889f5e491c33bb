"""``risk import-lsoa`` (kiosk and server) refuses cut, partial or mistyped input
instead of saving a short or empty list that every kiosk then pulls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.lsoa.helpers import CANNOCK, Lsoa, Pc, write_imd, write_onspd

#: Three LSOAs in the most deprived 30% (ranks 1-9,853) and one outside it.
LSOAS = [
    Lsoa("E01029600", 5),
    Lsoa("E01029601", 120),
    Lsoa("E01029602", 9_000),
    Lsoa("E01029603", 20_000),
]
ROWS = [
    Pc("WV8 1AA", "E01029600", imd=5),
    Pc("WV8 1AB", "E01029600", imd=5),
    Pc("WV8 1AD", "E01029600", imd=5, doterm="202001"),
    Pc("WV8 2AA", "E01029601", imd=120),
    Pc("WV8 2AB", "E01029601", imd=120),
    Pc("WV8 3AA", "E01029602", imd=9_000),
    Pc("WV8 4AA", "E01029603", imd=20_000),
    Pc("CF10 1AA", "W01001000", imd=3, lad="W06000015", county="W99999999", ctry="W92000004"),
]


@pytest.fixture
def onspd(tmp_path: Path) -> Path:
    return write_onspd(tmp_path / "ONSPD_FEB_2023_UK.csv", ROWS)


@pytest.fixture
def imd(tmp_path: Path) -> Path:
    return write_imd(tmp_path / "File_1_IoD2019.csv", LSOAS)


def lsoa(cli, postcodes: Path, imd: Path | None = None, *more: str, share: str = "30%"):
    args = ["--postcodes", str(postcodes), "--most-deprived", share, *more]
    if imd is not None:
        args += ["--imd", str(imd)]
    return cli.risk("import-lsoa", *args)


def test_the_good_files_import(cli, onspd, imd):
    done = lsoa(cli, onspd, imd)
    assert done.code == 0, done.err
    assert done.fields()["postcodes"] == "5" and done.fields()["version"].startswith("v1-")


# == a file cut short =============================================================================


def test_a_directory_cut_inside_a_quoted_field_is_refused(cli, onspd, imd):
    assert lsoa(cli, onspd, imd).code == 0
    data = onspd.read_bytes()
    cut = onspd.with_name("ONSPD_FEB_2023_UK_cut.csv")
    # Cut inside the last row's "lat" field: every column the import reads is still there.
    cut.write_bytes(data[: data.rindex(b'"52.65') + 4])
    done = lsoa(cli, cut, imd)
    assert done.code == 1
    assert f"{cut.name}: line {len(ROWS) + 1}: the file ends in the middle of a row" in done.err
    assert "cut short" in done.err and "version:" not in done.out
    assert len(cli.versions()) == 1


def test_an_imd_file_cut_inside_its_last_row_is_refused(cli, onspd, imd):
    data = imd.read_bytes()
    imd.write_bytes(data[:-5])  # the last row's decile and line end are gone
    done = lsoa(cli, onspd, imd)
    assert done.code == 1
    assert f"{imd.name}: line {len(LSOAS) + 1}: the file ends in the middle of a row" in done.err
    assert cli.versions() == []


@pytest.mark.parametrize("rows", [20_000, 32_000])
def test_an_imd_file_cut_at_a_row_boundary_is_refused_naming_what_it_does_not_rank(
    cli, tmp_path, rows
):
    # IoD2019 cut after 20,000 (or 32,000: nearly all) of its 32,844 rows, ranked here in code
    # order, so the LSOAs after the cut are the less deprived ones and the deprived one survives.
    imd = write_imd(
        tmp_path / "File_1_IoD2019.csv", (Lsoa(f"E01{n:06d}", n) for n in range(1, rows + 1))
    )
    onspd = write_onspd(
        tmp_path / "ONSPD_FEB_2023_UK.csv",
        [
            Pc("WV8 1AA", "E01000005"),
            Pc("WV8 2AA", "E01032100"),
            Pc("WV8 2AB", "E01032100"),
            Pc("WV8 3AA", "E01032500"),
            Pc("WV8 9ZZ", "E01031000", doterm="201001"),  # terminated: its LSOA does not matter
        ],
    )
    done = lsoa(cli, onspd, imd)
    assert done.code == 1
    assert (
        "File_1_IoD2019.csv does not rank the LSOAs of 3 live English postcode(s) of "
        "ONSPD_FEB_2023_UK.csv (2 LSOA(s), e.g. E01032100, E01032500; first at line 3)"
    ) in done.err
    assert f"it lists {rows:,} of England's 32,844 LSOAs" in done.err
    assert cli.versions() == []


def test_an_imd_file_cut_down_to_an_area_is_fine_for_that_area(cli, tmp_path, imd):
    onspd = write_onspd(
        tmp_path / "ONSPD_FEB_2023_UK.csv",
        [*ROWS, Pc("WS11 1AA", "E01029300", imd=40, lad=CANNOCK)],  # Cannock: not in the file
    )
    assert lsoa(cli, onspd, imd).code == 1
    done = lsoa(cli, onspd, imd, "--local-authority", "E07000196")
    assert done.code == 0, done.err
    assert done.fields()["postcodes"] == "5"


@pytest.mark.parametrize("which", ["postcodes", "imd"])
def test_a_header_only_file_is_refused(cli, onspd, imd, which):
    path = onspd if which == "postcodes" else imd
    header = path.read_bytes().split(b"\r\n")[0] + b"\r\n"
    path.write_bytes(header)
    done = lsoa(cli, onspd, imd)
    assert done.code == 1
    assert f"{path.name}: no rows after the header (line 1)" in done.err
    assert cli.versions() == []


def test_a_non_utf8_byte_is_reported_at_its_line(cli, tmp_path, imd):
    rows = [Pc(f"WV8 {n % 9 + 1}{'ABDEFGHJLNP'[n // 9]}A", "E01029600") for n in range(99)]
    onspd = write_onspd(tmp_path / "ONSPD_FEB_2023_UK.csv", rows)
    with open(onspd, "ab") as f:
        f.write('"WV8 9ZZ","Ynys M\xf4n"\r\n'.encode("cp1252"))
    done = lsoa(cli, onspd, imd)
    assert done.code == 1
    assert "ONSPD_FEB_2023_UK.csv: line 101: the file is not UTF-8 text (byte 0xf4" in done.err


# == the rule ====================================================================================


def test_a_share_that_selects_no_lsoa_is_an_empty_list_and_refused(cli, onspd, imd):
    done = lsoa(cli, onspd, imd, share="0.001%")
    assert done.code == 1
    assert "the new risk list would be empty (IMD 2019 rank <= 0.001% (0 LSOAs)" in done.err
    assert "--allow-empty" in done.err and cli.versions() == []
    done = lsoa(cli, onspd, imd, "--allow-empty", share="0.001%")
    assert done.code == 0, done.err
    assert cli.entries() == 0


@pytest.mark.parametrize("share", ["1e1", "1/3", "ten", "-5", "+10", "0x10", "1_0", "\u0663\u0660"])
def test_a_share_must_be_a_plain_decimal(cli, onspd, imd, share):
    done = lsoa(cli, onspd, imd, share=share)
    assert done.code == 1
    assert f"--most-deprived {share!r} must be a plain percentage like 30, 30% or 2.5%" in (
        done.err
    )
    assert cli.versions() == []


@pytest.mark.parametrize(
    ("share", "rule"),
    [("30", "30% (9,853"), ("30%", "30% (9,853"), ("2.5%", "2.5% (821"), ("0.5", "0.5% (164")],
)
def test_plain_decimals_are_shares(cli, onspd, imd, share, rule):
    done = lsoa(cli, onspd, imd, "--dry-run", "--allow-empty", share=share)
    assert done.code == 0, done.err
    assert done.fields()["rule"] == f"IMD 2019 rank <= {rule} LSOAs)"


def test_an_import_that_removes_most_of_the_list_is_refused(cli, onspd, imd):
    assert lsoa(cli, onspd, imd).code == 0  # 5 postcodes
    done = lsoa(cli, onspd, imd, share="0.1%")  # 2 of them (rank <= 32)
    assert done.code == 1
    assert "would remove 3 of the 5 entries (60%)" in done.err and "--allow-shrink" in done.err
    assert lsoa(cli, onspd, imd, "--allow-shrink", share="0.1%").code == 0
    assert len(cli.versions()) == 2


# == what is counted where ========================================================================


@pytest.mark.parametrize("with_imd", [True, False], ids=["imd-file", "directory-ranks"])
def test_a_blank_lsoa_is_counted_as_no_lsoa_not_outside_england(cli, tmp_path, imd, with_imd):
    onspd = write_onspd(
        tmp_path / "ONSPD_MAY_2025_UK.csv",
        [
            Pc("WV8 1AA", "E01035001", imd=5),
            Pc("WV8 1AB", "", imd=""),
            Pc("CF10 1AA", "W01001000", imd=3, ctry="W92000004"),
        ],
        "2025",
    )
    imd25 = write_imd(tmp_path / "File_1_IoD2025.csv", [Lsoa("E01035001", 5, lsoas=33_755)], "2025")
    done = lsoa(cli, onspd, imd25 if with_imd else None)
    assert done.code == 0, done.err
    got = done.fields()
    assert got["no lsoa"] == "1" and got["outside england"] == "1"
    assert got["postcodes"] == "1"


def test_the_imd_files_date_is_its_edition_not_its_modification_time(cli, onspd, tmp_path):
    plain = write_imd(tmp_path / "imd.csv", LSOAS)
    os.utime(plain, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    done = lsoa(cli, onspd, plain)
    assert done.code == 0, done.err
    assert "source: imd imd.csv 2019 (" in done.out and "2023-11-14" not in done.out


def test_the_imd_files_date_can_be_given(cli, onspd, tmp_path):
    plain = write_imd(tmp_path / "imd.csv", LSOAS)
    done = lsoa(cli, onspd, plain, "--imd-date", "2019-09-26")
    assert done.code == 0, done.err
    assert "source: imd imd.csv 2019-09-26 (" in done.out
    history = cli.run("risk", "history", *([cli.org] if cli.name == "kiosk-central" else []))
    assert "imd: imd.csv 2019-09-26 sha256:" in history.out
    done = lsoa(cli, onspd, plain, "--imd-date", "last autumn")
    assert done.code == 1 and "--imd-date 'last autumn' must be a date like 2019-09-26" in done.err


def test_the_imd_files_date_comes_from_its_name(cli, onspd, tmp_path):
    named = write_imd(tmp_path / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", LSOAS)
    done = lsoa(cli, onspd, named)
    assert "source: imd File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv 2019 (" in done.out
