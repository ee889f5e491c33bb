"""Postcode properties that tests/domain/test_postcodes.py does not already state.

That file checks the format against an independent oracle for full postcodes; here: risk-list
entries (sectors and districts) against the same rules, idempotence of every accepted entry,
suggestions that are always valid, messages that stay short whatever is typed, and the
``Postcode`` value agreeing with ``parse_postcode``.
"""

from __future__ import annotations

import re
import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiosk.domain.postcodes import Postcode, PostcodeError, parse_postcode, parse_risk_area

ALPHABET = string.ascii_uppercase
DIGITS = string.digits
FIRST = "".join(ch for ch in ALPHABET if ch not in "QVX")
SECOND = "".join(ch for ch in ALPHABET if ch not in "IJZ")
A9A_LAST = "ABCDEFGHJKPSTUW"
AA9A_LAST = "ABEHMNPRVWXY"

#: An outward code (a district), restated from the published rules.
OUTWARD = (
    rf"(?:[{FIRST}][0-9][0-9]?|[{FIRST}][{SECOND}][0-9][0-9]?"
    rf"|[{FIRST}][0-9][{A9A_LAST}]|[{FIRST}][{SECOND}][0-9][{AA9A_LAST}]|GIR)"
)
DISTRICT = re.compile(OUTWARD)
SECTOR = re.compile(rf"{OUTWARD} [0-9]")
SUGGESTION = re.compile(r"\(did you mean '([^']*)'\?\)")

# Text shaped like risk-list entries: letters, digits, look-alikes and spaces in any order.
entry_like = st.text(alphabet=ALPHABET + DIGITS + "OI01 " + "abcwsio", min_size=1, max_size=9)
# Anything at all, including control characters, non-ASCII and very long text.
anything = st.one_of(st.text(max_size=40), st.text(min_size=200, max_size=5000))


@settings(max_examples=400)
@given(st.one_of(entry_like, anything))
@example("GIR 0")
@example("gir")
@example("WS7\u00a01")
def test_an_accepted_risk_entry_reads_back_as_itself(text: str) -> None:
    try:
        area = parse_risk_area(text)
    except PostcodeError:
        return
    assert parse_risk_area(area.value) == area
    assert area.value == area.value.strip().upper()


@settings(max_examples=400)
@given(entry_like)
def test_sectors_and_districts_agree_with_the_published_rules(text: str) -> None:
    try:
        area = parse_risk_area(text)
    except PostcodeError:
        return
    if area.kind == "district":
        assert DISTRICT.fullmatch(area.value), area
    elif area.kind == "sector":
        assert SECTOR.fullmatch(area.value), area
    else:
        assert parse_postcode(area.value)


@settings(max_examples=400)
@given(entry_like)
@example("SO1 OAA")
@example("WSI")
@example("SWIA 1")
def test_a_suggested_fix_is_always_itself_valid(text: str) -> None:
    for parse in (parse_postcode, parse_risk_area):
        try:
            parse(text)
        except PostcodeError as exc:
            found = SUGGESTION.search(str(exc))
            if found:
                parse(found.group(1))  # raises if the suggestion were wrong


@settings(max_examples=200)
@given(st.one_of(anything, st.builds(lambda n: "ec1" + "7" * n + " b", st.integers(30, 3000))))
def test_messages_quote_only_the_start_of_long_input(text: str) -> None:
    for parse in (parse_postcode, parse_risk_area):
        try:
            parse(text)
        except PostcodeError as exc:
            assert len(str(exc)) < 400
            assert "\n" not in str(exc).replace("\\n", "")


@given(st.one_of(st.integers(), st.floats(), st.none(), st.binary(), st.lists(st.text())))
def test_anything_that_is_not_text_is_refused_as_a_postcode_error(value: object) -> None:
    for parse in (parse_postcode, parse_risk_area):
        try:
            parse(value)  # type: ignore[arg-type]
        except PostcodeError as exc:
            assert "must be text" in str(exc)
        else:
            raise AssertionError(f"{value!r} was accepted")


@settings(max_examples=400)
@given(st.text(alphabet=ALPHABET + DIGITS, min_size=4, max_size=7))
def test_the_postcode_value_agrees_with_parse_postcode(compact: str) -> None:
    outward, inward = compact[:-3], compact[-3:]
    try:
        parsed = parse_postcode(compact)
    except PostcodeError:
        parsed = None
    try:
        built = Postcode(outward, inward)
    except PostcodeError:
        built = None
    assert parsed == built
