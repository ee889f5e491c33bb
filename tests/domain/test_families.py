"""Families, children and card UIDs: validation with clear messages."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.domain.errors import ValidationError
from kiosk.domain.families import Family, new_family, parse_birth_month
from kiosk.domain.postcodes import PostcodeError
from kiosk.domain.uids import normalise_uid


def test_new_family_normalises_names_and_postcode():
    fam = new_family("  Sarah   Jones ", "ws71aa", [("Mia", "2024-03")])
    assert (fam.greeting_name, fam.postcode) == ("Sarah Jones", "WS7 1AA")
    assert fam.children[0].born == "2024-03"
    assert fam.family_id.startswith("F-") and len(fam.family_id) == 12


def test_family_round_trips_through_its_dict_form():
    fam = new_family("Sarah", "WS7 1AA", [("Mia", None)], ["sen"], consent_date=date(2026, 1, 2))
    assert Family.from_dict(fam.to_dict()) == fam


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"greeting_name": "  "}, "greeting name is empty"),
        ({"greeting_name": "x" * 41}, "longer than 40"),
        ({"postcode": "WS7"}, "postcode"),
        ({"criteria": ["rich"]}, "unknown criteria"),
        ({"heard_from": "radio"}, "'how they heard' 'radio'"),
        ({"adults": 0}, "adults must be between 1 and 6"),
    ],
)
def test_bad_registrations_say_what_was_wrong(kwargs, message):
    args = {"greeting_name": "Sarah", "postcode": "WS7 1AA"} | kwargs
    with pytest.raises((ValidationError, PostcodeError), match=message):
        new_family(**args)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024/03", "must look like 2024-03"),
        ("2024-13", "month must be 01 to 12"),
        ("1850-01", "year"),
    ],
)
def test_bad_birth_months(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_birth_month(text)


def test_birth_month_in_the_future_is_refused():
    with pytest.raises(ValidationError, match="in the future"):
        parse_birth_month("2031-01", today=date(2026, 11, 23))


@pytest.mark.parametrize(
    ("raw", "uid"),
    [
        ("04:a2:3b:1c", "04A23B1C"),
        ("04-A2-3B-1C", "04A23B1C"),
        ("0x04a23b1c", "04A23B1C"),
        (b"\x04\xa2\x3b\x1c", "04A23B1C"),
        ([4, 162, 59, 28, 1, 2, 3], "04A23B1C010203"),
    ],
)
def test_uids_normalise_to_upper_hex(raw, uid):
    assert normalise_uid(raw) == uid


@pytest.mark.parametrize(
    ("raw", "message"), [("", "empty"), ("XYZ", "hexadecimal"), ("04A2", "4 to 10 bytes")]
)
def test_bad_uids_are_refused_clearly(raw, message):
    with pytest.raises(ValidationError, match=message):
        normalise_uid(raw)
