"""The risk list: most specific match first, thematic reasons, versions, and file parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.families import Family
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.risk import NO_RISK_LIST, RiskList, compare, parse_risk_file


def risk(*entries: str, number: int = 1) -> RiskList:
    return RiskList(number, frozenset(parse_risk_area(e) for e in entries), datetime.now(UTC))


def family(postcode: str, *criteria: str) -> Family:
    return Family("F-1", "Sam", postcode, criteria=frozenset(criteria), consent_date=date.today())


def test_full_postcode_beats_sector_beats_district():
    lst = risk("WS7 1AA", "WS7 1", "WS7")
    assert lst.match("ws71aa") == "postcode"
    assert lst.match("WS7 1BB") == "sector"
    assert lst.match("WS7 9ZZ") == "district"
    assert lst.match("WS8 1AA") is None


def test_district_does_not_match_a_longer_district():
    assert risk("WS1").match("WS11 4BQ") is None
    assert risk("WS1").match("WS1 4BQ") == "district"


def test_decision_combines_area_and_thematic_reasons():
    decision = risk("WS7 1").decide(family("WS7 1AA", "young_parent", "sen"))
    assert decision.qualifies
    assert decision.reasons == ("sector", "young_parent", "sen")
    assert decision.risk_version.startswith("v1-")


def test_family_outside_the_list_without_criteria_does_not_qualify():
    decision = risk("WS7").decide(family("B33 8TH"))
    assert (decision.qualifies, decision.reasons) == (False, ())


def test_empty_list_has_the_none_version():
    assert RiskList().version == NO_RISK_LIST
    assert not RiskList().decide(family("WS7 1AA")).qualifies


def test_version_hash_depends_on_content_not_order():
    a = risk("WS7 1AA", "WS8")
    b = risk("WS8", "ws7 1aa")
    c = risk("WS8")
    assert a.digest == b.digest != c.digest
    assert a.version == b.version


def test_round_trips_through_its_dict_form():
    lst = risk("WS7 1AA", "WS7 1", "EC1A", number=4)
    again = RiskList.from_dict(lst.to_dict())
    assert again == lst
    assert again.version == lst.version


def test_plain_file_with_comments_and_blank_lines():
    parsed = parse_risk_file("# council list\nWS7 1AA\n\nws7 1   # a sector\nWS12\n")
    assert parsed.problems == ()
    assert {a.kind for a in parsed.areas} == {"postcode", "sector", "district"}


def test_every_bad_line_is_reported_by_number():
    parsed = parse_risk_file("WS7 1AA\nNOT A POSTCODE\nWS7 1AA\nQ1 1AA\n")
    assert [n for n, _ in parsed.problems] == [2, 4]
    assert "NOT A POSTCODE" in parsed.problems[0][1]
    assert len(parsed.areas) == 1


def test_csv_with_a_postcode_column():
    parsed = parse_risk_file("name,postcode\nHome,WS7 1AA\nShop,ws12\nBad,XX\n")
    assert [n for n, _ in parsed.problems] == [4]
    assert {a.value for a in parsed.areas} == {"WS7 1AA", "WS12"}


def test_csv_without_a_postcode_column_is_refused():
    parsed = parse_risk_file("name,address\nHome,1 High St\n")
    assert parsed.problems == ((1, "CSV header has no 'postcode' column"),)


def test_compare_counts_added_removed_unchanged():
    current = risk("WS7 1AA", "WS8")
    change = compare(current, frozenset({parse_risk_area("WS8"), parse_risk_area("WS9")}))
    assert (len(change.added), len(change.removed), len(change.unchanged)) == (1, 1, 1)


@given(
    st.lists(st.sampled_from(["WS7 1AA", "WS7 1", "WS7", "EC1A 1BB", "M1", "B33 8"]), max_size=6)
)
def test_digest_is_stable_under_reordering_and_duplicates(entries):
    a = frozenset(parse_risk_area(e) for e in entries)
    b = frozenset(parse_risk_area(e.lower()) for e in reversed(entries + entries))
    assert RiskList(1, a).digest == RiskList(1, b).digest
