"""Building the risk list from the published files: selection, vintages, filters, bad input."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from kiosk.domain.lsoa import (
    SAMPLE_SIZE,
    LsoaDataError,
    LsoaError,
    MissingColumnError,
    VintageMismatchError,
)
from kiosk.lsoa_import import ProgressBar, build_lsoa_risk_areas, date_of_file, terminal_progress
from tests.lsoa.helpers import (
    CANNOCK,
    SOUTH_STAFFS,
    STAFFORDSHIRE,
    Lsoa,
    Pc,
    complete_imd,
    write_imd,
    write_onspd,
)

#: Three South Staffordshire LSOAs around the 30% line (rank 9,853), one in Cannock Chase.
LSOAS = [
    Lsoa("E01029600", 120),
    Lsoa("E01029601", 9_853),
    Lsoa("E01029602", 9_854),
    Lsoa("E01029300", 40, lad=CANNOCK, lad_name="Cannock Chase"),
]
POSTCODES = [
    Pc("WV8 1AA", "E01029600", imd=120),
    Pc("WV8 1AB", "E01029600", imd=120, doterm="201903"),
    Pc("WV8 2AA", "E01029601", imd=9_853),
    Pc("WV8 3AA", "E01029602", imd=9_854),
    Pc("WS11 1AA", "E01029300", imd=40, lad=CANNOCK),
    Pc("CF10 1AA", "W01001000", imd=3, lad="W06000015", county="W99999999", ctry="W92000004"),
    Pc("EH1 1AA", "S01008677", imd=7, lad="S12000036", county="S99999999", ctry="S92000003"),
]


def postcodes_of(result) -> set[str]:
    return set(result.postcodes.postcodes)


@pytest.fixture
def onspd(tmp_path: Path) -> Path:
    return write_onspd(tmp_path / "ONSPD_FEB_2023_UK.csv", POSTCODES)


@pytest.fixture
def imd(tmp_path: Path) -> Path:
    return write_imd(tmp_path / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv", LSOAS)


# == selection ===================================================================================


def test_directory_alone_takes_live_english_postcodes_ranked_in_the_most_deprived_30pc(onspd):
    result = build_lsoa_risk_areas(onspd, most_deprived="30%")
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA", "WS11 1AA"}
    assert result.rule == "IMD 2019 rank <= 30% (9,853 LSOAs)"
    assert result.postcodes.lsoas == 3
    assert result.postcodes.rows == len(POSTCODES)


def test_welsh_and_scottish_ranks_are_never_read_as_english_ranks(onspd):
    result = build_lsoa_risk_areas(onspd, most_deprived="30%")
    assert "CF10 1AA" not in postcodes_of(result) and "EH1 1AA" not in postcodes_of(result)
    assert result.postcodes.outside_england == 2


def test_deciles_1_to_3_select_what_30_percent_selects(onspd, imd):
    for files in ((onspd,), (onspd, imd)):
        share = build_lsoa_risk_areas(*files, most_deprived="30%")
        deciles = build_lsoa_risk_areas(*files, deciles="1-3")
        assert postcodes_of(share) == postcodes_of(deciles)
    assert deciles.rule == "IMD 2019 deciles 1-3"


def test_imd_file_decides_and_the_directory_places_postcodes(onspd, imd):
    result = build_lsoa_risk_areas(onspd, imd, most_deprived="30%")
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA", "WS11 1AA"}
    assert result.choice is not None and set(result.choice.selected) == {
        "E01029600",
        "E01029601",
        "E01029300",
    }


def test_imd_file_overrides_the_directory_ranks(tmp_path, imd):
    # The directory says rank 99999 (nonsense) for E01029600; the IMD file is the authority.
    onspd = write_onspd(tmp_path / "onspd.csv", [Pc("WV8 1AA", "E01029600", imd=99_999)])
    assert postcodes_of(build_lsoa_risk_areas(onspd, imd, most_deprived="30%")) == {"WV8 1AA"}


def test_file7_layout_with_many_rank_columns_uses_the_imd_rank(tmp_path, onspd):
    imd7 = write_imd(tmp_path / "File_7.csv", LSOAS, "2019-file7")
    result = build_lsoa_risk_areas(onspd, imd7, most_deprived="30%")
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA", "WS11 1AA"}


def test_imd_file_with_deciles_only_takes_whole_decile_shares(tmp_path, onspd):
    path = tmp_path / "deciles.csv"
    path.write_text(
        "lsoa11cd,IMD_decile\r\nE01029600,1\r\nE01029601,3\r\nE01029602,4\r\nE01029300,1\r\n"
    )
    result = build_lsoa_risk_areas(onspd, path, most_deprived="30%")
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA", "WS11 1AA"}
    assert result.rule == "IMD 2019 deciles 1-3"
    with pytest.raises(LsoaError, match="whole deciles"):
        build_lsoa_risk_areas(onspd, path, most_deprived="25%")


def test_iod2025_ranks_2021_lsoas_out_of_33755(tmp_path):
    # 30% of 33,755 is 10,126.5: rank 10,126 is in, 10,127 is not (9,854 would be out in 2019).
    imd = write_imd(
        tmp_path / "File_1_IoD2025.csv",
        [Lsoa("E01035001", 10_126, lsoas=33_755), Lsoa("E01035002", 10_127, lsoas=33_755)],
        "2025",
    )
    onspd = write_onspd(
        tmp_path / "ONSPD_MAY_2025_UK.csv",
        [Pc("WV8 1AA", "E01035001"), Pc("WV8 2AA", "E01035002")],
        "2025",
    )
    result = build_lsoa_risk_areas(onspd, imd, most_deprived="30%")
    assert postcodes_of(result) == {"WV8 1AA"}
    assert result.rule == "IMD 2025 rank <= 30% (10,126 LSOAs)"


def test_newest_directory_imd25_column_ranks_against_2021_lsoas(tmp_path):
    onspd = write_onspd(
        tmp_path / "NSPL_AUG_2026_UK.csv",
        [Pc("WV8 1AA", "E01035001", imd=10_126), Pc("WV8 2AA", "E01035002", imd=10_127)],
        "2026",
    )
    result = build_lsoa_risk_areas(onspd, most_deprived="30%")
    assert postcodes_of(result) == {"WV8 1AA"}
    assert result.rule.startswith("IMD 2025 ")


def test_2023_directory_with_both_vintages_pairs_each_imd_edition_with_its_column(tmp_path):
    rows = [Pc("WV8 1AA", "E01029600", lsoa21="E01035001")]
    onspd = write_onspd(tmp_path / "ONSPD_FEB_2023_UK.csv", rows, "2023")
    imd19 = write_imd(tmp_path / "imd2019.csv", [Lsoa("E01029600", 1)])
    imd25 = write_imd(tmp_path / "imd2025.csv", [Lsoa("E01035001", 1, lsoas=33_755)], "2025")
    assert postcodes_of(build_lsoa_risk_areas(onspd, imd19, deciles="1")) == {"WV8 1AA"}
    assert postcodes_of(build_lsoa_risk_areas(onspd, imd25, deciles="1")) == {"WV8 1AA"}
    assert build_lsoa_risk_areas(onspd, imd25, deciles="1").postcodes.layout.lsoa_header == (
        "lsoa21"
    )


def test_postcodes_are_normalised_from_any_postcode_column(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text("Postcode,DOTERM,LSOA11CD,IMD\nwv81aa,,E01029600,120\n")
    assert postcodes_of(build_lsoa_risk_areas(path, most_deprived="30%")) == {"WV8 1AA"}


def test_files_without_bom_or_crlf_read_the_same(tmp_path, onspd, imd):
    plain = write_onspd(tmp_path / "plain.csv", POSTCODES, bom=False, eol="\n")
    plain_imd = write_imd(tmp_path / "plain_imd.csv", LSOAS, bom=False, eol="\n")
    assert postcodes_of(build_lsoa_risk_areas(plain, plain_imd, most_deprived="30%")) == (
        postcodes_of(build_lsoa_risk_areas(onspd, imd, most_deprived="30%"))
    )


# == terminated postcodes =========================================================================


def test_terminated_postcodes_are_counted_and_shown_not_imported(onspd):
    result = build_lsoa_risk_areas(onspd, most_deprived="30%")
    assert "WV8 1AB" not in postcodes_of(result)
    assert result.postcodes.terminated == 1
    assert result.postcodes.terminated_postcodes == ("WV8 1AB",)


def test_terminated_sample_is_short_unless_all_are_asked_for(tmp_path):
    rows = [Pc(f"WV8 1{a}{b}", "E01029600", imd=1, doterm="202001") for a in "AB" for b in "ABDE"]
    onspd = write_onspd(tmp_path / "onspd.csv", [*rows, Pc("WV8 9ZZ", "E01029600", imd=1)])
    sample = build_lsoa_risk_areas(onspd, most_deprived="30%")
    assert sample.postcodes.terminated == 8 and len(sample.postcodes.terminated_postcodes) <= 8
    every = build_lsoa_risk_areas(onspd, most_deprived="30%", keep_all_terminated=True)
    assert len(every.postcodes.terminated_postcodes) == 8
    assert SAMPLE_SIZE < 100


# == area filters ================================================================================


def test_local_authority_code_keeps_only_that_district(onspd):
    result = build_lsoa_risk_areas(onspd, most_deprived="30%", local_authorities=[SOUTH_STAFFS])
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA"}
    assert result.rule == "IMD 2019 rank <= 30% (9,853 LSOAs); LAD E07000196"


def test_local_authority_by_name_needs_the_imd_file_and_ignores_case(onspd, imd):
    result = build_lsoa_risk_areas(
        onspd, imd, most_deprived="30%", local_authorities=["south STAFFORDSHIRE"]
    )
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA"}
    assert result.rule.endswith("; LAD E07000196 (South Staffordshire)")
    with pytest.raises(LsoaError, match="needs the IMD file"):
        build_lsoa_risk_areas(onspd, most_deprived="30%", local_authorities=["Cannock Chase"])


def test_unknown_district_name_suggests_the_near_one(onspd, imd):
    with pytest.raises(LsoaError, match="did you mean 'Cannock Chase'"):
        build_lsoa_risk_areas(onspd, imd, most_deprived="30%", local_authorities=["Cannock"])


def test_several_authorities_are_all_kept(onspd):
    result = build_lsoa_risk_areas(
        onspd, most_deprived="30%", local_authorities=[SOUTH_STAFFS, CANNOCK]
    )
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA", "WS11 1AA"}


def test_county_code_keeps_its_districts(onspd):
    result = build_lsoa_risk_areas(onspd, most_deprived="30%", counties=[STAFFORDSHIRE])
    assert postcodes_of(result) == {"WV8 1AA", "WV8 2AA", "WS11 1AA"}
    assert result.rule.endswith("; county E10000028")


def test_a_code_that_matches_nothing_is_an_error_not_an_empty_list(onspd):
    with pytest.raises(LsoaError, match="E07000999.*no postcode.*oslaua"):
        build_lsoa_risk_areas(
            onspd, most_deprived="30%", local_authorities=[SOUTH_STAFFS, "E07000999"]
        )
    with pytest.raises(LsoaError, match="--county E10000099"):
        build_lsoa_risk_areas(onspd, most_deprived="30%", counties=["E10000099"])


def test_directory_without_district_column_filters_by_the_imd_files_districts(tmp_path, imd):
    path = tmp_path / "slim.csv"
    path.write_text(
        "pcds,doterm,lsoa11\nWV8 1AA,,E01029600\nWS11 1AA,,E01029300\nWV8 3AA,,E01029602\n"
    )
    result = build_lsoa_risk_areas(path, imd, most_deprived="30%", local_authorities=[CANNOCK])
    assert postcodes_of(result) == {"WS11 1AA"}


def test_county_filter_needs_the_county_column(tmp_path):
    path = tmp_path / "slim.csv"
    path.write_text("pcds,doterm,lsoa11,imd\nWV8 1AA,,E01029600,1\n")
    with pytest.raises(MissingColumnError, match="oscty"):
        build_lsoa_risk_areas(path, most_deprived="30%", counties=[STAFFORDSHIRE])


# == missing columns and mixed vintages ==========================================================


def test_missing_column_names_the_file_what_was_expected_and_what_was_found(tmp_path):
    path = tmp_path / "ONSPD_extract.csv"
    path.write_text("pcds,doterm,imd\nWV8 1AA,,1\n")
    with pytest.raises(MissingColumnError) as caught:
        build_lsoa_risk_areas(path, most_deprived="30%")
    message = str(caught.value)
    assert "ONSPD_extract.csv" in message
    assert "lsoa11" in message and "lsoa21" in message  # expected
    assert "'pcds', 'doterm', 'imd'" in message  # found


def test_directory_without_imd_column_asks_for_the_imd_file(tmp_path):
    path = tmp_path / "onspd.csv"
    path.write_text("pcds,doterm,lsoa11\nWV8 1AA,,E01029600\n")
    with pytest.raises(MissingColumnError, match="--imd"):
        build_lsoa_risk_areas(path, most_deprived="30%")


def test_imd_file_without_rank_or_decile_is_refused(tmp_path, onspd):
    path = tmp_path / "imd.csv"
    path.write_text("LSOA code (2011),Income Rank (where 1 is most deprived)\nE01029600,1\n")
    with pytest.raises(MissingColumnError, match="imd.csv: no IMD rank or decile column"):
        build_lsoa_risk_areas(onspd, path, most_deprived="30%")


def test_2021_lsoa_directory_with_2011_lsoa_imd_is_a_vintage_mismatch(tmp_path, imd):
    onspd = write_onspd(tmp_path / "ONSPD_MAY_2025_UK.csv", [Pc("WV8 1AA", "E01029600")], "2025")
    with pytest.raises(VintageMismatchError) as caught:
        build_lsoa_risk_areas(onspd, imd, most_deprived="30%")
    message = str(caught.value)
    assert "ONSPD_MAY_2025_UK.csv has 2021 LSOA codes" in message
    assert "ranks 2011 LSOAs" in message and "LSOA code (2011)" in message


def test_2011_lsoa_directory_with_iod2025_is_a_vintage_mismatch(tmp_path):
    onspd = write_onspd(tmp_path / "onspd.csv", [Pc("WV8 1AA", "E01029600")], "2021")
    imd = write_imd(tmp_path / "iod2025.csv", [Lsoa("E01029600", 1, lsoas=33_755)], "2025")
    with pytest.raises(VintageMismatchError, match="has 2011 LSOA codes"):
        build_lsoa_risk_areas(onspd, imd, most_deprived="30%")


def test_codes_unknown_to_a_complete_imd_file_reveal_a_vintage_mix(tmp_path):
    # The directory's header says 2011, but E01035xxx codes only exist from 2021.
    imd = complete_imd(tmp_path / "complete.csv")
    onspd = write_onspd(
        tmp_path / "onspd.csv",
        [Pc("WV8 1AA", "E01000001"), Pc("WV8 2AA", "E01035123"), Pc("WV8 3AA", "E01035124")],
    )
    with pytest.raises(VintageMismatchError, match=r"2 postcode row\(s\).*E01035123, E01035124"):
        build_lsoa_risk_areas(onspd, imd, most_deprived="30%")


def test_a_partial_imd_file_is_not_taken_for_a_vintage_mix(onspd, imd):
    # LSOAS lists four LSOAs, every one the directory's English postcodes use (a file that
    # leaves some out is refused: tests/risk_guard/test_lsoa_import.py).
    assert build_lsoa_risk_areas(onspd, imd, most_deprived="30%").choice.complete is False


def test_imd_rank_beyond_englands_lsoas_is_a_bad_line(tmp_path, onspd):
    imd = write_imd(tmp_path / "imd.csv", [Lsoa("E01029600", 33_000)])
    with pytest.raises(LsoaDataError) as caught:
        build_lsoa_risk_areas(onspd, imd, most_deprived="30%")
    assert caught.value.problems[0][0] == 2
    assert "32,844" in caught.value.problems[0][1]


# == bad lines ===================================================================================


def test_a_bad_postcode_in_a_selected_area_fails_the_import_naming_its_line(tmp_path):
    rows = [Pc("WV8 1AA", "E01029600", imd=1), Pc("WV8 1AC", "E01029600", imd=1)]
    onspd = write_onspd(tmp_path / "onspd.csv", rows)
    with pytest.raises(LsoaDataError) as caught:
        build_lsoa_risk_areas(onspd, most_deprived="30%")
    ((line, message),) = caught.value.problems
    assert line == 3 and "'WV8 1AC' is not a UK postcode" in message


def test_skip_invalid_imports_the_rest_and_counts_what_it_skipped(tmp_path):
    rows = [Pc("WV8 1AA", "E01029600", imd=1), Pc("WV8 1AC", "E01029600", imd="x")]
    onspd = write_onspd(tmp_path / "onspd.csv", rows)
    result = build_lsoa_risk_areas(onspd, most_deprived="30%", skip_invalid=True)
    assert postcodes_of(result) == {"WV8 1AA"}
    assert result.postcodes.skipped == 1 and result.postcodes.problems[0][0] == 3


def test_blank_rank_is_counted_as_unranked_not_bad(tmp_path):
    onspd = write_onspd(tmp_path / "onspd.csv", [Pc("WV8 1AA", "E01029600", imd="")])
    assert build_lsoa_risk_areas(onspd, most_deprived="30%").postcodes.unranked == 1


def test_excel_workbook_is_refused_with_what_to_do(tmp_path, onspd):
    book = tmp_path / "File_1.xlsx"
    book.write_bytes(b"PK\x03\x04rest of a zip")
    with pytest.raises(LsoaError, match="save the sheet as 'CSV UTF-8'"):
        build_lsoa_risk_areas(onspd, book, most_deprived="30%")


def test_non_utf8_file_says_so(tmp_path, onspd):
    path = tmp_path / "imd.csv"
    path.write_bytes(
        "LSOA code (2011),IMD rank,LAD name\nE01029600,1,Ynys M\xf4n\n".encode("cp1252")
    )
    with pytest.raises(LsoaError, match=r"imd.csv: line 2: the file is not UTF-8 text \(byte 0xf4"):
        build_lsoa_risk_areas(onspd, path, most_deprived="30%")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(LsoaError, match="cannot read .*nowhere.csv"):
        build_lsoa_risk_areas(tmp_path / "nowhere.csv", most_deprived="30%")


def test_exactly_one_rule_is_needed(onspd):
    with pytest.raises(LsoaError, match="one of --most-deprived"):
        build_lsoa_risk_areas(onspd)
    with pytest.raises(LsoaError, match="one of --most-deprived"):
        build_lsoa_risk_areas(onspd, most_deprived="30%", deciles="1-3")


# == the source record ===========================================================================


def test_sources_carry_name_size_rows_date_and_the_sha256_of_the_bytes(onspd, imd):
    result = build_lsoa_risk_areas(onspd, imd, most_deprived="30%")
    pc_source, imd_source = result.sources
    assert (pc_source.role, pc_source.name) == ("postcodes", "ONSPD_FEB_2023_UK.csv")
    assert pc_source.sha256 == hashlib.sha256(onspd.read_bytes()).hexdigest()
    assert pc_source.size == onspd.stat().st_size
    assert pc_source.rows == len(POSTCODES)
    assert (pc_source.date, pc_source.date_from) == ("2023-02", "name")
    assert imd_source.sha256 == hashlib.sha256(imd.read_bytes()).hexdigest()
    assert (imd_source.date, imd_source.date_from) == ("2019", "name")  # IMD2019, not mtime
    assert imd_source.rows == len(LSOAS)
    assert result.source == f"{onspd.name} + {imd.name}"


def test_hash_covers_the_whole_file_even_after_the_last_row(tmp_path):
    onspd = write_onspd(tmp_path / "onspd.csv", [Pc("WV8 1AA", "E01029600", imd=1)])
    with open(onspd, "ab") as f:
        f.write(b"\r\n\r\n")  # trailing blank lines
    result = build_lsoa_risk_areas(onspd, most_deprived="30%")
    assert result.sources[0].sha256 == hashlib.sha256(onspd.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ONSPD_FEB_2023_UK.csv", "2023-02"),
        ("ONSPD_November_2021.csv", "2021-11"),
        ("nspl-2025-05.csv", "2025-05"),
        ("extract_20240131.csv", "2024-01-31"),
        ("imd_deciles_2019.csv", None),
    ],
)
def test_file_date_comes_from_its_name_else_its_mtime(tmp_path, name, expected):
    path = tmp_path / name
    path.write_text("x")
    os.utime(path, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    assert date_of_file(path) == ((expected, "name") if expected else ("2023-11-14", "mtime"))


# == progress ====================================================================================


def test_progress_bar_shows_share_rate_and_time_left():
    out = io.StringIO()
    ticks = iter([0.0, 1.0, 1.1, 2.0, 2.0])
    bar = ProgressBar("ONSPD.csv", 100_000_000, out, clock=lambda: next(ticks), interval=0.5)
    bar.update(50_000_000)  # drawn at t=1
    bar.update(1)  # t=1.1: too soon, not drawn
    bar.update(49_999_999)  # t=2
    bar.close()
    frames = out.getvalue().split("\r")[1:]
    assert len(frames) == 3
    assert "[############............]  50% 50/100 MB 50.0 MB/s 0:01 left" in frames[0]
    assert " 100% 100/100 MB" in frames[-1] and out.getvalue().endswith("\n")


def test_progress_reaches_the_whole_file_and_goes_to_the_given_stream(onspd, imd):
    out = io.StringIO()
    build_lsoa_risk_areas(onspd, imd, most_deprived="30%", progress=terminal_progress(out))
    lines = out.getvalue().split("\n")[:-1]
    assert len(lines) == 2
    assert lines[0].split("\r")[-1].startswith(imd.name) and "100%" in lines[0]
    assert lines[1].split("\r")[-1].startswith(onspd.name) and "100%" in lines[1]
