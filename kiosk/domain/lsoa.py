"""Risk areas from official data: full postcodes in England's most deprived LSOAs.

The council defines geographic risk as living in the 0-30% most deprived lower-layer super output
areas (LSOAs) of England by the Index of Multiple Deprivation (IMD). This module turns the
published files into that list of postcodes. It is pure: it reads rows (lists of strings, as
``csv.reader`` gives them) and never opens a file; ``kiosk.lsoa_import`` does the file work
(streaming, hashing, the progress bar) around it.

This module holds the rule and its vocabulary (errors, header matching, bad lines,
``Selection``, ``AreaFilter``); ``kiosk.domain.lsoa_imd`` reads the IMD file (``choose_lsoas``)
and ``kiosk.domain.lsoa_postcodes`` the postcode directory (``choose_postcodes``).

Two files, either or both:

* **the ONS Postcode Directory** (ONSPD, or the NSPL): one row per postcode, ever. We read the
  postcode (``pcds``, else ``pcd``/``pcd7``/``pcd8``/``pcd2``), its termination date (``doterm``:
  blank while the postcode is live), its LSOA (``lsoa11``/``lsoa11cd`` for 2011 LSOAs,
  ``lsoa21``/``lsoa21cd`` for 2021 LSOAs; files from 2023 on carry both), and when asked its
  local authority (``oslaua``, ``ladNNcd``) and county (``oscty``, ``ctyNNcd``). Its ``imd``
  column (``imdNNind`` in newer layouts) is the postcode's LSOA's IMD rank *within its own
  nation*: England's index for English LSOAs, Wales', Scotland's and Northern Ireland's for
  theirs. Only English LSOAs (codes ``E01...``) are ranked against England; the rest are counted
  as "outside England" and never selected.
* **the English IMD file** (IoD2019 "File 1", or IoD2025, whose LSOAs are 2021 ones): one row
  per LSOA with its code (``LSOA code (2011)`` or ``(2021)``), its rank (1 = most deprived) and
  decile, and its local authority district (code and name). When given, it decides which LSOAs
  are selected, and the directory only says which postcodes lie in them.

Headers are matched case-insensitively, ignoring punctuation, spacing and a byte-order mark, so
``LSOA code (2011)``, ``lsoa_code_2011`` and ``LSOA11CD`` all name the same column.

The selection rule, precisely (``Selection``):

* ``--most-deprived P%``: the LSOAs whose IMD rank is at most ``floor(P/100 x N)``, where N is
  the number of LSOAs in England for the file's LSOA vintage: 32,844 for 2011 LSOAs (IoD2015,
  IoD2019), 33,755 for 2021 LSOAs (IoD2025). N is the national count on purpose, not the number
  of rows in the file: ranks are national, so a file cut down to one county ranks the same way.
  30% of 32,844 is 9,853.2, so ranks 1 to 9,853 are taken.
* ``--deciles 1-3``: the LSOAs in those IMD deciles. When a file has ranks but no deciles (the
  ONSPD), the decile is derived as published: decile d holds ranks up to ``floor(d/10 x N)``,
  i.e. ``decile = ceil(10 x rank / N)``. So ``--most-deprived 30%`` and ``--deciles 1-3`` always
  select the same LSOAs.
* A file with deciles but no ranks takes ``--most-deprived`` only in whole deciles (30% = 1-3).

Which postcodes (``choose_postcodes``): every postcode of the directory in a selected LSOA,
in the chosen local authorities or counties if any are given, that is **live** (blank
``doterm``). Terminated postcodes in selected areas are counted and listed (a sample, or all),
never silently dropped. A postcode that is not a valid UK postcode, or a bad rank, is a bad
line: like every risk import, the whole import then fails with each line named, unless the
admin asks to skip bad lines.

Local authority and county filters (``AreaFilter``): a GSS code (``E07000196``) or, with an IMD
file, a district name as that file spells it (``South Staffordshire``, any case). They apply to
the postcode directory's own columns when it has them (its current geography), else to the IMD
file's district of each LSOA. Several may be given; a postcode in any of them is in. A code
that matches nothing is an error (a typo would otherwise import an empty list).

Vintages: 2011 and 2021 LSOA codes mostly coincide, so a mix gives a plausible but wrong list.
We refuse it: by header (an IMD file of 2011 LSOAs with a directory that only has 2021 LSOAs),
and by code sets (when the IMD file lists every LSOA of England, a live English postcode whose
LSOA it does not list means the files disagree on the vintage).

Incomplete files: a live English postcode (in the chosen area, if any) whose LSOA the IMD file
does not list could never qualify, so the import is refused (``IncompleteImdError``) naming how
many postcodes and LSOAs, a sample and the first line: an IMD file cut short at a row boundary
reads as a valid shorter file and would otherwise give a short (or empty) list without a word.
An IMD file cut down to a county is fine with ``--county`` or ``--local-authority`` for it. A
file with no rows after its header is refused outright. A postcode with a blank LSOA code is
counted as "no lsoa", not as outside England.

``--most-deprived`` takes plain decimals only (``30``, ``30%``, ``2.5%``): not ``1e1`` or
``1/3``, which ``Fraction`` would read as 10 and a third. A share that selects no LSOA (0.001% of
32,844 is 0.33) gives an empty list, which the import refuses unless ``--allow-empty``.

>>> share = Selection.most_deprived("30%")
>>> share.max_rank(32_844)
9853
>>> Selection.from_deciles("1-3").ranks(32_844) == share.ranks(32_844)
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from kiosk.domain.errors import RiskListError, ValidationError

__all__ = [
    "ENGLAND_LSOAS",
    "LSOA_COLUMNS",
    "AreaFilter",
    "BadLines",
    "IncompleteImdError",
    "LsoaDataError",
    "LsoaError",
    "MissingColumnError",
    "ResolvedArea",
    "Selection",
    "VintageMismatchError",
    "find_column",
    "find_column_matching",
    "header_row",
    "no_rows_error",
    "normalise_header",
]

#: LSOAs in England, by LSOA vintage: the denominators of a "most deprived P%" rule.
ENGLAND_LSOAS: Mapping[int, int] = {2011: 32_844, 2021: 33_755}
#: The English IMD edition published on each LSOA vintage (IoD2015 shares 2011 LSOAs and their
#: count with IoD2019; we name the current one).
IMD_EDITION: Mapping[int, str] = {2011: "IMD 2019", 2021: "IMD 2025"}
#: English LSOA codes start so; Welsh ones W01, Scottish data zones S01.
ENGLISH_LSOA = "E01"
#: How many examples a summary shows (terminated postcodes, unknown LSOA codes).
SAMPLE_SIZE = 10
#: How many bad lines are kept with their message (all are counted).
PROBLEM_LIMIT = 1_000
#: Share of England's LSOAs an IMD file must list to count as nearly complete (``complete``).
COMPLETE_SHARE = Fraction(95, 100)
#: A share as typed: digits, a decimal point and more digits if any, a per cent sign if any.
_PLAIN_SHARE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*%?\s*")
#: A decile or a range of them, as typed (ASCII digits only: int() also reads other scripts').
_DECILE_PART = re.compile(r"([0-9]+)(?:-([0-9]+))?")
#: A GSS code: a nation letter and eight digits (E07000196, E10000028, W06000001).
_GSS_CODE = re.compile(r"^[ENSWLMK]\d{8}$")

#: The LSOA code columns of either file, by LSOA vintage (normalised: see normalise_header).
LSOA_COLUMNS: Mapping[int, tuple[str, ...]] = {
    2011: ("lsoa11", "lsoa11cd", "lsoa11 code", "lsoa code 2011", "lsoa code 11"),
    2021: ("lsoa21", "lsoa21cd", "lsoa21 code", "lsoa code 2021", "lsoa code 21"),
}


# == errors =======================================================================================


class LsoaError(ValidationError):
    """An LSOA import that cannot go ahead; the message says which file and what to do."""


class MissingColumnError(LsoaError):
    """A file without a column the import needs: names the file, what was expected and found."""

    def __init__(self, source: str, wanted: str, expected: Sequence[str], found: Sequence[str]):
        self.source = source
        self.wanted = wanted
        self.expected = tuple(expected)
        self.found = tuple(found)
        shown = ", ".join(repr(f) for f in found) if found else "nothing (is the file empty?)"
        super().__init__(
            f"{source}: no {wanted} column: expected one of {', '.join(expected)} (any case); "
            f"found {shown}"
        )


class VintageMismatchError(LsoaError):
    """The postcode directory and the IMD file use different LSOA vintages (2011 and 2021)."""


class IncompleteImdError(LsoaError):
    """The IMD file does not rank LSOAs that live English postcodes of the directory are in."""


def no_rows_error(source: str, header_line: int) -> LsoaError:
    return LsoaError(
        f"{source}: no rows after the header (line {header_line}): the file is empty or cut "
        "short (an interrupted download or copy?); the risk list is unchanged"
    )


class LsoaDataError(RiskListError, LsoaError):
    """Bad lines (``problems``: up to PROBLEM_LIMIT ``(line, message)`` pairs; ``count``: all)."""

    def __init__(self, problems: list[tuple[int, str]], source: str, count: int) -> None:
        super().__init__(problems, source)
        self.count = count


# == headers ======================================================================================


def normalise_header(text: str) -> str:
    """A column name as compared: lower case, punctuation and spacing folded, no BOM.

    >>> normalise_header("\\ufeffLSOA code (2011)")
    'lsoa code 2011'
    """
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.replace("\ufeff", "").lower()).split())


def find_column(headers: Sequence[str], names: Iterable[str]) -> int | None:
    wanted = list(names)
    for name in wanted:
        if name in headers:
            return headers.index(name)
    return None


def find_column_matching(headers: Sequence[str], pattern: re.Pattern[str]) -> int | None:
    return next((i for i, h in enumerate(headers) if pattern.match(h)), None)


def header_row(rows: Iterator[list[str]]) -> tuple[int, list[str]]:
    """The header (skipping blank lines before it) and its line number."""
    for number, row in enumerate(rows, start=1):
        if any(cell.strip() for cell in row):
            return number, row
    return 0, []


class BadLines:
    """Bad lines of a file: the first ``limit`` kept with their message, all counted (the LSOA
    imports here, the population import in ``central.geography.population``)."""

    def __init__(self, source: str, limit: int = PROBLEM_LIMIT) -> None:
        self.source = source
        self.limit = limit
        self.kept: list[tuple[int, str]] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.kept) < self.limit:
            self.kept.append((line, message))

    def check(self, skip: bool) -> None:
        if self.count and not skip:
            raise LsoaDataError(self.kept, self.source, self.count)


# == the selection rule ===========================================================================


def _plain(number: Fraction) -> str:
    return str(number.numerator) if number.denominator == 1 else f"{float(number):g}"


@dataclass(frozen=True)
class Selection:
    """Which LSOAs count as deprived: a share of England's ranks, or a set of deciles."""

    percent: Fraction | None = None
    deciles: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if (self.percent is None) == (not self.deciles):
            raise LsoaError("give either a share (--most-deprived 30%) or deciles (--deciles 1-3)")

    @classmethod
    def most_deprived(cls, text: str) -> Selection:
        """``"30%"`` (or ``"30"``, ``"12.5%"``): the most deprived share of England's LSOAs."""
        # Only plain decimals: Fraction (and float) would also read "1e1" as 10 and "1/3" as a
        # third of one per cent, which nobody typing a share means.
        plain = _PLAIN_SHARE.fullmatch(str(text))
        if plain is None:
            raise LsoaError(
                f"--most-deprived {text!r} must be a plain percentage like 30, 30% or 2.5% (the "
                "most deprived share of England's LSOAs)"
            )
        percent = Fraction(plain[1])
        if not 0 < percent <= 100:
            raise LsoaError(f"--most-deprived {text!r} must be more than 0% and at most 100%")
        return cls(percent=percent)

    @classmethod
    def from_deciles(cls, text: str) -> Selection:
        """``"1-3"``, ``"1,2,3"`` or ``"1-2,5"``: IMD deciles, 1 the most deprived tenth."""
        chosen: set[int] = set()
        for part in str(text).replace(" ", "").split(","):
            found = _DECILE_PART.fullmatch(part)
            if found is None:
                raise LsoaError(f"--deciles {text!r} must be deciles 1 to 10 like 1-3 or 1,2,3")
            first, last = int(found[1]), int(found[2] or found[1])
            if not 1 <= first <= last <= 10:
                raise LsoaError(f"--deciles {text!r}: deciles go from 1 (most deprived) to 10")
            chosen.update(range(first, last + 1))
        return cls(deciles=frozenset(chosen))

    def max_rank(self, lsoas: int) -> int:
        """The largest rank a share takes: ``floor(percent/100 x lsoas)``."""
        if self.percent is None:
            raise LsoaError("a decile selection has no single largest rank")
        return int(self.percent * lsoas / 100)

    def ranks(self, lsoas: int) -> bytearray:
        """A table ``t`` with ``t[rank] == 1`` for each selected rank from 1 to ``lsoas``."""
        table = bytearray(lsoas + 1)
        if self.percent is not None:
            table[1 : self.max_rank(lsoas) + 1] = b"\x01" * self.max_rank(lsoas)
        else:
            for rank in range(1, lsoas + 1):
                if -(-10 * rank // lsoas) in self.deciles:
                    table[rank] = 1
        return table

    def deciles_for_share(self, source: str) -> frozenset[int]:
        """The deciles a share means, for a file with deciles only (30% -> 1-3)."""
        if self.percent is None:
            return self.deciles
        if self.percent % 10:
            raise LsoaError(
                f"{source} has IMD deciles but no ranks, so --most-deprived takes whole deciles "
                f"only (10%, 20%, 30%...), not {_plain(self.percent)}%; or use --deciles"
            )
        return frozenset(range(1, int(self.percent) // 10 + 1))

    def describe(self, edition: str, lsoas: int) -> str:
        """E.g. ``IMD 2019 rank <= 30% (9,853 LSOAs)`` or ``IMD 2019 deciles 1-3``."""
        if self.percent is not None:
            return f"{edition} rank <= {_plain(self.percent)}% ({self.max_rank(lsoas):,} LSOAs)"
        return f"{edition} deciles {_ranges(sorted(self.deciles))}"


def _ranges(numbers: Sequence[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ",".join(parts)


# == the area filter ==============================================================================


@dataclass(frozen=True)
class AreaFilter:
    """Local authorities (codes or names) and counties (codes) to keep; empty keeps all."""

    local_authorities: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for county in self.counties:
            if not _GSS_CODE.match(county.strip().upper()):
                raise LsoaError(
                    f"--county {county!r} must be a county code like E10000028 (the ONSPD's "
                    "oscty column)"
                )

    @property
    def active(self) -> bool:
        return bool(self.local_authorities or self.counties)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(
            a.strip().upper() for a in self.local_authorities if _GSS_CODE.match(a.strip().upper())
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            a.strip() for a in self.local_authorities if not _GSS_CODE.match(a.strip().upper())
        )

    @property
    def county_codes(self) -> tuple[str, ...]:
        return tuple(c.strip().upper() for c in self.counties)

    def resolve(self, lad_names: Mapping[str, str], source: str | None) -> ResolvedArea:
        """Names turned into codes with the IMD file's district names (``lad_names``)."""
        codes = dict.fromkeys(self.codes)
        if self.names and source is None:
            raise LsoaError(
                f"--local-authority {self.names[0]!r}: a district name needs the IMD file "
                "(--imd), whose 'Local Authority District name' column gives its code; or give "
                "the code itself, like E07000196"
            )
        by_name = {_fold(name): code for code, name in lad_names.items()}
        for name in self.names:
            code = by_name.get(_fold(name))
            if code is None:
                import difflib

                close = difflib.get_close_matches(name, list(lad_names.values()), n=3)
                hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
                raise LsoaError(
                    f"--local-authority {name!r}: no district of that name in {source}{hint}"
                )
            codes[code] = None
        return ResolvedArea(tuple(codes), self.county_codes, dict(lad_names))


def _fold(name: str) -> str:
    return " ".join(name.casefold().replace("&", "and").split())


@dataclass(frozen=True)
class ResolvedArea:
    """An ``AreaFilter`` with names turned into codes."""

    lad_codes: tuple[str, ...] = ()
    county_codes: tuple[str, ...] = ()
    lad_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.lad_codes or self.county_codes)

    def describe(self) -> str:
        parts = []
        if self.lad_codes:
            named = [
                f"{c} ({self.lad_names[c]})" if self.lad_names.get(c) else c for c in self.lad_codes
            ]
            parts.append("LAD " + ", ".join(named))
        if self.county_codes:
            parts.append("county " + ", ".join(self.county_codes))
        return "; ".join(parts)
