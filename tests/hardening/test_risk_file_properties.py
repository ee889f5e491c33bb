"""``parse_risk_file``: never raises, reports every bad line by its number, and reads back
every valid line exactly (plain files and CSVs alike)."""

from __future__ import annotations

import csv
import io
import string

from hypothesis import example, given, settings
from hypothesis import strategies as st

from kiosk.domain.postcodes import PostcodeError, RiskArea, parse_risk_area
from kiosk.domain.risk import ParsedRiskFile, RiskList, digest_areas, parse_risk_file
from tests.hardening.test_postcode_properties import A9A_LAST, FIRST, SECOND

_digit = st.sampled_from(string.digits)
_inward_letter = st.sampled_from("ABDEFGHJLNPQRSTUWXYZ")
_outward = st.one_of(
    st.tuples(st.sampled_from(FIRST), _digit),
    st.tuples(st.sampled_from(FIRST), st.sampled_from(SECOND), _digit, _digit),
    st.tuples(st.sampled_from(FIRST), _digit, st.sampled_from(A9A_LAST)),
).map("".join)
#: Valid entries as the file should hold them, with the area each must read back as.
valid_entry = st.one_of(
    st.builds(
        lambda o, d, a, b: RiskArea("postcode", f"{o} {d}{a}{b}"),
        _outward,
        _digit,
        _inward_letter,
        _inward_letter,
    ),
    st.builds(lambda o, d: RiskArea("sector", f"{o} {d}"), _outward, _digit),
    st.builds(lambda o: RiskArea("district", o), _outward),
)
#: Lines that are certainly not entries (each refused by parse_risk_area on its own).
bad_entry = st.one_of(
    st.sampled_from(["WS7 1AAA", "QS7 1AA", "W1L", "WS7 A", "hello world", "WS7;", "12345"]),
    st.text(alphabet="XYZ!?;.", min_size=1, max_size=8).filter(lambda t: t.strip()),
)
#: Any text at all: control characters, quotes, commas, stray carriage returns, NULs.
hostile = st.lists(
    st.one_of(
        st.characters(),
        st.sampled_from(['"', ",", "\r", "\n", "\r\n", "\x00", "#", "postcode", "\u2028", "\x0c"]),
    ),
    max_size=120,
).map("".join)


def _case(text: str, upper: bool) -> str:
    return text.upper() if upper else text.lower()


def _assert_well_formed(parsed: ParsedRiskFile, text: str) -> None:
    assert isinstance(parsed, ParsedRiskFile)
    lines = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for number, message in parsed.problems:
        assert 1 <= number <= lines, (number, lines)
        assert isinstance(message, str) and message
    assert list(parsed.problems) == sorted(parsed.problems)


@settings(max_examples=500, deadline=None)
@given(hostile)
@example("postcode\nWS7 1AA\rX\n")  # a stray carriage return inside a CSV
@example('postcode,x\n"WS7 1AA\n')  # a quote never closed
@example("postcode\n" + "A" * 200_000)  # a field over the csv module's size limit
@example("postcode\n\x00WS7 1AA\n")
@example("a,b\n")
def test_any_text_is_read_without_raising(text: str) -> None:
    _assert_well_formed(parse_risk_file(text), text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(valid_entry, bad_entry), st.booleans(), st.sampled_from(["", " "])),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.sampled_from(["", "# a comment", "   "]), max_size=5),
    st.sampled_from(["\n", "\r\n"]),
)
def test_every_bad_line_of_a_plain_file_is_reported_by_its_number(lines, extras, newline):
    rows: list[str] = list(extras)  # blank lines and comments first: numbers must count them
    expected_bad: list[int] = []
    expected_areas: set[RiskArea] = set()
    for entry, upper, pad in lines:
        if isinstance(entry, RiskArea):
            rows.append(pad + _case(entry.value, upper) + pad)
            expected_areas.add(entry)
        else:
            rows.append(entry)
            expected_bad.append(len(rows))
    text = newline.join(rows) + newline
    parsed = parse_risk_file(text)
    assert [n for n, _ in parsed.problems] == expected_bad
    assert parsed.areas == expected_areas
    _assert_well_formed(parsed, text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(valid_entry, bad_entry), min_size=1, max_size=25),
    st.integers(min_value=0, max_value=2),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_every_bad_row_of_a_csv_is_reported_by_its_line_number(entries, column, newline, multi):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    header = ["ward", "lsoa", "imd"]
    header.insert(column, "Postcode")
    writer.writerow(header)
    expected_bad: list[int] = []
    expected_areas: set[RiskArea] = set()
    line = 1
    for n, entry in enumerate(entries):
        # A note that spans two lines (quoted) moves every later row down a line.
        note = "first line\nsecond line" if multi and n % 3 == 0 else f"row {n}"
        row = ["Lichfield", note, "1"]
        value = entry.value if isinstance(entry, RiskArea) else entry
        row.insert(column, value)
        writer.writerow(row)
        line += 1
        if isinstance(entry, RiskArea):
            expected_areas.add(entry)
        else:
            expected_bad.append(line)
        line += note.count("\n")
    parsed = parse_risk_file(out.getvalue())
    assert [n for n, _ in parsed.problems] == expected_bad
    assert parsed.areas == expected_areas


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_entry, max_size=30), st.booleans())
def test_valid_entries_round_trip_through_a_file_and_a_version(entries, as_csv):
    areas = frozenset(entries)
    if as_csv:
        text = "postcode\n" + "".join(f"{a.value.lower()}\n" for a in entries)
    else:
        text = "# council list\n\n" + "".join(f"  {a.value}  # kept\n" for a in entries)
    parsed = parse_risk_file(text)
    assert parsed.problems == ()
    assert parsed.areas == areas
    version = RiskList(1, parsed.areas)
    again = RiskList.from_dict(version.to_dict())
    assert again.areas == areas
    assert again.digest == digest_areas(areas) == version.digest
    # Writing the list back out as a file reads back the same list.
    assert parse_risk_file("\n".join(a.value for a in again.areas)).areas == areas


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(valid_entry.map(lambda a: a.value), bad_entry, hostile), max_size=10))
def test_a_file_says_exactly_what_each_line_would_say_alone(raw_lines):
    lines = [ln.replace("\r", " ").replace("\n", " ") for ln in raw_lines]
    lines = [ln for ln in lines if "," not in ln and ln.strip().lower() != "postcode"]
    parsed = parse_risk_file("\n".join(lines))
    alone: dict[int, str] = {}
    areas = set()
    for number, line in enumerate(lines, start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            areas.add(parse_risk_area(entry))
        except PostcodeError as exc:
            alone[number] = str(exc)
    assert dict(parsed.problems) == alone
    assert parsed.areas == areas
