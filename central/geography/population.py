"""ONS small-area population estimates by single year of age, kept in versions.

``kiosk-central population import FILE`` reads one of the published layouts:

- **ONS by sex** (the "Lower layer Super Output Area population estimates" CSV, and the sheet
  of its XLSX workbook): ``LSOA 2021 Code`` (or ``LSOA 2011 Code``), ``Total``, ``F0`` ..
  ``F90`` and ``M0`` .. ``M90`` (90 is 90 and over); other columns (names, districts) are
  ignored. Females and males are added up; ``Total`` must be their sum.
- **ONS persons** (older editions): the LSOA code, ``All Ages`` and ``0`` .. ``90+``.
- **plain**: ``lsoa,age,count``, one row per LSOA and age (``90+`` may be written for 90). Ages
  not given are unknown (a file of the under-fives only is fine for ``--ages 0-4``).

The header is the first row that names an LSOA code column: the workbook's title and note rows
above it are skipped; in a workbook the first sheet with such a header is read (``--sheet``
picks another). Every data line is checked (an LSOA code like ``E01029750``, whole counts of
zero or more, the total, each LSOA or LSOA and age once) and every bad line is reported by its
number: then nothing is saved. An import that passes is the next version (number, file name,
SHA-256, layout, LSOA vintage, LSOAs and people); reports use the newest.

    >>> import_population(db, Path("sapelsoasyoa20222024.xlsx"))         # doctest: +SKIP
    PopulationImport(version=PopulationVersion(number=1, ...), ...)
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from central.db import (
    CentralDB,
    CentralError,
    population_estimates,
    population_versions,
    utcnow,
)
from kiosk.domain.lsoa import BadLines, normalise_header

#: Single years of age in the estimates: 0 to 89, and 90 for 90 and over.
OLDEST = 90
AGES = range(OLDEST + 1)
#: Bad lines kept with their message (all are counted).
PROBLEM_LIMIT = 200
#: Rows before the header that may be titles and notes (a workbook's first rows).
HEADER_SEARCH = 30
#: An LSOA (England E01, Wales W01) code.
LSOA_CODE = re.compile(r"^[EW]01\d{6}$")
_ZIP = b"PK\x03\x04"
_LSOA_COLUMNS: Mapping[str, int | None] = {
    "lsoa 2021 code": 2021,
    "lsoa21cd": 2021,
    "lsoa21": 2021,
    "lsoa code 2021": 2021,
    "lsoa 2011 code": 2011,
    "lsoa11cd": 2011,
    "lsoa11": 2011,
    "lsoa code 2011": 2011,
    "lsoa code": None,
    "lsoa": None,
}


class PopulationError(CentralError):
    """A population file that cannot be imported; ``problems``: (line, message) pairs."""

    def __init__(
        self,
        message: str,
        problems: Sequence[tuple[int, str]] = (),
        count: int = 0,
        where: str = "",
    ) -> None:
        super().__init__(message)
        self.problems = tuple(problems)
        self.count = count or len(self.problems)
        self.where = where

    def lines(self) -> list[str]:
        """``FILE: line N: message`` for each bad line kept."""
        return [f"{self.where}: line {n}: {m}" for n, m in self.problems]


@dataclass(frozen=True)
class PopulationFile:
    """A file read and checked: people by LSOA and age (``None``: an age the file does not give)."""

    source: str
    sha256: str
    layout: str  # "ons-by-sex", "ons-persons" or "plain"
    vintage: int | None
    counts: Mapping[str, tuple[int | None, ...]]
    sheet: str | None = None

    @property
    def people(self) -> int:
        return sum(sum(n for n in ages if n) for ages in self.counts.values())


@dataclass(frozen=True)
class PopulationVersion:
    number: int
    source: str
    sha256: str
    layout: str
    vintage: int | None
    lsoas: int
    people: int
    created_at: datetime

    def history_line(self) -> str:
        vintage = f"{self.vintage} LSOAs" if self.vintage else "LSOA vintage not stated"
        return (
            f"v{self.number}\t{self.created_at:%Y-%m-%d %H:%M}\t{self.source}\t{self.layout}\t"
            f"{vintage}\t{self.lsoas:,} LSOAs\t{self.people:,} people\tsha256:{self.sha256[:16]}"
        )


@dataclass(frozen=True)
class PopulationImport:
    file: PopulationFile
    version: PopulationVersion | None  # None for a dry run
    same_as_current: bool


# -- reading the file --------------------------------------------------------------------------
def _text_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_rows(data: bytes, source: str) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PopulationError(
            f"{source}: line {line}: not UTF-8 text (save it as 'CSV UTF-8'); nothing imported"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise PopulationError(f"{source}: line {reader.line_num}: {exc}") from None


def _xlsx_rows(
    data: bytes, source: str, sheet: str | None
) -> tuple[str, list[tuple[int, list[str]]]]:
    """The rows of the sheet with a header (or ``sheet``), as text, with their row numbers."""
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a server installed without the [server] extra
        raise PopulationError(
            f"{source} is an Excel workbook, and reading one needs openpyxl "
            "(pip install openpyxl), or save the sheet as 'CSV UTF-8'"
        ) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise PopulationError(f"{source}: not a readable Excel workbook ({exc})") from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise PopulationError(
                f"{source} has no sheet {sheet!r}; its sheets: {', '.join(names)}"
            )
        for name in [sheet] if sheet else names:
            rows = [
                (number, [_text_cell(v) for v in values])
                for number, values in enumerate(book[name].iter_rows(values_only=True), start=1)
            ]
            if sheet or _header_at(rows) is not None:
                return name, rows
        raise PopulationError(
            f"{source}: no sheet has an LSOA code column ('LSOA 2021 Code') in its first "
            f"{HEADER_SEARCH} rows; sheets: {', '.join(names)} (pick one with --sheet)"
        )
    finally:
        book.close()


def _header_at(rows: Sequence[tuple[int, list[str]]]) -> int | None:
    """The index in ``rows`` of the header: the first row naming an LSOA code column."""
    for i, (_number, row) in enumerate(rows[:HEADER_SEARCH]):
        if any(normalise_header(c) in _LSOA_COLUMNS for c in row):
            return i
    return None


def read_population(path: Path, sheet: str | None = None) -> PopulationFile:
    """Read and check ``path`` (CSV or XLSX); :class:`PopulationError` lists every bad line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PopulationError(f"cannot read {path}: {exc.strerror or exc}") from None
    source = path.name
    chosen = None
    if data[:4] == _ZIP:
        chosen, rows = _xlsx_rows(data, source, sheet)
        where = f"{source} (sheet {chosen!r})"
    else:
        if sheet is not None:
            raise PopulationError(f"--sheet is for an Excel workbook; {source} is not one")
        rows = list(_csv_rows(data, source))
        where = source
    layout, vintage, counts = parse_population_rows(rows, where)
    return PopulationFile(
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        layout=layout,
        vintage=vintage,
        counts=counts,
        sheet=chosen,
    )


def _count(text: str) -> int | None:
    cleaned = text.strip().replace(",", "")
    if not cleaned.isdigit() or not cleaned.isascii():
        return None
    return int(cleaned)


def _age(text: str) -> int | None:
    cleaned = text.strip().removesuffix("+").strip()
    if not cleaned.isdigit() or not cleaned.isascii():
        return None
    age = int(cleaned)
    return age if age <= OLDEST else None


def parse_population_rows(
    rows: Iterable[tuple[int, list[str]]], where: str
) -> tuple[str, int | None, dict[str, tuple[int | None, ...]]]:
    """``(layout, vintage, counts)`` from numbered rows (title rows, header, data)."""
    rows = list(rows)
    at = _header_at(rows)
    if at is None:
        found = next((r for _n, r in rows if any(c.strip() for c in r)), [])
        raise PopulationError(
            f"{where}: no LSOA code column: expected 'LSOA 2021 Code' (the ONS layouts) or "
            f"'lsoa' (lsoa,age,count) in the first {HEADER_SEARCH} rows; found "
            f"{', '.join(repr(c) for c in found if c.strip()) or 'nothing (is it empty?)'}"
        )
    header_line, header = rows[at]
    names = [normalise_header(c) for c in header]
    code_i = next(i for i, n in enumerate(names) if n in _LSOA_COLUMNS)
    vintage = _LSOA_COLUMNS[names[code_i]]
    data = rows[at + 1 :]
    problems = BadLines(where, limit=PROBLEM_LIMIT)
    if "age" in names and ("count" in names or "population" in names):
        layout = "plain"
        counts = _plain(data, names, code_i, problems)
    else:
        by_sex = [f"{s}{a}" for s in "fm" for a in AGES]
        persons = [str(a) for a in AGES]
        if all(n in names for n in by_sex):
            layout, columns = "ons-by-sex", [[names.index(f"{s}{a}") for s in "fm"] for a in AGES]
            total_names = ("total", "all ages")
        elif all(n in names for n in persons):
            layout, columns = "ons-persons", [[names.index(str(a))] for a in AGES]
            total_names = ("all ages", "total")
        else:
            missing = [c.upper() for c in by_sex if c not in names]
            raise PopulationError(
                f"{where}: line {header_line}: no single-year-of-age columns: expected F0..F90 "
                f"and M0..M90 (missing {', '.join(missing[:6])}"
                f"{'...' if len(missing) > 6 else ''}), or 0..90+, or 'lsoa,age,count'"
            )
        total_i = next((names.index(t) for t in total_names if t in names), None)
        counts = _wide(data, code_i, columns, total_i, problems)
    if problems.count:
        more = problems.count - len(problems.kept)
        raise PopulationError(
            f"{where}: {problems.count} bad line(s); nothing imported"
            + (f" ({more} more not shown)" if more else ""),
            problems.kept,
            problems.count,
            where,
        )
    if not counts:
        raise PopulationError(
            f"{where}: no LSOA rows after the header (line {header_line}); nothing imported"
        )
    return layout, vintage, counts


def _code(row: list[str], i: int, number: int, problems: BadLines) -> str | None:
    code = row[i].strip().upper() if i < len(row) else ""
    if not LSOA_CODE.match(code):
        problems.add(
            number,
            f"{code!r} is not an LSOA code like E01029750" if code else "no LSOA code",
        )
        return None
    return code


def _wide(
    rows: Sequence[tuple[int, list[str]]],
    code_i: int,
    columns: Sequence[Sequence[int]],
    total_i: int | None,
    problems: BadLines,
) -> dict[str, tuple[int | None, ...]]:
    out: dict[str, tuple[int | None, ...]] = {}
    first: dict[str, int] = {}
    wanted = [i for cols in columns for i in cols]
    for number, row in rows:
        cells = [row[i] if i < len(row) else "" for i in wanted]
        code_text = row[code_i].strip() if code_i < len(row) else ""
        if not code_text and not any(c.strip() for c in cells):
            continue  # a blank line, or a note under the table
        code = _code(row, code_i, number, problems)
        if code is None:
            continue
        if code in first:
            problems.add(number, f"LSOA {code} is given twice (first on line {first[code]})")
            continue
        first[code] = number
        ages: list[int | None] = []
        bad = False
        for age, cols in enumerate(columns):
            value = 0
            for i in cols:
                text = row[i] if i < len(row) else ""
                n = _count(text)
                if n is None:
                    problems.add(
                        number,
                        f"LSOA {code}: age {age}: {text.strip()!r} is not a whole number of "
                        "people (0 or more)",
                    )
                    bad = True
                    break
                value += n
            if bad:
                break
            ages.append(value)
        if bad:
            continue
        if total_i is not None:
            total = _count(row[total_i] if total_i < len(row) else "")
            if total is None or total != sum(a or 0 for a in ages):
                problems.add(
                    number,
                    f"LSOA {code}: the total {row[total_i].strip()!r} is not the sum of the ages "
                    f"({sum(a or 0 for a in ages):,}): is a column shifted or the line cut?",
                )
                continue
        out[code] = tuple(ages)
    return out


def _plain(
    rows: Sequence[tuple[int, list[str]]],
    names: Sequence[str],
    code_i: int,
    problems: BadLines,
) -> dict[str, tuple[int | None, ...]]:
    age_i = names.index("age")
    count_i = names.index("count") if "count" in names else names.index("population")
    by_lsoa: dict[str, list[int | None]] = {}
    first: dict[tuple[str, int], int] = {}
    for number, row in rows:
        if not any(c.strip() for c in row):
            continue
        code = _code(row, code_i, number, problems)
        if code is None:
            continue
        age_text = row[age_i] if age_i < len(row) else ""
        age = _age(age_text)
        if age is None:
            problems.add(number, f"age {age_text.strip()!r} is not a whole number from 0 to 90")
            continue
        count_text = row[count_i] if count_i < len(row) else ""
        count = _count(count_text)
        if count is None:
            problems.add(
                number, f"count {count_text.strip()!r} is not a whole number of people (0 or more)"
            )
            continue
        if (code, age) in first:
            problems.add(
                number,
                f"LSOA {code} age {age} is given twice (first on line {first[(code, age)]})",
            )
            continue
        first[(code, age)] = number
        by_lsoa.setdefault(code, [None] * len(AGES))[age] = count
    return {code: tuple(ages) for code, ages in by_lsoa.items()}


# -- versions ----------------------------------------------------------------------------------
def _version(row: Any) -> PopulationVersion:
    return PopulationVersion(
        row.number,
        row.source,
        row.sha256,
        row.layout,
        row.vintage,
        row.lsoas,
        row.people,
        row.created_at,
    )


def current_version(db: CentralDB) -> PopulationVersion | None:
    """The newest population version, or None before the first import."""
    with db.reading() as conn:
        row = conn.execute(
            select(population_versions).order_by(population_versions.c.number.desc()).limit(1)
        ).first()
    return _version(row) if row else None


def population_history(db: CentralDB) -> list[PopulationVersion]:
    with db.reading() as conn:
        rows = conn.execute(select(population_versions).order_by(population_versions.c.number))
        return [_version(r) for r in rows]


def import_population(
    db: CentralDB,
    path: Path,
    *,
    sheet: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PopulationImport:
    """Read and check ``path``, then save it as the next version (unless ``dry_run``), in one
    transaction: on any error nothing is saved."""
    read = read_population(path, sheet)
    current = current_version(db)
    same = current is not None and current.sha256 == read.sha256
    if dry_run:
        return PopulationImport(read, None, same)
    now = now or utcnow()
    with db.writing_shared("population") as conn:
        number = (conn.execute(select(func.max(population_versions.c.number))).scalar() or 0) + 1
        version = PopulationVersion(
            number=number,
            source=read.source[:200],
            sha256=read.sha256,
            layout=read.layout,
            vintage=read.vintage,
            lsoas=len(read.counts),
            people=read.people,
            created_at=now,
        )
        conn.execute(
            insert(population_versions).values(
                number=number,
                source=version.source,
                sha256=version.sha256,
                layout=version.layout,
                vintage=version.vintage,
                lsoas=version.lsoas,
                people=version.people,
                created_at=now,
            )
        )
        rows = [
            {"version": number, "lsoa": code, "counts": list(ages)}
            for code, ages in sorted(read.counts.items())
        ]
        for start in range(0, len(rows), 2_000):
            conn.execute(insert(population_estimates), rows[start : start + 2_000])
    return PopulationImport(read, version, same)


def children_in(
    db: CentralDB, youngest: int, oldest: int, lsoas: Iterable[str] | None = None
) -> tuple[PopulationVersion | None, dict[str, int | None]]:
    """People aged ``youngest`` to ``oldest`` per LSOA in the newest version (``None`` for an
    LSOA whose file does not give every one of those ages); only ``lsoas`` if given."""
    version = current_version(db)
    if version is None:
        return None, {}
    wanted = set(lsoas) if lsoas is not None else None
    out: dict[str, int | None] = {}
    pe = population_estimates
    with db.reading() as conn:
        rows = conn.execute(select(pe.c.lsoa, pe.c.counts).where(pe.c.version == version.number))
        for code, counts in rows:
            if wanted is not None and code not in wanted:
                continue
            ages = counts[youngest : oldest + 1]
            out[code] = None if any(n is None for n in ages) else sum(ages)
    return version, out
