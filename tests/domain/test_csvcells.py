"""The one CSV-cell rule: what a spreadsheet would run is kept as text."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.domain.csvcells import csv_dict_writer, csv_writer, safe_cell


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://evil.test","Hi")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "-2+3",
        "-",
        "+1 group",
        "-1",  # text that looks like a number is still text someone typed
        "\t=1+1",
        "\r=1+1",
        "\tplain",  # a leading tab or carriage return on its own, as OWASP says
        "\rplain",
        " =1+1",
        "\u00a0 \u3000@SUM(A1)",  # no-break and ideographic spaces before it
        "\n-2+3",
        "\uff1d1+1",  # full-width =
        "\uff0bcmd",  # full-width +
        "\uff0d2",  # full-width -
        "\uff20SUM(A1)",  # full-width @
        "\ufe661+1",  # small =
    ],
)
def test_a_cell_that_starts_like_a_formula_gets_a_quote_in_front(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["Anne-Marie", "Mia", "", " ", "O'Brien", "'=already quoted", "2016-04-04", "a=b", "Zoë"],
)
def test_ordinary_text_is_written_as_it_is(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("-3.00"), "-3.00"),
        (Decimal("1E+2"), "100"),
        (-2, "-2"),
        (0, "0"),
        (-0.5, "-0.5"),
        (None, ""),
    ],
)
def test_numbers_we_computed_stay_numbers(value, written):
    assert safe_cell(value) == written


def test_the_writers_neutralise_every_cell_and_a_csv_reader_gets_the_quoted_text_back():
    out = io.StringIO()
    w = csv_writer(out)
    w.writerow(["=1+1", "Anne-Marie", Decimal("-3.00"), 2])
    w.writerows([["+1 group", None]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["'=1+1", "Anne-Marie", "-3.00", "2"],
        ["'+1 group", ""],
    ]
    out = io.StringIO()
    d = csv_dict_writer(out, ("child", "adults"))
    d.writeheader()
    d.writerow({"child": "@SUM(A1)", "adults": 1})
    assert list(csv.DictReader(io.StringIO(out.getvalue()))) == [
        {"child": "'@SUM(A1)", "adults": "1"}
    ]


def test_no_csv_is_written_without_the_helper():
    """Every writer goes through :mod:`kiosk.domain.csvcells`: a plain ``csv.writer`` would
    write a name such as ``=HYPERLINK(...)`` as a formula again."""
    root = Path(__file__).resolve().parents[2]
    helper = root / "kiosk" / "domain" / "csvcells.py"
    raw = re.compile(r"\bcsv\.(writer|DictWriter)\b|^from csv import .*\b(writer|DictWriter)\b")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for package in ("kiosk", "central", "sync")
        for path in sorted((root / package).rglob("*.py"))
        if path != helper
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert offenders == []
