"""Spreadsheet-safe CSV: text that a spreadsheet would run as a formula is written as text.

Every CSV the project writes (the kiosk's attendance export, the registers, the invoice
backing sheet that goes to the council, the reach report, on the command line and as web
downloads) is opened in Excel or LibreOffice by someone. A family name, a child's name or a
session name such as ``=HYPERLINK("http://evil","Click")`` or ``+cmd|' /C calc'!A0`` would
otherwise run there as a formula (CSV or formula injection). So, following OWASP's rule, a text
cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, also after leading
whitespace, and also in the full-width or small forms (``＝``, ``＋``...) that some spreadsheets
accept, gets a single quote in front. The quote is kept in the file (and shown by the
spreadsheet), so a reader always sees exactly what was typed, behind the quote.

Numbers the project computes itself (counts, amounts) are passed in as numbers (``int``,
``Decimal``, ``float``), not text, and are written as they are: ``Decimal('-3.00')`` stays
``-3.00`` and a spreadsheet still adds it up. Text is always treated as untrusted, even when it
looks like a number: a session called ``-1`` comes out as ``'-1``, which is what was typed.

    >>> safe_cell("=1+1"), safe_cell("  @SUM(A1)")
    ("'=1+1", "'  @SUM(A1)")
    >>> safe_cell("Anne-Marie"), safe_cell("+1 group"), safe_cell(Decimal("-3.00"))
    ('Anne-Marie', "'+1 group", '-3.00')

Use :func:`csv_writer` or :func:`csv_dict_writer` in place of ``csv.writer`` and
``csv.DictWriter``: they neutralise every cell, so no writer can forget to.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TextIO

#: What a cell may not begin with (OWASP's list); compared after NFKC, so that the full-width
#: and small forms (U+FF1D, U+FE66...) count too.
FORMULA_STARTS = frozenset("=+-@\t\r")

#: What goes in front of a cell that would be a formula.
TEXT_PREFIX = "'"


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as the start of a formula."""
    if text[:1] in FORMULA_STARTS:  # tab and carriage return are whitespace: look first
        return True
    first = text.lstrip()[:1]
    return bool(first) and unicodedata.normalize("NFKC", first)[:1] in FORMULA_STARTS


def safe_cell(value: object) -> str:
    """The text to write for one cell: numbers as they are, text neutralised, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")  # never 1E+2
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return TEXT_PREFIX + text if is_formula_like(text) else text


def safe_row(row: Iterable[object]) -> list[str]:
    """:func:`safe_cell` of each cell of ``row``."""
    return [safe_cell(v) for v in row]


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: TextIO, **fmt: Any) -> None:
        self._writer = csv.writer(out, **fmt)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """``csv.DictWriter`` whose every cell goes through :func:`safe_cell`."""

    def __init__(self, out: TextIO, fieldnames: Sequence[str], **fmt: Any) -> None:
        self.fieldnames = tuple(fieldnames)
        self._writer = csv.DictWriter(out, fieldnames=self.fieldnames, **fmt)

    def writeheader(self) -> None:
        self._writer.writerow({name: safe_cell(name) for name in self.fieldnames})

    def writerow(self, row: Mapping[str, object]) -> None:
        self._writer.writerow({k: safe_cell(v) for k, v in row.items()})

    def writerows(self, rows: Iterable[Mapping[str, object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO, lineterminator: str = "\n") -> SafeWriter:
    """A spreadsheet-safe ``csv.writer`` on ``out`` (one line ends with ``\\n``, as ours do)."""
    return SafeWriter(out, lineterminator=lineterminator)


def csv_dict_writer(
    out: TextIO, fieldnames: Sequence[str], lineterminator: str = "\n"
) -> SafeDictWriter:
    """A spreadsheet-safe ``csv.DictWriter`` on ``out``."""
    return SafeDictWriter(out, fieldnames, lineterminator=lineterminator)
