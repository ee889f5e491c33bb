"""Paper registers typed in afterwards: all rows valid or nothing, duplicates reported."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from central.db import attendances
from central.reports import decisions
from central.reports.invoice import build_invoice
from central.reports.paper import PaperRegisterError, import_paper_register, paper_session
from central.reports.period import Period
from central.reports.rates import set_rate
from central.reports.registers import registers
from central.setup_data import import_risk
from kiosk.domain.families import Family
from kiosk.domain.risk import IncentiveDecision
from tests.reports.helpers import at

SESSION = dict(
    org_id="lichfield",
    site_id="library",
    day="2016-04-04",
    name="Stay and Play",
    start="09:30",
    end="11:30",
)


@pytest.fixture
def families(kiosk):
    sarah = kiosk.register("Sarah", "WS7 1AA", ["Mia", "Leo"], card="04A00001")
    tom = kiosk.register(
        "Tom", "WS13 6YY", ["Ava"], card="04A00002", criteria=["single_parent"], consent=True
    )
    kim = kiosk.register("Kim", "WS14 9AB", ["Zoe"], card="04A00003")
    kiosk.sync()
    return sarah, tom, kim


def write(tmp_path, text: str):
    path = tmp_path / "register.csv"
    path.write_text(text)
    return path


def test_a_valid_register_is_imported_as_paper_attendances(db, kiosk, families, tmp_path):
    sarah, tom, kim = families
    path = write(
        tmp_path,
        "family_id,children,adults\n"
        f"{sarah.family_id},Mia;leo,2\n"
        f"{tom.family_id.lower()},all,\n"
        f"{kim.family_id},{kim.children[0].child_id},1\n",
    )
    result = import_paper_register(db, path, paper_session(**SESSION), entered_by="Jo")

    assert len(result.imported) == 3 and result.children == 4
    assert result.qualifying == 1  # Tom's thematic criterion; postcodes not checked
    assert "no risk list on the server" in result.summary_lines()[-1]
    [reg] = registers(db, "lichfield", date(2016, 4, 4))
    assert [(ln.greeting_name, ln.children, ln.adults, ln.method) for ln in reg.lines] == [
        ("Sarah", ("Leo", "Mia"), 2, "paper"),
        ("Tom", ("Ava",), 1, "paper"),
        ("Kim", ("Zoe",), 1, "paper"),
    ]
    assert (reg.start, reg.end) == ("09:30", "11:30")
    set_rate(db, "lichfield", "3.00", date(2016, 4, 1))
    sheet = build_invoice(db, "lichfield", Period.month("2016-04"))
    assert [(ln.family_id, ln.reasons, ln.risk_version) for ln in sheet.lines] == [
        (tom.family_id, ("single_parent",), "v0-none")
    ]
    assert sheet.total == Decimal("3.00")


def test_every_bad_row_is_reported_by_line_and_nothing_is_imported(db, kiosk, families, tmp_path):
    sarah, tom, kim = families
    path = write(
        tmp_path,
        "family_id,children,adults\n"
        f"{sarah.family_id},Mia,1\n"
        "F-NOSUCHFAM1,all,1\n"
        f"{tom.family_id},Bob,1\n"
        f"{sarah.family_id},Leo,1\n"
        f"{kim.family_id},,1\n"
        ",all,1\n",
    )
    with pytest.raises(PaperRegisterError) as caught:
        import_paper_register(db, path, paper_session(**SESSION))
    assert caught.value.problems == [
        "register.csv: line 3: no family F-NOSUCHFAM1 in organisation lichfield (check the "
        "reference on the card; a family registered at a kiosk appears once that kiosk has "
        "synced)",
        f"register.csv: line 4: family {tom.family_id} has no child called 'Bob' (children: Ava)",
        f"register.csv: line 5: family {sarah.family_id} is also on line 2",
        "register.csv: line 6: children is empty: list first names separated by ';', or write "
        "'all'",
        "register.csv: line 7: family_id is empty",
    ]
    assert "nothing was imported" in str(caught.value)
    assert db.count(attendances, method="paper") == 0


def test_a_bad_header_or_adults_value_is_refused(db, kiosk, families, tmp_path):
    sarah = families[0]
    with pytest.raises(PaperRegisterError, match=r"line 1: unknown column\(s\) 'famly_id'"):
        import_paper_register(
            db, write(tmp_path, "famly_id,children\nx,all\n"), paper_session(**SESSION)
        )
    with pytest.raises(PaperRegisterError, match="line 2: adults 'two' must be a whole number"):
        import_paper_register(
            db,
            write(tmp_path, f"family_id,children,adults\n{sarah.family_id},all,two\n"),
            paper_session(**SESSION),
        )


def test_a_family_already_recorded_by_the_kiosk_is_reported_not_counted_twice(
    db, kiosk, families, tmp_path
):
    sarah, tom, _kim = families
    kiosk.tap("04A00001", at("2016-04-04", "09:41"))  # the kiosk worked for a while
    kiosk.sync()
    path = write(tmp_path, f"family_id,children\n{sarah.family_id},all\n{tom.family_id},all\n")

    result = import_paper_register(db, path, paper_session(**{**SESSION, "name": "stay and play"}))

    assert [r.family.family_id for r in result.imported] == [tom.family_id]
    [dup] = result.already_recorded
    assert dup.line == 2 and dup.method == "card"
    assert "is already recorded at this session by kiosk-1 (card) at 09:41" in dup.describe(
        "register.csv"
    )
    assert db.count(attendances) == 2

    again = import_paper_register(db, path, paper_session(**SESSION))  # typed in twice
    assert again.imported == [] and len(again.already_recorded) == 2
    assert db.count(attendances) == 2


def test_a_dry_run_checks_and_changes_nothing(db, kiosk, families, tmp_path):
    path = write(tmp_path, f"family_id,children\n{families[0].family_id},all\n")
    result = import_paper_register(db, path, paper_session(**SESSION), dry_run=True)
    assert len(result.imported) == 1 and result.summary_lines()[0].startswith(
        "register.csv: would import 1 families"
    )
    assert db.count(attendances) == 0


def test_the_decision_is_pluggable_and_uses_a_server_risk_list_when_there_is_one(
    db, kiosk, families, tmp_path, monkeypatch
):
    class PostcodeList:
        description = "a test risk list"

        def decide(self, family: Family) -> IncentiveDecision:
            hit = family.postcode.startswith("WS7")
            return IncentiveDecision(hit, ("postcode",) if hit else (), "v9-test")

    monkeypatch.setattr(decisions, "PROVIDERS", [lambda db, org: PostcodeList()])
    sarah, tom, _ = families
    path = write(tmp_path, f"family_id,children\n{sarah.family_id},Mia\n{tom.family_id},all\n")
    result = import_paper_register(db, path, paper_session(**SESSION))
    assert result.qualifying == 1 and result.decider == "a test risk list"
    sheet = build_invoice(db, "lichfield", Period.month("2016-04"))
    assert [(ln.family_id, ln.reasons, ln.risk_version) for ln in sheet.lines] == [
        (sarah.family_id, ("postcode",), "v9-test")
    ]


def test_the_session_must_make_sense(db):
    from central.db import CentralError

    with pytest.raises(CentralError, match="--end 09:00 is not after --start 09:30"):
        paper_session("lichfield", "library", "2016-04-04", "Play", "09:30", "09:00")
    with pytest.raises(CentralError, match="--date '2016-13-01' is not a date"):
        paper_session("lichfield", "library", "2016-13-01", "Play", "09:30", "10:00")
    with pytest.raises(CentralError, match="--start '9.30' must be a 24-hour time"):
        paper_session("lichfield", "library", "2016-04-04", "Play", "9.30", "10:00")


def test_the_servers_own_risk_list_decides_when_there_is_one(db, kiosk, families, tmp_path):
    saved = import_risk(db, "lichfield", "WS7 1AA\nWS12\n", "council.txt").saved
    sarah, tom, kim = families
    path = write(tmp_path, f"family_id,children\n{sarah.family_id},Mia\n{kim.family_id},all\n")

    result = import_paper_register(db, path, paper_session(**SESSION))

    assert result.qualifying == 1 and saved.version in result.decider
    sheet = build_invoice(db, "lichfield", Period.month("2016-04"))
    assert [(ln.family_id, ln.reasons, ln.risk_version) for ln in sheet.lines] == [
        (sarah.family_id, ("postcode",), saved.version)
    ]
