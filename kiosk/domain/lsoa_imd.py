"""The English IMD file's side of the LSOA import: which LSOAs a ``Selection`` takes.

The rule and its vocabulary are in ``kiosk.domain.lsoa``; the postcode directory's side is
``kiosk.domain.lsoa_postcodes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kiosk.domain.lsoa import (
    COMPLETE_SHARE,
    ENGLAND_LSOAS,
    IMD_EDITION,
    LSOA_COLUMNS,
    BadLines,
    MissingColumnError,
    Selection,
    find_column,
    find_column_matching,
    header_row,
    no_rows_error,
    normalise_header,
)

__all__ = ["ImdLayout", "LsoaChoice", "choose_lsoas", "imd_layout"]

# The IMD file's column names, normalised (see normalise_header).
_IMD_RANK = re.compile(r"^(?:index of multiple deprivation imd rank\b.*|imd rank|imdrank)$")
_IMD_DECILE = re.compile(r"^(?:index of multiple deprivation imd decile\b.*|imd decile|imddecile)$")
_IMD_LAD_CODE = re.compile(r"^(?:local authority district code\b.*|lad\d\dcd|lad\d\d code|ladcd)$")
_IMD_LAD_NAME = re.compile(r"^(?:local authority district name\b.*|lad\d\dnm|lad\d\d name|ladnm)$")


# == the IMD file =================================================================================


@dataclass(frozen=True)
class ImdLayout:
    """Where the IMD file keeps what we read (column indices) and its LSOA vintage."""

    code: int
    code_header: str
    vintage: int
    rank: int | None
    decile: int | None
    lad_code: int | None
    lad_name: int | None

    @property
    def width(self) -> int:
        """Fields a row needs for every column we read."""
        cols = (self.code, self.rank, self.decile, self.lad_code, self.lad_name)
        return 1 + max(c for c in cols if c is not None)


def imd_layout(header: Sequence[str], source: str) -> ImdLayout:
    """The IMD file's columns, found case-insensitively; ``MissingColumnError`` names the gap."""
    names = [normalise_header(h) for h in header]
    code = vintage = None
    for year, candidates in LSOA_COLUMNS.items():
        code = find_column(names, candidates)
        if code is not None:
            vintage = year
            break
    if code is None or vintage is None:
        raise MissingColumnError(
            source,
            "LSOA code",
            ["LSOA code (2011)", "LSOA code (2021)", "lsoa11cd", "lsoa21cd"],
            header,
        )
    rank = find_column_matching(names, _IMD_RANK)
    decile = find_column_matching(names, _IMD_DECILE)
    if rank is None and decile is None:
        raise MissingColumnError(
            source,
            "IMD rank or decile",
            [
                "Index of Multiple Deprivation (IMD) Rank",
                "Index of Multiple Deprivation (IMD) Decile",
            ],
            header,
        )
    return ImdLayout(
        code=code,
        code_header=header[code].replace("\ufeff", "").strip(),
        vintage=vintage,
        rank=rank,
        decile=decile,
        lad_code=find_column_matching(names, _IMD_LAD_CODE),
        lad_name=find_column_matching(names, _IMD_LAD_NAME),
    )


@dataclass(frozen=True)
class LsoaChoice:
    """What the IMD file selected: LSOA code -> its district code (``""`` if the file has none)."""

    source: str
    layout: ImdLayout
    selected: Mapping[str, str]
    known: frozenset[str]
    rows: int
    lad_names: Mapping[str, str]
    rule: str

    @property
    def vintage(self) -> int:
        return self.layout.vintage

    @property
    def lsoas(self) -> int:
        return ENGLAND_LSOAS[self.vintage]

    @property
    def complete(self) -> bool:
        """Whether the file lists (nearly) every LSOA of England, so unknown codes mean a mix."""
        return len(self.known) >= COMPLETE_SHARE * self.lsoas


def choose_lsoas(
    rows: Iterable[list[str]], source: str, selection: Selection, *, skip_invalid: bool = False
) -> LsoaChoice:
    """Read an IMD file's rows (header first) and select LSOAs by ``selection``.

    Raises ``MissingColumnError`` for a missing column and ``LsoaDataError`` listing every bad
    line (a blank or repeated code, a rank or decile out of range) unless ``skip_invalid``.
    """
    it = iter(rows)
    header_line, header = header_row(it)
    layout = imd_layout(header, source)
    lsoas = ENGLAND_LSOAS[layout.vintage]
    rank_i, decile_i = layout.rank, layout.decile
    # Ranks for a share, the published deciles for deciles; else whichever the file has.
    by_rank = rank_i is not None and (selection.percent is not None or decile_i is None)
    table = selection.ranks(lsoas) if by_rank else bytearray()
    deciles = frozenset() if by_rank else selection.deciles_for_share(source)
    rule_selection = selection if by_rank else Selection(deciles=deciles)
    selected: dict[str, str] = {}
    known: set[str] = set()
    lad_names: dict[str, str] = {}
    problems = BadLines(source)
    width = layout.width
    count = 0
    for number, row in enumerate(it, start=header_line + 1):
        if len(row) < width:
            if any(cell.strip() for cell in row):
                problems.add(number, f"the row has {len(row)} fields, the header {len(header)}")
            continue
        count += 1
        code = row[layout.code].strip().upper()
        if not code:
            problems.add(number, "no LSOA code")
            continue
        if code in known:
            problems.add(number, f"LSOA {code} is listed twice")
            continue
        known.add(code)
        lad = row[layout.lad_code].strip().upper() if layout.lad_code is not None else ""
        if lad and lad not in lad_names:
            lad_names[lad] = row[layout.lad_name].strip() if layout.lad_name is not None else ""
        if by_rank:
            text = row[rank_i]  # type: ignore[index]
            rank = _number(text, 1, lsoas)
            if rank is None:
                problems.add(
                    number,
                    f"IMD rank {text.strip()!r} is not a whole number from 1 to {lsoas:,} (the "
                    f"LSOAs of England in {layout.vintage}); is the file's LSOA vintage right?",
                )
            elif table[rank]:
                selected[code] = lad
        else:
            text = row[decile_i]  # type: ignore[index]
            decile = _number(text, 1, 10)
            if decile is None:
                problems.add(number, f"IMD decile {text.strip()!r} is not a whole number 1 to 10")
            elif decile in deciles:
                selected[code] = lad
    problems.check(skip=skip_invalid)
    if not count:
        raise no_rows_error(source, header_line)
    return LsoaChoice(
        source=source,
        layout=layout,
        selected=selected,
        known=frozenset(known),
        rows=count,
        lad_names=lad_names,
        rule=rule_selection.describe(IMD_EDITION[layout.vintage], lsoas),
    )


def _number(text: str, low: int, high: int) -> int | None:
    try:
        value = int(text.strip().replace(",", ""))
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            return None
        if not as_float.is_integer():
            return None
        value = int(as_float)
    return value if low <= value <= high else None
