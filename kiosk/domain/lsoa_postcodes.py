"""The postcode directory's side of the LSOA import: the live postcodes in the chosen LSOAs.

The rule and its vocabulary are in ``kiosk.domain.lsoa``; the IMD file's side (which LSOAs are
chosen, when it is given) is ``kiosk.domain.lsoa_imd``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kiosk.domain.lsoa import (
    ENGLAND_LSOAS,
    ENGLISH_LSOA,
    IMD_EDITION,
    LSOA_COLUMNS,
    SAMPLE_SIZE,
    AreaFilter,
    BadLines,
    IncompleteImdError,
    LsoaError,
    MissingColumnError,
    Selection,
    VintageMismatchError,
    find_column,
    find_column_matching,
    header_row,
    no_rows_error,
    normalise_header,
)
from kiosk.domain.lsoa_imd import LsoaChoice
from kiosk.domain.postcodes import PostcodeError, parse_postcode

__all__ = [
    "CANONICAL_POSTCODE",
    "PostcodeLayout",
    "PostcodeSelection",
    "choose_postcodes",
    "normalise_postcode_fast",
    "postcode_layout",
]

#: A postcode already in the form ``parse_postcode`` gives, by the same rules (see
#: ``kiosk.domain.postcodes``): outward A9, A99, AA9, AA99, A9A or AA9A with the letter rules, one
#: space, inward 9AA without C I K M O V; or GIR 0AA. The directory's ``pcds`` is in this form,
#: so most rows skip the full parser; anything else goes through ``parse_postcode``.
CANONICAL_POSTCODE = re.compile(
    r"(?:[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][ABCDEFGHJKPSTUW]"
    r"|[A-HK-Y][0-9][ABEHMNPRVWXY]) [0-9][ABD-HJLNP-UW-Z]{2}|GIR 0AA)"
)

# The directory's column names, normalised (see normalise_header).
_POSTCODE_COLUMNS = ("pcds", "pcd", "pcd7", "pcd8", "pcd2", "postcode")
_DOTERM_COLUMNS = ("doterm",)
_LAD_COLUMN = re.compile(r"^(?:oslaua|laua|lad|ladcd|lad\d\dcd|lad\d\d code)$")
_COUNTY_COLUMN = re.compile(r"^(?:oscty|cty|ctycd|cty\d\dcd)$")
_ONSPD_IMD_COLUMN = re.compile(r"^imd(?:(\d\d)ind)?$")


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
    postcode = find_column(names, _POSTCODE_COLUMNS)
    if postcode is None:
        raise MissingColumnError(source, "postcode", _POSTCODE_COLUMNS, header)
    doterm = find_column(names, _DOTERM_COLUMNS)
    if doterm is None:
        raise MissingColumnError(source, "termination date", _DOTERM_COLUMNS, header)
    lsoa_at = {year: find_column(names, cands) for year, cands in LSOA_COLUMNS.items()}
    have = {year: at for year, at in lsoa_at.items() if at is not None}
    all_lsoa_names = [n for cands in LSOA_COLUMNS.values() for n in cands[:2]]
    if not have:
        raise MissingColumnError(source, "LSOA code", all_lsoa_names, header)
    imd = imd_vintage = None
    if vintage is None:
        imd = find_column_matching(names, _ONSPD_IMD_COLUMN)
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
                f"({' or '.join(LSOA_COLUMNS[vintage][:2])}; the ONSPD from February 2023 has "
                f"both), or the IMD edition for {other} LSOAs "
                f"({'IoD2025' if other == 2021 else 'IoD2019'})."
            )
        wanted = vintage
    lad = find_column_matching(names, _LAD_COLUMN) if want_lad else None
    county = find_column_matching(names, _COUNTY_COLUMN) if want_county else None
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
    if CANONICAL_POSTCODE.fullmatch(text):
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
    header_line, header = header_row(it)
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
    canonical = CANONICAL_POSTCODE.fullmatch

    postcodes: set[str] = set()
    hit_lsoas: set[str] = set()
    terminated: list[str] = []
    terminated_count = outside = unranked = rows_read = unknown_rows = no_lsoa = 0
    unknown_codes: set[str] = set()
    unknown_first = 0
    problems = BadLines(source)

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
        raise no_rows_error(source, header_line)
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
