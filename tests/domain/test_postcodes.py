"""Postcodes, sectors and districts: what people type, what the format allows, what we say.

A wrong answer here silently moves a family on or off the risk list, so every published letter rule
is tested letter by letter, and the property tests check the rules against an independent
statement of them (a regular expression written from the published rules).
"""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.domain.errors import ValidationError
from kiosk.domain.postcodes import (
    Postcode,
    PostcodeError,
    RiskArea,
    is_valid_postcode,
    normalise_postcode,
    parse_postcode,
    parse_risk_area,
)

ALPHABET = string.ascii_uppercase
DIGITS = string.digits

# The published rules, restated independently of the module under test.
FIRST_LETTERS = "".join(ch for ch in ALPHABET if ch not in "QVX")
SECOND_LETTERS = "".join(ch for ch in ALPHABET if ch not in "IJZ")
A9A_LAST = "ABCDEFGHJKPSTUW"
AA9A_LAST = "ABEHMNPRVWXY"
INWARD_LETTERS = "".join(ch for ch in ALPHABET if ch not in "CIKMOV")

ORACLE = re.compile(
    rf"""
    GIR0AA
    | (?: [{FIRST_LETTERS}] [0-9] [0-9]?             # A9, A99
        | [{FIRST_LETTERS}] [{SECOND_LETTERS}] [0-9] [0-9]?  # AA9, AA99
        | [{FIRST_LETTERS}] [0-9] [{A9A_LAST}]       # A9A
        | [{FIRST_LETTERS}] [{SECOND_LETTERS}] [0-9] [{AA9A_LAST}]  # AA9A
      ) [0-9] [{INWARD_LETTERS}]{{2}}
    """,
    re.VERBOSE,
)


def refusal(text: object) -> str:
    """The message parse_postcode gives for ``text`` (failing the test if it accepts it)."""
    with pytest.raises(PostcodeError) as caught:
        parse_postcode(text)  # type: ignore[arg-type]
    return str(caught.value)


def risk_refusal(text: str) -> str:
    with pytest.raises(PostcodeError) as caught:
        parse_risk_area(text)
    return str(caught.value)


# --- valid postcodes and their parts -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "outward", "inward", "sector", "district", "area"),
    [
        ("M1 1AE", "M1", "1AE", "M1 1", "M1", "M"),
        ("B33 8TH", "B33", "8TH", "B33 8", "B33", "B"),
        ("CR2 6XH", "CR2", "6XH", "CR2 6", "CR2", "CR"),
        ("DN55 1PT", "DN55", "1PT", "DN55 1", "DN55", "DN"),
        ("W1A 0AX", "W1A", "0AX", "W1A 0", "W1A", "W"),
        ("EC1A 1BB", "EC1A", "1BB", "EC1A 1", "EC1A", "EC"),
        ("WS7 1AA", "WS7", "1AA", "WS7 1", "WS7", "WS"),
        ("SW1A 2AA", "SW1A", "2AA", "SW1A 2", "SW1A", "SW"),
        ("GIR 0AA", "GIR", "0AA", "GIR 0", "GIR", "GIR"),
    ],
)
def test_postcode_splits_into_outward_inward_sector_district_and_area(
    text: str, outward: str, inward: str, sector: str, district: str, area: str
) -> None:
    pc = parse_postcode(text)
    assert (pc.outward, pc.inward) == (outward, inward)
    assert str(pc) == text
    assert (pc.sector, pc.district, pc.area) == (sector, district, area)


@pytest.mark.parametrize(
    "example",
    ["M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "W1A 0AX", "EC1A 1BB"],
    ids=["A9 9AA", "A99 9AA", "AA9 9AA", "AA99 9AA", "A9A 9AA", "AA9A 9AA"],
)
def test_every_published_outward_format_is_accepted(example: str) -> None:
    assert normalise_postcode(example) == example


def test_format_is_checked_not_existence() -> None:
    # There is no AA postcode area, but AA1 1AA breaks no format rule.
    assert normalise_postcode("aa1 1aa") == "AA1 1AA"


def test_nhs_no_fixed_abode_pseudo_postcodes_are_refused() -> None:
    # ZZ99 3VZ and friends are NHS conventions, not postcodes: Z is never a second letter,
    # and V is never an inward letter.
    assert "the letter 'V'" in refusal("ZZ99 3VZ")
    assert "'Z' as its second letter" in refusal("ZZ99 3AA")


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (" ws7  1aa ", "WS7 1AA"),
        ("ws71aa", "WS7 1AA"),
        ("WS7 1AA", "WS7 1AA"),
        ("W S 7 1 A A", "WS7 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("Dn551Pt", "DN55 1PT"),
        ("m11ae", "M1 1AE"),
        ("gir0aa", "GIR 0AA"),
    ],
)
def test_normalise_forgives_case_and_spacing(typed: str, expected: str) -> None:
    assert normalise_postcode(typed) == expected


@pytest.mark.parametrize("gap", ["\t", "\n", "\u00a0", "\u2009", "  \t "])
def test_normalise_treats_tabs_newlines_and_pasted_non_breaking_spaces_as_spaces(gap: str) -> None:
    assert normalise_postcode(f"{gap}WS7{gap}1AA{gap}") == "WS7 1AA"


def test_normalise_puts_the_space_before_the_last_three_characters_whatever_was_typed() -> None:
    assert normalise_postcode("WS71 AA") == "WS7 1AA"


def test_is_valid_postcode_answers_without_raising() -> None:
    assert is_valid_postcode("b33 8th")
    assert not is_valid_postcode("B33 8TC")
    assert not is_valid_postcode("")
    assert not is_valid_postcode(None)  # type: ignore[arg-type]


# --- the letter rules, one position at a time --------------------------------------------------


@pytest.mark.parametrize("letter", ALPHABET)
def test_first_letter_is_never_Q_V_or_X(letter: str) -> None:
    assert is_valid_postcode(f"{letter}1 1AA") is (letter not in "QVX")
    assert is_valid_postcode(f"{letter}A1 1AA") is (letter not in "QVX")


@pytest.mark.parametrize(("bad", "neighbour"), [("QA1 1AA", "PA1 1AA"), ("V1 1AA", "W1 1AA")])
def test_first_letter_refusal_names_the_letter_and_a_neighbour_passes(
    bad: str, neighbour: str
) -> None:
    message = refusal(bad)
    assert f"starts with {bad[0]!r}" in message
    assert "Q, V and X" in message
    assert is_valid_postcode(neighbour)


@pytest.mark.parametrize("letter", ALPHABET)
def test_second_letter_is_never_I_J_or_Z(letter: str) -> None:
    assert is_valid_postcode(f"A{letter}1 1AA") is (letter not in "IJZ")
    assert is_valid_postcode(f"A{letter}11 1AA") is (letter not in "IJZ")
    assert is_valid_postcode(f"E{letter}1A 1AA") is (letter not in "IJZ")


def test_second_letter_refusal_names_the_letter_and_a_neighbour_passes() -> None:
    message = refusal("SJ1 1AA")
    assert "'SJ1'" in message and "'J' as its second letter" in message
    assert is_valid_postcode("SK1 1AA")


def test_second_letter_rule_does_not_apply_to_the_third_character_of_A9A() -> None:
    # In W1J the J is third, not second, and J is allowed there.
    assert is_valid_postcode("W1J 1AA")


@pytest.mark.parametrize("letter", ALPHABET)
def test_A9A_districts_end_in_ABCDEFGHJKPSTUW(letter: str) -> None:
    assert is_valid_postcode(f"W1{letter} 1AA") is (letter in A9A_LAST)


def test_A9A_refusal_names_the_letter_and_a_neighbour_passes() -> None:
    message = refusal("W1L 1AA")
    assert "'W1L' ends in 'L'" in message
    assert "A B C D E F G H J K P S T U W" in message
    assert is_valid_postcode("W1K 1AA")


@pytest.mark.parametrize("letter", ALPHABET)
def test_AA9A_districts_end_in_ABEHMNPRVWXY(letter: str) -> None:
    assert is_valid_postcode(f"EC1{letter} 1BB") is (letter in AA9A_LAST)


def test_AA9A_refusal_names_the_letter_and_a_neighbour_passes() -> None:
    message = refusal("EC1C 1BB")
    assert "'EC1C' ends in 'C'" in message
    assert "A B E H M N P R V W X Y" in message
    assert is_valid_postcode("EC1B 1BB")


@pytest.mark.parametrize("letter", ALPHABET)
def test_inward_letters_exclude_CIKMOV(letter: str) -> None:
    allowed = letter not in "CIKMOV"
    assert is_valid_postcode(f"WS7 1{letter}A") is allowed
    assert is_valid_postcode(f"WS7 1A{letter}") is allowed


@pytest.mark.parametrize("letter", "CIKMOV")
def test_inward_letter_refusal_names_the_letter_and_a_neighbour_passes(letter: str) -> None:
    message = refusal(f"WS7 1A{letter}")
    assert f"the letter {letter!r}" in message
    assert "C, I, K, M, O and V" in message
    assert is_valid_postcode("WS7 1AB")


# --- shapes that are not postcodes -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["1A 1AA", "AAA1 1AA", "A1AA 1AA", "WS 1AA", "ASCN 1ZZ", "11 1AA", "9A9 1AA"],
)
def test_outward_parts_outside_the_six_formats_are_refused(text: str) -> None:
    message = refusal(text)
    assert "the outward part" in message
    assert "one or two letters, a digit" in message


@pytest.mark.parametrize("text", ["WS7 AAA", "WS7 11A", "WS7 1A1", "WS7 123", "WS7 1AAA"])
def test_inward_part_must_be_a_digit_then_two_letters(text: str) -> None:
    assert "the inward part must be a digit and two letters (like 1AA)" in refusal(text)


def test_the_documented_example_message_is_given_word_for_word() -> None:
    assert refusal("WS7 1AAA") == (
        "'WS7 1AAA' is not a UK postcode: "
        "the inward part must be a digit and two letters (like 1AA)"
    )


# --- the special cases we decided on ----------------------------------------------------------


def test_GIR_0AA_is_the_only_exception_to_the_letter_rules() -> None:
    assert normalise_postcode("gir 0aa") == "GIR 0AA"
    assert Postcode("GIR", "0AA").district == "GIR"
    assert "GIR is used only by GIR 0AA" in refusal("GIR 0AB")
    assert not is_valid_postcode("GIR 1AA")
    assert not is_valid_postcode("GIQ 0AA")  # not GIR, and I is never a second letter


@pytest.mark.parametrize("text", ["BF1 3AD", "BF1 4FB", "bf13aa"])
def test_british_forces_BFPO_postcodes_are_accepted_as_ordinary_postcodes(text: str) -> None:
    assert parse_postcode(text).area == "BF"


@pytest.mark.parametrize(
    "outward", ["ASCN", "STHL", "TDCU", "BBND", "BIQQ", "FIQQ", "PCRN", "SIQQ", "TKCA"]
)
def test_overseas_territory_postcodes_are_refused_as_not_UK(outward: str) -> None:
    assert f"'{outward} 1ZZ' is not a UK postcode" in refusal(f"{outward} 1ZZ")


def test_gibraltar_fits_the_UK_shape_and_so_is_accepted() -> None:
    assert normalise_postcode("gx11 1aa") == "GX11 1AA"


def test_P_ends_an_A9A_district_as_the_current_rules_allow() -> None:
    # Older copies of the rule omit P; refusing a real postcode would cost a family its incentive.
    assert is_valid_postcode("W1P 1AA")


# --- look-alike characters: reported, never swapped silently ----------------------------------


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("WS7 OAA", "WS7 0AA"),  # letter O where the inward digit goes
        ("SWIA 1AA", "SW1A 1AA"),  # letter I where a digit goes
        ("0X4 1AA", "OX4 1AA"),  # digit 0 where the area letter goes
        ("GIR OAA", "GIR 0AA"),
        ("SO1 OAA", "SO1 0AA"),  # the fewest swaps win: not 'S01 0AA'
    ],
)
def test_look_alike_letters_and_digits_are_suggested_not_silently_swapped(
    typed: str, suggestion: str
) -> None:
    message = refusal(typed)
    assert f"(did you mean {suggestion!r}?)" in message
    assert not is_valid_postcode(typed)


def test_no_suggestion_is_made_when_no_swap_helps() -> None:
    assert "did you mean" not in refusal("WS7 1OA")


# --- garbage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_text_is_refused_as_empty(text: str) -> None:
    assert refusal(text).endswith("is not a UK postcode: it is empty")


@pytest.mark.parametrize(
    ("text", "odd"),
    [
        ("WS7-1AA", "-"),
        ("WS7 1AA.", "."),
        ("!!!", "!"),
        ("WS7,1AA", ","),
        ("ẞW1 1AA", "ẞ"),
        ("WS７ 1AA", "７"),  # a full-width digit
        ("ws7 1aé", "é"),
    ],
)
def test_symbols_and_non_ascii_characters_are_refused_by_name(text: str, odd: str) -> None:
    message = refusal(text)
    assert f"it contains {odd!r}" in message
    assert "only the letters A to Z, the digits 0 to 9 and a space" in message


@pytest.mark.parametrize("text", ["12345", "1234567", "99 999"])
def test_digits_only_is_refused(text: str) -> None:
    assert f"{text!r} is not a UK postcode" in refusal(text)


def test_too_long_text_is_refused_and_says_how_long_a_postcode_is() -> None:
    message = refusal("WS77 1AAA")
    assert "too long (8 letters and digits" in message
    assert "5 to 7" in message


def test_too_short_text_is_refused_and_says_how_long_a_postcode_is() -> None:
    message = refusal("1A")
    assert "too short (2 letters and digits" in message


def test_a_district_alone_is_refused_with_a_hint_to_add_the_inward_part() -> None:
    message = refusal("ws7")
    assert message.startswith("'ws7' is not a UK postcode: it is only the outward part")
    assert "WS7 1AA" in message


def test_a_very_long_line_is_quoted_only_in_part() -> None:
    message = refusal("WS7 1AA " + "x" * 500)
    assert "'WS7 1AA xxxxxxxxxxxxxxxx...'" in message
    assert len(message) < 200


@pytest.mark.parametrize("value", [None, 12, b"WS7 1AA"])
def test_non_text_is_refused_with_a_postcode_error(value: object) -> None:
    assert "must be text" in refusal(value)


def test_errors_quote_the_text_as_typed_so_the_person_recognises_it() -> None:
    assert refusal("  ws7 1ao  ").startswith("'ws7 1ao' is not a UK postcode: ")


def test_postcode_error_is_a_validation_error_and_a_value_error() -> None:
    with pytest.raises(ValidationError):
        parse_postcode("nonsense")
    with pytest.raises(ValueError):
        normalise_postcode("nonsense")


# --- the Postcode value ------------------------------------------------------------------------


def test_a_postcode_cannot_be_built_from_invalid_parts() -> None:
    with pytest.raises(PostcodeError, match="'QS7 1AA' is not a UK postcode"):
        Postcode("QS7", "1AA")
    with pytest.raises(PostcodeError):
        Postcode("ws7", "1aa")  # parts must already be normalised: use parse_postcode
    with pytest.raises(PostcodeError, match="must be text"):
        Postcode(None, "1AA")  # type: ignore[arg-type]


def test_postcodes_are_values_equal_by_content_and_immutable() -> None:
    pc = parse_postcode("ws7 1aa")
    assert pc == Postcode("WS7", "1AA")
    assert len({pc, parse_postcode("WS71AA")}) == 1
    with pytest.raises(AttributeError):
        pc.outward = "WS8"  # type: ignore[misc]


# --- risk areas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kind", "value"),
    [
        ("WS7 1AA", "postcode", "WS7 1AA"),
        ("ws71aa", "postcode", "WS7 1AA"),
        (" ws7  1aa ", "postcode", "WS7 1AA"),
        ("WS7 1", "sector", "WS7 1"),
        ("ws7  1", "sector", "WS7 1"),
        ("ec1a 1", "sector", "EC1A 1"),
        ("WS7", "district", "WS7"),
        (" ws7 ", "district", "WS7"),
        ("ec1a", "district", "EC1A"),
        ("W1A", "district", "W1A"),
        ("M1", "district", "M1"),
        ("DN55", "district", "DN55"),
        ("GIR", "district", "GIR"),
        ("GIR 0", "sector", "GIR 0"),
    ],
)
def test_risk_area_reads_postcodes_sectors_and_districts(typed: str, kind: str, value: str) -> None:
    assert parse_risk_area(typed) == RiskArea(kind, value)  # type: ignore[arg-type]


def test_unspaced_district_and_digit_is_a_district_not_a_sector() -> None:
    # WS71 is itself a well-formed district; a sector must be written with its space.
    assert parse_risk_area("WS71") == RiskArea("district", "WS71")
    assert parse_risk_area("WS7 1") == RiskArea("sector", "WS7 1")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("WS7 A", "'WS7 A' is not a UK sector: a sector ends in one digit"),
        ("QS7 1", "'QS7 1' is not a UK sector: no postcode starts with 'Q'"),
        ("GIR 1", "'GIR 1' is not a UK sector: GIR is used only by GIR 0AA"),
        ("W1L", "'W1L' is not a UK district: 'W1L' ends in 'L'"),
        ("WS7 1AO", "'WS7 1AO' is not a UK postcode, sector or district: the inward part"),
        ("W S7 1", "'W S7 1' is not a UK postcode, sector or district: write a district"),
        ("WS7 12", "the inward part must be a digit and two letters"),
        ("", "'' is not a UK postcode, sector or district: it is empty"),
        ("WS7;", "it contains ';'"),
        ("WS77 1AAA", "too long"),
    ],
)
def test_risk_area_refusals_name_the_text_and_what_is_wrong(typed: str, expected: str) -> None:
    assert expected in risk_refusal(typed)


@pytest.mark.parametrize(
    ("typed", "suggestion"), [("WSI", "WS1"), ("WS7 O", "WS7 0"), ("SWIA 1", "SW1A 1")]
)
def test_risk_area_suggests_look_alike_fixes(typed: str, suggestion: str) -> None:
    assert f"(did you mean {suggestion!r}?)" in risk_refusal(typed)


def test_risk_areas_are_hashable_values_for_the_versioned_list() -> None:
    areas = {parse_risk_area("ws7 1"), parse_risk_area("WS7  1"), parse_risk_area("WS7")}
    assert areas == {RiskArea("sector", "WS7 1"), RiskArea("district", "WS7")}


# --- properties --------------------------------------------------------------------------------

_digit = st.sampled_from(DIGITS)
_outwards = st.one_of(
    st.tuples(st.sampled_from(FIRST_LETTERS), _digit),
    st.tuples(st.sampled_from(FIRST_LETTERS), _digit, _digit),
    st.tuples(st.sampled_from(FIRST_LETTERS), st.sampled_from(SECOND_LETTERS), _digit),
    st.tuples(st.sampled_from(FIRST_LETTERS), st.sampled_from(SECOND_LETTERS), _digit, _digit),
    st.tuples(st.sampled_from(FIRST_LETTERS), _digit, st.sampled_from(A9A_LAST)),
    st.tuples(
        st.sampled_from(FIRST_LETTERS),
        st.sampled_from(SECOND_LETTERS),
        _digit,
        st.sampled_from(AA9A_LAST),
    ),
).map("".join)
_inwards = st.tuples(_digit, st.sampled_from(INWARD_LETTERS), st.sampled_from(INWARD_LETTERS)).map(
    "".join
)
valid_postcodes = st.one_of(
    st.builds(lambda o, i: f"{o} {i}", _outwards, _inwards), st.just("GIR 0AA")
)

# Postcode-shaped text with any letter in any letter position: mostly near-misses of the rules.
_any_letter = st.sampled_from(ALPHABET)
_shapes = st.sampled_from(["A9", "A99", "AA9", "AA99", "A9A", "AA9A", "AAA9", "A9AA", "99"])
_inward_shapes = st.sampled_from(["9AA", "9AA", "9AA", "AAA", "99A", "9A9"])


@st.composite
def postcode_shaped(draw: st.DrawFn) -> str:
    shape = draw(_shapes) + draw(_inward_shapes)
    return "".join(draw(_any_letter) if ch == "A" else draw(_digit) for ch in shape)


@st.composite
def respaced(draw: st.DrawFn, text: str) -> str:
    """``text`` with random case and random whitespace around and between its characters."""
    gaps = st.sampled_from(["", "", " ", "  ", "\t", "\u00a0"])
    chars = [draw(st.sampled_from([ch.upper(), ch.lower()])) for ch in text.replace(" ", "")]
    return draw(gaps) + "".join(ch + draw(gaps) for ch in chars)


@given(valid_postcodes)
def test_property_every_postcode_built_by_the_rules_is_accepted(text: str) -> None:
    assert normalise_postcode(text) == text


@given(valid_postcodes, st.data())
def test_property_any_spacing_and_case_normalises_to_the_same_postcode(
    text: str, data: st.DataObject
) -> None:
    assert normalise_postcode(data.draw(respaced(text))) == text


@given(st.one_of(valid_postcodes, postcode_shaped(), st.text(max_size=12)))
def test_property_normalise_is_idempotent(text: str) -> None:
    try:
        once = normalise_postcode(text)
    except PostcodeError:
        return
    assert normalise_postcode(once) == once


@given(st.one_of(postcode_shaped(), valid_postcodes.map(lambda t: t.replace(" ", ""))))
def test_property_validation_agrees_with_the_published_rules(compact: str) -> None:
    assert is_valid_postcode(compact) is bool(ORACLE.fullmatch(compact))


@given(st.text(alphabet=ALPHABET + DIGITS + " ", max_size=9))
def test_property_arbitrary_text_agrees_with_the_published_rules(text: str) -> None:
    assert is_valid_postcode(text) is bool(ORACLE.fullmatch("".join(text.split())))


@given(valid_postcodes)
def test_property_sector_district_and_area_are_prefixes_of_the_postcode(text: str) -> None:
    pc = parse_postcode(text)
    assert str(pc).startswith(pc.sector)
    assert pc.sector.startswith(pc.district + " ")
    assert pc.district.startswith(pc.area) and pc.area


@given(valid_postcodes)
def test_property_a_postcodes_parts_read_back_as_risk_areas_of_their_kind(text: str) -> None:
    pc = parse_postcode(text)
    assert parse_risk_area(str(pc)) == RiskArea("postcode", str(pc))
    assert parse_risk_area(pc.sector) == RiskArea("sector", pc.sector)
    assert parse_risk_area(pc.district) == RiskArea("district", pc.district)


@given(st.text(max_size=30))
def test_property_any_text_is_either_accepted_or_refused_with_a_postcode_error(text: str) -> None:
    for parse in (parse_postcode, parse_risk_area):
        try:
            parse(text)
        except PostcodeError as exc:
            assert "is not a UK" in str(exc)
