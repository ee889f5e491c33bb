"""The county of the scenario tests (see test_county_scenario.py for the figures by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from central.cli import main
from central.reports.period import Period
from tests.geography.helpers import people_with, write_ons_csv
from tests.lsoa.helpers import Lsoa, Pc, write_imd, write_onspd
from tests.reports.helpers import MON_PLAY, Kiosk, at

STAFFS = "E10000028"
LICHFIELD, CANNOCK = ("E07000194", "Lichfield"), ("E07000192", "Cannock Chase")
L1, L2, L3, C1, C2 = "E01029700", "E01029701", "E01029702", "E01029800", "E01029801"
YEAR = Period.between_months("2016-04", "2017-03")
JUNE, SEPTEMBER, MARCH = "2016-06-06", "2016-09-05", "2016-03-07"


def lsoa(code: str, rank: int, lad: tuple[str, str]) -> Lsoa:
    return Lsoa(code, rank, lad=lad[0], lad_name=lad[1], lsoas=33_755)


IMD = [
    lsoa(L1, 2_000, LICHFIELD),
    lsoa(L2, 9_000, LICHFIELD),
    lsoa(L3, 25_000, LICHFIELD),
    lsoa(C1, 5_000, CANNOCK),
    lsoa(C2, 30_000, CANNOCK),
]
W1, W2, W3 = "E05010001", "E05010002", "E05009900"
POSTCODES = [
    Pc("WS13 6AA", "E01009700", lsoa21=L1, lad=LICHFIELD[0], ward=W1),
    Pc("WS13 6AB", "E01009700", lsoa21=L1, lad=LICHFIELD[0], ward=W1),
    Pc("WS13 7AA", "E01009701", lsoa21=L2, lad=LICHFIELD[0], ward=W1),
    Pc("WS13 7AB", "E01009701", lsoa21=L2, lad=LICHFIELD[0], ward=W1),
    Pc("WS14 9AA", "E01009702", lsoa21=L3, lad=LICHFIELD[0], ward=W2),
    Pc("WS14 9AB", "E01009702", lsoa21=L3, lad=LICHFIELD[0], ward=W2, doterm="201901"),
    Pc("WS11 1AA", "E01009800", lsoa21=C1, lad=CANNOCK[0], ward=W3),
    Pc("WS11 2AA", "E01009801", lsoa21=C2, lad=CANNOCK[0], ward=W3),
    Pc("WS11 2AB", "E01009801", lsoa21=C2, lad=CANNOCK[0], ward=W3),
    # Birmingham: in the national directory, not in the county the council imports.
    Pc("B1 1AA", "E01033620", lsoa21="E01033620", lad="E08000025", county="E11000005"),
]
UNDER_FIVES = {L1: 12, L2: 18, L3: 40, C1: 30, C2: 20, "E01033620": 200}


def central(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def family(k: Kiosk, name: str, postcode: str, card: str, *children: tuple[str, str | None]):
    return k.desk.register_family(
        name, postcode, list(children), at("2016-03-01", "09:00"), card_uid=card
    )


@pytest.fixture
def county(db, db_url, tmp_path: Path, capsys):
    """The county: directory, IMD, population imported; both organisations' year synced."""
    lich = Kiosk(db, org="lichfield", site="library", device="lich-1").timetable(MON_PLAY)
    cann = Kiosk(db, org="cannock", site="hub", device="can-1").timetable(MON_PLAY)
    onspd = write_onspd(tmp_path / "ONSPD_FEB_2023_UK.csv", POSTCODES)
    imd = write_imd(tmp_path / "File_1_IoD2025.csv", IMD, "2025")
    code, out, err = central(
        capsys, db_url, "risk", "import-lsoa", "lichfield", "--postcodes", str(onspd),
        "--imd", str(imd), "--most-deprived", "30%", "--county", STAFFS,
    )  # fmt: skip
    assert code == 0, err
    assert "postcode directory: 9 postcodes in 5 LSOAs (2021 LSOAs, 5 with an IMD decile)" in out
    population = write_ons_csv(
        tmp_path / "sapelsoasyoa2022.csv", {c: people_with(n) for c, n in UNDER_FIVES.items()}
    )
    code, out, err = central(capsys, db_url, "population", "import", str(population))
    assert code == 0, err
    assert "version: 1" in out and "lsoas: 6" in out

    cards = iter(f"04A{n:05d}" for n in range(1, 100))
    who = [
        (lich, "Amy", "WS13 6AA", [("Mia", "2014-03"), ("Leo", "2013-01")], [JUNE, SEPTEMBER]),
        (lich, "Bea", "WS13 6AB", [("Ava", "2011-07"), ("Sam", "2009-01")], [JUNE, SEPTEMBER]),
        (lich, "Cat", "WS13 7AA", [("Isla", "2011-05"), ("Noah", "2015-02")], [JUNE]),
        (lich, "Dee", "WS13 7AB", [("Ella", "2016-01")], [JUNE]),
        (lich, "Eve", "WS14 9AA", [("A", "2012-05"), ("B", "2013-05"), ("C", "2014-05")], [JUNE]),
        (lich, "Fay", "WS14 9AB", [("Di", "2015-06")], [SEPTEMBER]),
        (lich, "Gus", "B1 1AA", [("Flo", "2014-01")], [JUNE]),
        (lich, "Hal", "WS13 6AA", [("Baby", None)], [JUNE]),
        (lich, "Ian", "WS14 9AA", [("Jen", "2014-02")], [MARCH]),
        (cann, "Jo", "WS11 1AA", [("Kai", "2013-03"), ("Lia", "2014-08")], [JUNE, SEPTEMBER]),
        (cann, "Kim", "WS11 2AA", [("Mo", "2012-09"), ("Nia", "2015-01"), ("Oz", "2016-02")],
         [JUNE]),
        (cann, "Lu", "WS11 2AB", [("Pip", "2013-10"), ("Raj", "2014-11")], [SEPTEMBER]),
        (cann, "Max", "WS13 7AA", [("Sol", "2014-04")], [JUNE]),
        (cann, "Ned", "WS14 9AA", [("Tam", "2013-12")], [JUNE]),
    ]  # fmt: skip
    for kiosk, name, postcode, kids, days in who:
        card = next(cards)
        family(kiosk, name, postcode, card, *kids)
        for day in days:
            assert kiosk.tap(card, at(day)) == "welcome", (name, day)
    assert set(lich.sync()) == {"accepted"} and set(cann.sync()) == {"accepted"}
    return tmp_path
