"""Risk areas from official data: full postcodes in England's most deprived LSOAs.

The council defines geographic risk as living in the 0-30% most deprived lower-layer super output
areas (LSOAs) of England by the Index of Multiple Deprivation (IMD). This module turns the
published files into that list of postcodes. It is pure: it reads rows (lists of strings, as
``csv.reader`` gives them) and never opens a file; ``kiosk.lsoa_import`` does the file work
(streaming, hashing, the progress bar) around it.

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
from kiosk.domain.postcodes import PostcodeError, parse_postcode

__all__ = [
    "ENGLAND_LSOAS",
    "AreaFilter",
    "ImdLayout",
    "IncompleteImdError",
    "LsoaChoice",
    "LsoaDataError",
    "LsoaError",
    "MissingColumnError",
    "PostcodeLayout",
    "PostcodeSelection",
    "Selection",
    "VintageMismatchError",
    "choose_lsoas",
    "choose_postcodes",
    "imd_layout",
    "normalise_header",
    "normalise_postcode_fast",
    "postcode_layout",
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

#: A postcode already in the form ``parse_postcode`` gives, by the same rules (see
#: ``kiosk.domain.postcodes``): outward A9, A99, AA9, AA99, A9A or AA9A with the letter rules, one
#: space, inward 9AA without C I K M O V; or GIR 0AA. The directory's ``pcds`` is in this form,
#: so most rows skip the full parser; anything else goes through ``parse_postcode``.
_CANONICAL_POSTCODE = re.compile(
    r"(?:[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][ABCDEFGHJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}|GIR 0AA)"
)

# Column names, normalised (see normalise_header).
_POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8", "pcd2", "postcode")
_DOTERM_COLUMNS = ("doterm",)
_LSOA_COLUMNS: Mapping[int, tuple[str, ...]] = {
    2011: ("lsoa11", "lsoa11cd", "lsoa11 code", "lsoa code 2011", "lsoa code 11"),
    2021: ("lsoa21", "lsoa21cd", "lsoa21 code", "lsoa code 2021", "lsoa code 21"),
}
_LAD_COLUMN = re.compile(r"^(?:oslaua|laua|lad|ladcd|lad\d\dcd|lad\d\d code)$")
_COUNTY_COLUMN = re.compile(r"^(?:oscty|cty|ctycd|cty\d\dcd)$")
_ONSPD_IMD_COLUMN = re.compile(r"^imd(?:(\d\d)ind)?$")
_IMD_RANK = re.compile(r"^(?:index of multiple deprivation imd rank\b.*|imd rank|imdrank)$")
_IMD_DECILE = re.compile(r"^(?:index of multiple deprivation imd decile\b.*|imd decile|imddecile)$")
_IMD_LAD_CODE = re.compile(r"^(?:local authority district code\b.*|lad\d\dcd|lad\d\d code|ladcd)$")
_IMD_LAD_NAME = re.compile(r"^(?:local authority district name\b.*|lad\d\dnm|lad\d\d name|ladnm)$")


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


def _no_rows(source: str, header_line: int) -> LsoaError:
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


def _find(headers: Sequence[str], names: Iterable[str]) -> int | None:
    wanted = list(names)
    for name in wanted:
        if name in headers:
            return headers.index(name)
    return None


def _find_re(headers: Sequence[str], pattern: re.Pattern[str]) -> int | None:
    return next((i for i, h in enumerate(headers) if pattern.match(h)), None)


def _first_row(rows: Iterator[list[str]]) -> tuple[int, list[str]]:
    """The header (skipping blank lines before it) and its line number."""
    for number, row in enumerate(rows, start=1):
        if any(cell.strip() for cell in row):
            return number, row
    return 0, []


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
    for year, candidates in _LSOA_COLUMNS.items():
        code = _find(names, candidates)
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
    rank = _find_re(names, _IMD_RANK)
    decile = _find_re(names, _IMD_DECILE)
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
        lad_code=_find_re(names, _IMD_LAD_CODE),
        lad_name=_find_re(names, _IMD_LAD_NAME),
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
    header_line, header = _first_row(it)
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
    problems = _Problems(source)
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
        raise _no_rows(source, header_line)
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


class _Problems:
    """Bad lines: the first PROBLEM_LIMIT kept with their message, all counted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.kept: list[tuple[int, str]] = []
        self.count = 0

    def add(self, line: int, message: str) -> None:
        self.count += 1
        if len(self.kept) < PROBLEM_LIMIT:
            self.kept.append((line, message))

    def check(self, skip: bool) -> None:
        if self.count and not skip:
            raise LsoaDataError(self.kept, self.source, self.count)


# == the postcode directory =======================================================================


@dataclass(frozen=True)
class PostcodeLayout:
    """Where the postcode directory keeps what we read (column indices and their headers)."""

    postcode: int
    doterm: int
    lsoa: int
    lsoa_header: str
    lsoa_vintage: int
    imd: int | None = None
    imd_header: str = ""
    imd_vintage: int | None = None
    lad: int | None = None
    lad_header: str = ""
    county: int | None = None
    county_header: str = ""

    @property
    def width(self) -> int:
        """Fields a row needs for every column we read."""
        cols = (self.postcode, self.doterm, self.lsoa, self.imd, self.lad, self.county)
        return 1 + max(c for c in cols if c is not None)


def postcode_layout(
    header: Sequence[str],
    source: str,
    *,
    vintage: int | None,
    imd_source: str = "",
    imd_header: str = "",
    want_lad: bool = False,
    want_county: bool = False,
) -> PostcodeLayout:
    """The directory's columns. ``vintage`` is the IMD file's LSOA vintage, or None to use the
    directory's own ``imd`` rank column (whose vintage then picks the LSOA column).

    Raises ``MissingColumnError`` naming the file, the columns expected and found, and
    ``VintageMismatchError`` when the directory has only the other vintage's LSOA column.
    """
    names = [normalise_header(h) for h in header]
    postcode = _find(names, _POSTCODE_COLUMNS)
    if postcode is None:
        raise MissingColumnError(source, "postcode", _POSTCODE_COLUMNS, header)
    doterm = _find(names, _DOTERM_COLUMNS)
    if doterm is None:
        raise MissingColumnError(source, "termination date", _DOTERM_COLUMNS, header)
    lsoa_at = {year: _find(names, cands) for year, cands in _LSOA_COLUMNS.items()}
    have = {year: at for year, at in lsoa_at.items() if at is not None}
    all_lsoa_names = [n for cands in _LSOA_COLUMNS.values() for n in cands[:2]]
    if not have:
        raise MissingColumnError(source, "LSOA code", all_lsoa_names, header)
    imd = imd_vintage = None
    if vintage is None:
        imd = _find_re(names, _ONSPD_IMD_COLUMN)
        if imd is None:
            raise MissingColumnError(
                source,
                "IMD rank (or give the IMD file with --imd)",
                ["imd", "imd20ind", "imd25ind"],
                header,
            )
        match = _ONSPD_IMD_COLUMN.match(names[imd])
        year = int(match.group(1)) if match and match.group(1) else 19
        imd_vintage = 2021 if year >= 25 else 2011
        wanted = imd_vintage if imd_vintage in have else next(iter(have))
    else:
        if vintage not in have:
            other = next(iter(have))
            raise VintageMismatchError(
                f"{source} has {other} LSOA codes (column {header[have[other]].strip()!r}) but "
                f"{imd_source} ranks {vintage} LSOAs (column {imd_header!r}): the codes do not "
                f"match. Use a postcode directory with {vintage} LSOA codes "
                f"({' or '.join(_LSOA_COLUMNS[vintage][:2])}; the ONSPD from February 2023 has "
                f"both), or the IMD edition for {other} LSOAs "
                f"({'IoD2025' if other == 2021 else 'IoD2019'})."
            )
        wanted = vintage
    lad = _find_re(names, _LAD_COLUMN) if want_lad else None
    county = _find_re(names, _COUNTY_COLUMN) if want_county else None
    if want_county and county is None:
        raise MissingColumnError(source, "county code (for --county)", ["oscty", "ctyNNcd"], header)

    def shown(i: int | None) -> str:
        return header[i].replace("\ufeff", "").strip() if i is not None else ""

    return PostcodeLayout(
        postcode=postcode,
        doterm=doterm,
        lsoa=have[wanted],
        lsoa_header=shown(have[wanted]),
        lsoa_vintage=wanted,
        imd=imd,
        imd_header=shown(imd),
        imd_vintage=imd_vintage,
        lad=lad,
        lad_header=shown(lad),
        county=county,
        county_header=shown(county),
    )


def normalise_postcode_fast(text: str) -> str:
    """``text`` as ``str(parse_postcode(text))``, skipping the parser when already canonical."""
    if _CANONICAL_POSTCODE.fullmatch(text):
        return text
    return str(parse_postcode(text))


@dataclass(frozen=True)
class PostcodeSelection:
    """The postcodes chosen from the directory, and what was left out and why."""

    source: str
    layout: PostcodeLayout
    postcodes: frozenset[str]
    rows: int
    lsoas: int
    rule: str
    edition: str
    terminated: int
    terminated_postcodes: tuple[str, ...]
    outside_england: int
    unranked: int
    skipped: int
    problems: tuple[tuple[int, str], ...]
    #: Rows with a blank LSOA code (neither in England nor outside it: the directory does not
    #: place them); never selected.
    no_lsoa: int = 0


def choose_postcodes(
    rows: Iterable[list[str]],
    source: str,
    *,
    selection: Selection,
    choice: LsoaChoice | None = None,
    area: AreaFilter | None = None,
    keep_all_terminated: bool = False,
    skip_invalid: bool = False,
) -> PostcodeSelection:
    """Stream the directory's rows (header first) and keep the live postcodes in the selection.

    With ``choice`` (from the IMD file) a postcode is in when its LSOA was selected; without, when
    its own ``imd`` rank is (English LSOAs only). Memory holds the selected postcodes, a sample of
    terminated ones (all with ``keep_all_terminated``) and a few counters, whatever the file size.
    """
    it = iter(rows)
    header_line, header = _first_row(it)
    resolved = (area or AreaFilter()).resolve(
        choice.lad_names if choice else {}, choice.source if choice else None
    )
    layout = postcode_layout(
        header,
        source,
        vintage=choice.vintage if choice else None,
        imd_source=choice.source if choice else "",
        imd_header=choice.layout.code_header if choice else "",
        want_lad=bool(resolved.lad_codes),
        want_county=bool(resolved.county_codes),
    )
    if resolved.lad_codes and layout.lad is None and (resolved.county_codes or choice is None):
        raise MissingColumnError(
            source, "local authority code (for --local-authority)", ["oslaua", "ladNNcd"], header
        )
    selected: Mapping[str, str] | None = None
    table = bytearray()
    if choice is not None:
        edition, lsoas, rule = IMD_EDITION[choice.vintage], choice.lsoas, choice.rule
        selected = choice.selected
        if resolved.lad_codes and layout.lad is None:
            selected = _in_districts(choice, resolved.lad_codes, source, header)
    else:
        vintage = layout.imd_vintage or 2011
        edition, lsoas = IMD_EDITION[vintage], ENGLAND_LSOAS[vintage]
        rule = selection.describe(edition, lsoas)
        table = selection.ranks(lsoas)
    if resolved.active:
        rule = f"{rule}; {resolved.describe()}"

    lad_codes = frozenset(resolved.lad_codes) if layout.lad is not None else frozenset()
    county_codes = frozenset(resolved.county_codes)
    matched = dict.fromkeys([*lad_codes, *county_codes], 0)
    filter_rows = bool(matched)
    lad_i, county_i = layout.lad, layout.county
    pc_i, term_i, lsoa_i, imd_i = layout.postcode, layout.doterm, layout.lsoa, layout.imd
    width = layout.width
    known = choice.known if choice is not None else None
    canonical = _CANONICAL_POSTCODE.fullmatch

    postcodes: set[str] = set()
    hit_lsoas: set[str] = set()
    terminated: list[str] = []
    terminated_count = outside = unranked = rows_read = unknown_rows = no_lsoa = 0
    unknown_codes: set[str] = set()
    unknown_first = 0
    problems = _Problems(source)

    for number, row in enumerate(it, start=header_line + 1):
        if len(row) < width:
            if any(cell.strip() for cell in row):
                rows_read += 1
                problems.add(number, f"the row has {len(row)} fields, the header {len(header)}")
            continue
        rows_read += 1
        if filter_rows:
            lad = row[lad_i] if lad_i is not None else ""
            county = row[county_i] if county_i is not None else ""
            in_lad, in_county = lad in lad_codes, county in county_codes
            if not (in_lad or in_county):
                continue
            if in_lad:
                matched[lad] += 1
            if in_county:
                matched[county] += 1
        lsoa = row[lsoa_i]
        if selected is not None:
            if lsoa not in selected:
                if lsoa.startswith(ENGLISH_LSOA):
                    # Not selected because the IMD file does not rank it: a cut or partial
                    # file (or another vintage) would silently leave these families out.
                    if known is not None and lsoa not in known and not row[term_i].strip():
                        unknown_rows += 1
                        unknown_codes.add(lsoa)
                        unknown_first = unknown_first or number
                elif not lsoa.strip():
                    no_lsoa += 1
                else:
                    outside += 1
                continue
        else:
            if not lsoa.startswith(ENGLISH_LSOA):
                if lsoa.strip():
                    outside += 1
                else:
                    no_lsoa += 1
                continue
            text = row[imd_i]  # type: ignore[index]
            try:
                rank = int(text)
            except ValueError:
                if not text.strip():
                    unranked += 1
                    continue
                rank = -1
            if not 0 < rank <= lsoas:
                problems.add(
                    number,
                    f"IMD rank {text!r} ({layout.imd_header}) is not a whole number from 1 to "
                    f"{lsoas:,} for the English LSOA {lsoa}",
                )
                continue
            if not table[rank]:
                continue
        hit_lsoas.add(lsoa)
        postcode = row[pc_i]
        if not canonical(postcode):
            try:
                postcode = str(parse_postcode(postcode))
            except PostcodeError as exc:
                problems.add(number, f"{exc} (in LSOA {lsoa})")
                continue
        if row[term_i].strip():
            terminated_count += 1
            if keep_all_terminated or len(terminated) < SAMPLE_SIZE:
                terminated.append(postcode)
            continue
        postcodes.add(postcode)

    if not rows_read:
        raise _no_rows(source, header_line)
    if unknown_rows and choice is not None:
        sample = ", ".join(sorted(unknown_codes)[:SAMPLE_SIZE])
        if len(choice.known) >= choice.lsoas:  # every LSOA is there: the codes are another kind
            raise VintageMismatchError(
                f"{unknown_rows:,} postcode row(s) of {source} have English LSOA codes "
                f"(column {layout.lsoa_header}) that {choice.source} does not list, though it "
                f"lists every LSOA of England ({choice.vintage} LSOAs), e.g. {sample}: the "
                "files look like different LSOA vintages (2011 and 2021). Use a postcode "
                "directory and an IMD file of the same vintage."
            )
        raise IncompleteImdError(
            f"{choice.source} does not rank the LSOAs of {unknown_rows:,} live English "
            f"postcode(s) of {source} ({len(unknown_codes):,} LSOA(s), e.g. {sample}; first at "
            f"line {unknown_first}): it lists {len(choice.known):,} of England's "
            f"{choice.lsoas:,} LSOAs ({choice.vintage} LSOAs), so those families could never "
            "qualify. Is the file cut short (or of another LSOA vintage than the directory)? "
            "Use the complete IMD file, or narrow the import to the area the file covers with "
            "--local-authority or --county; the risk list is unchanged."
        )
    for code, hits in matched.items():
        if not hits:
            is_county = code in county_codes
            raise LsoaError(
                f"--{'county' if is_county else 'local-authority'} {code}: no postcode of "
                f"{source} is in that {'county' if is_county else 'local authority'} (column "
                f"{layout.county_header if is_county else layout.lad_header}); check the code "
                "(codes change when councils merge: the directory uses the current ones)"
            )
    problems.check(skip=skip_invalid)
    return PostcodeSelection(
        source=source,
        layout=layout,
        postcodes=frozenset(postcodes),
        rows=rows_read,
        lsoas=len(hit_lsoas),
        rule=rule,
        edition=edition,
        terminated=terminated_count,
        terminated_postcodes=tuple(terminated),
        outside_england=outside,
        unranked=unranked,
        no_lsoa=no_lsoa,
        skipped=problems.count,
        problems=tuple(problems.kept),
    )


def _in_districts(
    choice: LsoaChoice, codes: Sequence[str], source: str, header: Sequence[str]
) -> dict[str, str]:
    """The selected LSOAs in districts ``codes``, by the IMD file's district column."""
    if choice.layout.lad_code is None:
        raise MissingColumnError(
            f"{source} (and {choice.source})",
            "local authority code (for --local-authority)",
            ["oslaua", "ladNNcd", "Local Authority District code (2019)"],
            header,
        )
    missing = [c for c in codes if c not in choice.lad_names]
    if missing:
        raise LsoaError(
            f"--local-authority {missing[0]}: no LSOA of {choice.source} is in that district; "
            "check the code"
        )
    keep = frozenset(codes)
    return {k: v for k, v in choice.selected.items() if v in keep}
