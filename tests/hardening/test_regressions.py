"""Bugs the property, fuzz and schemathesis runs found, each pinned by the input that found it.

(The server-side ones, which need a running server, are in test_endpoints.py.)
"""

from __future__ import annotations

import copy

import pytest

from kiosk.domain.errors import ValidationError
from kiosk.domain.postcodes import PostcodeError, parse_risk_area
from kiosk.domain.risk import parse_risk_file
from kiosk.domain.timetable import parse_weekday
from sync.protocol import Gap, parse_timestamp, validate_event
from tests.hardening.test_wire_properties import DEVICE, VALID


# -- postcodes (kiosk.domain.postcodes) ------------------------------------------------------
def test_a_long_district_before_a_sector_digit_is_quoted_only_in_part():
    # Found by atheris (tests/fuzz/crashes/postcodes/): the outward part was quoted whole, so a
    # pasted line of any length came back as an error message of that length.
    with pytest.raises(PostcodeError) as caught:
        parse_risk_area("ec1" + "7" * 5000 + " b")
    assert len(str(caught.value)) < 400
    assert "'EC17777777777777777777" in str(caught.value)


# -- risk files (kiosk.domain.risk.parse_risk_file) -------------------------------------------
def test_a_stray_carriage_return_in_a_csv_is_a_line_break_not_a_crash():
    # Was: _csv.Error "new-line character seen in unquoted field" out of kiosk-admin.
    parsed = parse_risk_file("postcode\nWS7 1AA\rXX\nWS8 1AA\n")
    assert [n for n, _ in parsed.problems] == [3]
    assert {a.value for a in parsed.areas} == {"WS7 1AA", "WS8 1AA"}


def test_a_csv_field_over_the_csv_modules_limit_is_a_bad_line_not_a_crash():
    # Was: _csv.Error "field larger than field limit (131072)".
    parsed = parse_risk_file("postcode\nWS7 1AA\n" + "A" * 200_000 + "\nWS8 1AA\n")
    assert parsed.problems[0][0] == 3
    assert "cannot read this CSV row" in parsed.problems[0][1]


def test_a_csv_row_after_a_quoted_field_spanning_lines_has_its_own_line_number():
    # Was: rows were counted, not lines, so every later bad line was misnumbered.
    text = 'postcode,note\nWS7 1AA,"two\nlines"\nNOT A POSTCODE,x\n'
    assert [n for n, _ in parse_risk_file(text).problems] == [4]


@pytest.mark.parametrize("odd", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028"])
def test_form_feeds_and_unicode_separators_do_not_shift_line_numbers(odd: str):
    # Was: str.splitlines() split at these too, so the bad line below was reported as line 3.
    parsed = parse_risk_file(f"WS7 1AA {odd}\nNOT A POSTCODE\n")
    assert [n for n, _ in parsed.problems][-1] == 2


# -- the timetable (kiosk.domain.timetable.parse_weekday) --------------------------------------
@pytest.mark.parametrize("text", ["monkey", "sunburn", "wedge", "Frisbee", "mo", "satellite"])
def test_a_word_that_merely_starts_like_a_day_is_not_that_day(text: str):
    # Was: only the first three letters were read: "--weekday sunburn" made a Sunday session.
    with pytest.raises(ValidationError, match="must be one of mon"):
        parse_weekday(text)


@pytest.mark.parametrize(
    ("text", "day"), [("mon", 0), ("Tues", 1), ("wednesday", 2), (" THURS ", 3), ("sun", 6)]
)
def test_day_names_and_their_abbreviations_still_work(text: str, day: int):
    assert parse_weekday(text) == day


# -- the wire format (sync.protocol) -----------------------------------------------------------
def _recorded(path: str, value) -> str | None:
    raw = copy.deepcopy(next(e for e in VALID if e["type"] == "attendance.recorded"))
    target = raw
    *parents, last = path.split(".")
    for part in parents:
        target = target[part]
    target[last] = value
    return validate_event(raw, DEVICE.device_id, DEVICE.site_id).reason


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("data.session.start", "09:30\n"),  # "$" matched before a final newline
        ("data.session.end", "١١:٣٠"),  # "\d" matched Arabic-Indic digits
        ("data.session.date", "2026W481"),  # ISO week dates named the day differently
    ],
)
def test_session_times_and_dates_must_be_written_as_the_kiosk_writes_them(path, value):
    reason = _recorded(path, value)
    assert reason is not None and reason.startswith(path.rsplit(".", 1)[0]), reason


def test_a_volunteer_name_with_a_control_character_is_refused_naming_it():
    reason = _recorded("data.volunteer", "Jo\x00")
    assert reason == (
        "data.volunteer: must not contain control characters (such as NUL or a line break)"
    )


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z"]
)
def test_timestamps_outside_the_years_the_server_stores_are_refused(value: str):
    with pytest.raises(ValueError, match="out of range"):
        parse_timestamp(value)


def test_a_huge_quoted_value_does_not_make_a_huge_reason():
    reason = _recorded("event_id", "x" * 100_000)
    assert reason is not None and len(reason) <= 300


@pytest.mark.parametrize(
    "gap",
    [
        {"from_seq": 1, "to_seq": 2**63, "kind": "lost"},
        {"from_seq": 1, "to_seq": 2, "kind": "lost", "events": 2**31},
    ],
)
def test_gap_numbers_the_database_cannot_hold_are_refused(gap):
    with pytest.raises(ValueError):
        Gap.model_validate(gap)
