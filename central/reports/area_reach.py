"""Reach against the population: the share of an area's children who came.

For an organisation (or the county: every organisation), a range of months and an age band
(``--ages 0-4``), per LSOA, ward or district:

- its IMD decile (LSOAs), or how many of its LSOAs are among the 0-30% most deprived;
- the child population of those ages (the newest ONS estimates, ``population import``);
- the distinct children of those ages who came at least once;
- reach: the second as a share of the first, a percentage with one decimal.

And the county's headline: reach among the children living in the 0-30% most deprived LSOAs
(IMD deciles 1 to 3) against everywhere else.

Who counts: a child is of the ages if their age at an attendance in the period was in the
band, the age in whole years from their birth month (a child born in May 2020 is 4 from
May 2024 to April 2025, whatever the day). Each child is counted once, in the LSOA of their
family's postcode (the postcode directory kept from ``risk import-lsoa``). Counted apart,
never dropped: children whose family's postcode has no LSOA in the directory (outside the
area imported, or new since), children in an LSOA the population file has no figure for, and
children with no birth month recorded (their age is unknown).

The ward and district of an LSOA are its best fit (``central.geography.directory``), so an
area's population and its children are counted over the same LSOAs.

    >>> report = build_area_reach(db, None, Period.between("2016-04-01", "2017-03-31"),
    ...                           AgeBand(0, 4), by="lsoa")                  # doctest: +SKIP
    >>> report.deprived.reach_text                                         # doctest: +SKIP
    '23.1%'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import BigInteger, Connection, and_, func, literal, or_, select

from central.db import (
    CentralDB,
    CentralError,
    attendance_children,
    children,
    families,
    postcode_areas,
    require_org,
)
from central.geography.directory import (
    ImportRecord,
    LsoaArea,
    import_record,
    lsoa_table,
)
from central.geography.population import OLDEST, PopulationVersion, children_in
from central.reports._sql import (
    MASK_MONTHS,
    as_int,
    birth_month_number,
    bits_or,
    month_bit,
    month_number,
    reading,
)
from central.reports.period import Period, local_now
from kiosk.domain.csvcells import csv_writer

AREA_KINDS = ("lsoa", "ward", "district")
_AGES = re.compile(r"^\s*(\d{1,2})\s*(?:-\s*(\d{1,2}))?\s*$")


@dataclass(frozen=True)
class AgeBand:
    """Ages ``youngest`` to ``oldest`` in whole years, both included."""

    youngest: int
    oldest: int

    @classmethod
    def parse(cls, text: str) -> AgeBand:
        """``"0-4"`` (or ``"3"``): an age band from 0 to 90."""
        m = _AGES.match(text or "")
        if not m:
            raise CentralError(f"--ages {text!r} must be an age band like 0-4 (or one age, like 3)")
        lo, hi = int(m[1]), int(m[2] if m[2] is not None else m[1])
        if not 0 <= lo <= hi <= OLDEST:
            raise CentralError(f"--ages {text!r}: ages go from 0 to {OLDEST}, youngest first")
        return cls(lo, hi)

    @property
    def label(self) -> str:
        return (
            str(self.youngest) if self.youngest == self.oldest else f"{self.youngest}-{self.oldest}"
        )


def reach_text(reached: int, population: int | None) -> str:
    """A reach as people read it: ``12.3%`` (one decimal), ``—`` with no population."""
    if not population:
        return "—"
    return f"{100 * reached / population:.1f}%"


def reach_value(reached: int, population: int | None) -> float | None:
    """The reach in per cent to one decimal (a number for CSV and charts); None without one."""
    if not population:
        return None
    return round(100 * reached / population, 1)


@dataclass(frozen=True)
class AreaRow:
    """One area: an LSOA, a ward or a district."""

    kind: str
    code: str
    name: str
    district: str
    imd_decile: int | None  # LSOAs only
    lsoas: int
    deprived_lsoas: int
    population: int | None  # None: no population figure (an LSOA only)
    reached: int

    @property
    def reach(self) -> float | None:
        return reach_value(self.reached, self.population)

    @property
    def reach_text(self) -> str:
        return reach_text(self.reached, self.population)


@dataclass(frozen=True)
class Share:
    """Children of the ages reached among a population (the headline's two halves)."""

    label: str
    population: int
    reached: int
    lsoas: int

    @property
    def reach(self) -> float | None:
        return reach_value(self.reached, self.population)

    @property
    def reach_text(self) -> str:
        return reach_text(self.reached, self.population)


@dataclass(frozen=True)
class Apart:
    """Children counted apart: why, how many (and from how many families)."""

    reason: str
    children: int
    families: int


@dataclass(frozen=True)
class AreaReach:
    org_id: str | None
    period: Period
    ages: AgeBand
    by: str
    rows: list[AreaRow]
    lsoa_rows: list[AreaRow]
    deprived: Share
    elsewhere: Share
    total: Share
    apart: list[Apart]
    population: PopulationVersion | None
    directory: ImportRecord | None
    notes: list[str]
    generated_at: datetime = field(default_factory=local_now, compare=False)

    @property
    def scope(self) -> str:
        return self.org_id or "the county (every organisation)"

    @property
    def reached(self) -> int:
        """Every child of the ages who came, counted apart ones included."""
        return self.total.reached + sum(a.children for a in self.apart)

    @property
    def title(self) -> str:
        return f"Reach of children aged {self.ages.label}: {self.scope}, {self.period.label}"


def reached_by_lsoa(
    db: CentralDB, conn: Connection, org_id: str | None, period: Period, ages: AgeBand
) -> list[tuple[str | None, bool, int, int]]:
    """Rows ``(lsoa or None, age unknown, children, families)``: the distinct children of the
    ages who came in the period, by their family's LSOA.

    One pass over the period's child attendances (``attendance_children`` carries the
    organisation and date) gives one row per child with the months it came in as the bits of
    a number (``month_bit``); joined to the child's birth month, the months in which it was of
    the ages are another such number, and the child counts if the two share a bit. So the
    database hashes each child once, not each attendance or month. Ranges longer than
    ``MASK_MONTHS`` months take the slower way (:func:`_reached_month_by_month`)."""
    months = period.months()
    if len(months) > MASK_MONTHS:
        return _reached_month_by_month(db, conn, org_id, period, ages)
    ac, c = attendance_children, children
    first = period.start.year * 12 + period.start.month
    where = [ac.c.session_date >= period.start, ac.c.session_date <= period.end]
    if org_id is not None:
        where.append(ac.c.org_id == org_id)
    came = (
        select(ac.c.child_id, bits_or(db, month_bit(db, ac.c.session_date, first)).label("mask"))
        .where(*where)
        .group_by(ac.c.child_id)
        .subquery()
    )
    born = birth_month_number(c.c.born)
    lo = _greatest(db, born + 12 * ages.youngest - first, 0)
    hi = _least(db, born + 12 * (ages.oldest + 1) - first, len(months))
    one = literal(1, BigInteger)
    window = one.op("<<")(hi) - one.op("<<")(lo)
    in_ages = and_(hi > lo, came.c.mask.op("&")(window) != 0)
    unknown = as_int(c.c.born.is_(None))
    per_child = (
        select(came.c.child_id, c.c.family_id, unknown.label("unknown"))
        .select_from(came.join(c, c.c.child_id == came.c.child_id))
        .where(or_(c.c.born.is_(None), in_ages))
        .subquery()
    )
    return _by_lsoa(conn, per_child)


def _greatest(db: CentralDB, a: Any, b: int) -> Any:
    return func.greatest(a, b) if db.dialect == "postgresql" else func.max(a, b)


def _least(db: CentralDB, a: Any, b: int) -> Any:
    return func.least(a, b) if db.dialect == "postgresql" else func.min(a, b)


def _by_lsoa(conn: Connection, per_child: Any) -> list[tuple[str | None, bool, int, int]]:
    """Children and families of ``per_child`` (child, family, unknown) by their LSOA."""
    f, pa = families, postcode_areas
    # Children per family first, then families per LSOA: two hash aggregates (a COUNT
    # DISTINCT would sort every child).
    per_family = (
        select(pa.c.lsoa, per_child.c.unknown, func.count().label("n"))
        .select_from(
            per_child.join(f, f.c.family_id == per_child.c.family_id).outerjoin(
                pa, pa.c.postcode == f.c.postcode
            )
        )
        .group_by(pa.c.lsoa, per_child.c.unknown, f.c.family_id)
        .subquery()
    )
    pf = per_family.c
    rows = conn.execute(
        select(pf.lsoa, pf.unknown, func.sum(pf.n), func.count()).group_by(pf.lsoa, pf.unknown)
    ).all()
    return [(r[0], bool(r[1]), int(r[2]), int(r[3])) for r in rows]


def _reached_month_by_month(
    db: CentralDB, conn: Connection, org_id: str | None, period: Period, ages: AgeBand
) -> list[tuple[str | None, bool, int, int]]:
    """As :func:`reached_by_lsoa`, each attendance's age worked out on its own row."""
    ac, c = attendance_children, children
    age = month_number(db, ac.c.session_date) - birth_month_number(c.c.born)
    where = [ac.c.session_date >= period.start, ac.c.session_date <= period.end]
    if org_id is not None:
        where.append(ac.c.org_id == org_id)
    unknown = as_int(c.c.born.is_(None))
    per_child = (
        select(ac.c.child_id, c.c.family_id, unknown.label("unknown"))
        .select_from(ac.join(c, c.c.child_id == ac.c.child_id))
        .where(
            *where,
            or_(
                c.c.born.is_(None),
                and_(age >= 12 * ages.youngest, age < 12 * (ages.oldest + 1)),
            ),
        )
        .group_by(ac.c.child_id, c.c.family_id, unknown)
        .subquery()
    )
    return _by_lsoa(conn, per_child)


def build_area_reach(
    db: CentralDB,
    org_id: str | None,
    period: Period,
    ages: AgeBand,
    by: str = "lsoa",
) -> AreaReach:
    """Reach of ``org_id`` (None: the county) in ``period`` among children of ``ages``."""
    if by not in AREA_KINDS:
        raise CentralError(f"--by {by!r}: choose lsoa, ward or district")
    with reading(db) as conn:
        if org_id is not None:
            require_org(conn, org_id)
        found = reached_by_lsoa(db, conn, org_id, period, ages)
    areas = lsoa_table(db)
    directory = import_record(db, "directory")
    version, people = children_in(db, ages.youngest, ages.oldest, areas.keys())
    notes = _notes(areas, version, directory, ages, people)
    reached: dict[str, int] = {}
    unknown_age = unknown_families = no_lsoa = no_lsoa_families = 0
    for lsoa, unknown, kids, fams in found:
        if unknown:
            unknown_age += kids
            unknown_families += fams
        elif lsoa is None:
            no_lsoa += kids
            no_lsoa_families += fams
        else:
            reached[lsoa] = reached.get(lsoa, 0) + kids
    names = _lsoa_names(db)
    lsoa_rows = [
        AreaRow(
            "lsoa",
            code,
            names.get(code, ""),
            area.district_name or area.district,
            area.imd_decile,
            1,
            int(area.deprived),
            people.get(code),
            reached.get(code, 0),
        )
        for code, area in sorted(areas.items())
    ]
    counted = [r for r in lsoa_rows if r.population is not None]
    without = [r for r in lsoa_rows if r.population is None]
    deprived = [r for r in counted if areas[r.code].deprived]
    elsewhere = [r for r in counted if not areas[r.code].deprived]
    apart = [
        Apart("postcode with no LSOA in the postcode directory", no_lsoa, no_lsoa_families),
        Apart(
            "LSOA without a population figure",
            sum(r.reached for r in without),
            0,
        ),
        Apart("no birth month recorded (age unknown)", unknown_age, unknown_families),
    ]
    return AreaReach(
        org_id=org_id,
        period=period,
        ages=ages,
        by=by,
        rows=lsoa_rows if by == "lsoa" else _grouped(by, counted, areas),
        lsoa_rows=lsoa_rows,
        deprived=_share("0-30% most deprived LSOAs", deprived),
        elsewhere=_share("everywhere else", elsewhere),
        total=_share("all LSOAs", counted),
        apart=apart,
        population=version,
        directory=directory,
        notes=notes,
    )


def _share(label: str, rows: Sequence[AreaRow]) -> Share:
    return Share(
        label, sum(r.population or 0 for r in rows), sum(r.reached for r in rows), len(rows)
    )


def _grouped(by: str, rows: Sequence[AreaRow], areas: dict[str, LsoaArea]) -> list[AreaRow]:
    """LSOA rows (with a population figure) added up by their ward or district."""
    groups: dict[str, list[AreaRow]] = {}
    for row in rows:
        area = areas[row.code]
        groups.setdefault(area.ward if by == "ward" else area.district, []).append(row)
    out = []
    for code, members in sorted(groups.items()):
        first = areas[members[0].code]
        out.append(
            AreaRow(
                by,
                code,
                first.district_name if by == "district" else "",
                first.district_name or first.district,
                None,
                len(members),
                sum(m.deprived_lsoas for m in members),
                sum(m.population or 0 for m in members),
                sum(m.reached for m in members),
            )
        )
    return out


def _lsoa_names(db: CentralDB) -> dict[str, str]:
    from central.geography.boundaries import lsoa_names

    return lsoa_names(db)


def _notes(
    areas: dict[str, LsoaArea],
    version: PopulationVersion | None,
    directory: ImportRecord | None,
    ages: AgeBand,
    people: dict[str, int | None],
) -> list[str]:
    """What the reader must know before trusting the figures (and what to import)."""
    notes = []
    if directory is None:
        notes.append(
            "No postcode directory yet: import one with 'kiosk-central risk import-lsoa' "
            "(--postcodes ONSPD.csv --imd IMD.csv), so families can be placed in LSOAs."
        )
    if version is None:
        notes.append(
            "No population estimates yet: import them with 'kiosk-central population import "
            "FILE' (the ONS LSOA estimates by single year of age)."
        )
    elif directory is not None:
        if version.vintage and directory.vintage and version.vintage != directory.vintage:
            notes.append(
                f"The population file has {version.vintage} LSOAs and the postcode directory "
                f"{directory.vintage} LSOAs: most codes coincide, but changed LSOAs have no "
                "figure. Use files of the same LSOA vintage."
            )
        missing = sum(1 for code in areas if people.get(code) is None)
        if missing:
            notes.append(
                f"{missing:,} of the directory's {len(areas):,} LSOAs have no population figure "
                f"for ages {ages.label} in population v{version.number}; their children are "
                "counted apart."
            )
    return notes


# -- plain outputs -----------------------------------------------------------------------------
def headline_lines(report: AreaReach) -> list[str]:
    ages = report.ages.label
    lines = []
    for share in (report.deprived, report.elsewhere, report.total):
        lines.append(
            f"{share.label}: {share.reached:,} of {share.population:,} children aged {ages} "
            f"reached ({share.reach_text}; {share.lsoas:,} LSOAs)"
        )
    return lines


def apart_lines(report: AreaReach) -> list[str]:
    out = []
    for a in report.apart:
        fams = f" from {a.families:,} families" if a.families else ""
        out.append(f"{a.reason}: {a.children:,} children{fams}")
    return out


def write_area_reach_text(report: AreaReach, out: TextIO) -> None:
    w = out.write
    w(f"{report.title}\n")
    w("=" * 78 + "\n")
    if report.population is not None:
        w(f"Population: v{report.population.number} ({report.population.source})\n")
    if report.directory is not None:
        w(f"Postcode directory: {report.directory.source}\n")
    for note in report.notes:
        w(f"Note: {note}\n")
    w("\nHeadline\n")
    for line in headline_lines(report):
        w(f"  {line}\n")
    w("\nCounted apart (not in the figures above)\n")
    for line in apart_lines(report):
        w(f"  {line}\n")
    w(f"\nBy {report.by}\n")
    first = {"lsoa": "LSOA", "ward": "Ward", "district": "District"}[report.by]
    deprivation = "IMD decile" if report.by == "lsoa" else "0-30% LSOAs"
    w(f"  {first:<10} {'name':<24} {deprivation:>11} {'children':>9} {'reached':>8} {'reach':>7}\n")
    for r in report.rows:
        depr = str(r.imd_decile or "—") if r.kind == "lsoa" else f"{r.deprived_lsoas} of {r.lsoas}"
        pop = "—" if r.population is None else f"{r.population:,}"
        w(
            f"  {r.code:<10} {(r.name or r.district)[:24]:<24} {depr:>11} {pop:>9} "
            f"{r.reached:>8,} {r.reach_text:>7}\n"
        )


AREA_CSV_COLUMNS = (
    "section",
    "area_type",
    "code",
    "name",
    "district",
    "imd_decile",
    "lsoas",
    "deprived_lsoas",
    "child_population",
    "children_reached",
    "reach_percent",
)


def write_area_reach_csv(report: AreaReach, out: TextIO) -> None:
    """One tidy table: ``section`` is ``area``, ``headline`` or ``counted_apart``; numbers stay
    numbers (``reach_percent`` to one decimal, empty without a population figure)."""
    writer = csv_writer(out)
    writer.writerow(AREA_CSV_COLUMNS)
    for r in report.rows:
        writer.writerow(
            [
                "area",
                r.kind,
                r.code,
                r.name,
                r.district,
                "" if r.imd_decile is None else r.imd_decile,
                r.lsoas,
                r.deprived_lsoas,
                "" if r.population is None else r.population,
                r.reached,
                "" if r.reach is None else r.reach,
            ]
        )
    for share in (report.deprived, report.elsewhere, report.total):
        writer.writerow(
            [
                "headline",
                "lsoa",
                "",
                share.label,
                "",
                "",
                share.lsoas,
                "",
                share.population,
                share.reached,
                "" if share.reach is None else share.reach,
            ]
        )
    for a in report.apart:
        writer.writerow(["counted_apart", "", "", a.reason, "", "", "", "", "", a.children, ""])
