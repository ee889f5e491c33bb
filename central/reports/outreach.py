"""Hidden families: where to drop leaflets.

Volunteers deliver leaflets to every property of a target area to find the families the
sessions do not yet reach. ``kiosk-central report outreach`` ranks the risk-area LSOAs by the
children of the ages not yet reached (the ONS estimate less the distinct children who came),
and lists each one's live postcodes, in that order: a route for the leaflet drop.

Risk areas are the LSOAs with a postcode on the current risk list (the organisation's, or any
organisation's for the county), whether the list names the postcode, its sector or its
district; without a risk list, or with ``--areas deprived``, the 0-30% most deprived LSOAs.

Never names, never family references: only areas, postcodes and counts of children.

    >>> plan = build_outreach(db, "lichfield", Period.between_months("2016-04", "2017-03"),
    ...                       AgeBand(0, 4))                                # doctest: +SKIP
    >>> plan.areas[0].lsoa, plan.areas[0].not_reached                     # doctest: +SKIP
    ('E01029702', 35)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import select

from central.db import CentralDB, CentralError, orgs, postcode_areas
from central.geography.directory import postcodes_by_lsoa
from central.reports.area_reach import AgeBand, AreaReach, AreaRow, build_area_reach
from central.reports.period import Period, local_now
from central.setup_data import risk_list
from kiosk.domain.csvcells import csv_writer
from kiosk.domain.risk import RiskList

AREA_CHOICES = ("risk", "deprived")


@dataclass(frozen=True)
class OutreachArea:
    rank: int
    lsoa: str
    name: str
    district: str
    imd_decile: int | None
    population: int | None
    reached: int
    risk_postcodes: int  # postcodes of the LSOA on the risk list (all live ones for "deprived")
    postcodes: tuple[str, ...]  # the live postcodes to leaflet, in order

    @property
    def not_reached(self) -> int | None:
        """Children of the ages the estimate says live there and did not come (never < 0)."""
        return None if self.population is None else max(self.population - self.reached, 0)


@dataclass(frozen=True)
class Outreach:
    org_id: str | None
    period: Period
    ages: AgeBand
    chosen_by: str  # how the areas were chosen, in words
    areas: list[OutreachArea]
    notes: list[str]
    generated_at: datetime = field(default_factory=local_now, compare=False)

    @property
    def scope(self) -> str:
        return self.org_id or "the county (every organisation)"


@dataclass(frozen=True)
class RiskAreas:
    """The LSOAs that count as risk areas, and how they were chosen (in words)."""

    chosen_by: str
    lsoas: frozenset[str]
    on_list: dict[str, set[str]]  # LSOA -> its postcodes the risk list matches (may be empty)
    fell_back: bool  # "risk" was asked for, but no risk list matched: the deprived ones


def _risk_lists(db: CentralDB, org_id: str | None) -> list[RiskList]:
    if org_id is not None:
        found = risk_list(db, org_id)
        return [found] if found is not None and found.areas else []
    with db.reading() as conn:
        ids = [r[0] for r in conn.execute(select(orgs.c.org_id).order_by(orgs.c.org_id))]
    return [r for r in (risk_list(db, o) for o in ids) if r is not None and r.areas]


def _on_lists(db: CentralDB, lists: list[RiskList]) -> dict[str, set[str]]:
    """LSOA -> the live postcodes of the directory that the risk lists match."""
    out: dict[str, set[str]] = {}
    pa = postcode_areas
    with db.reading() as conn:
        rows = conn.execute(select(pa.c.postcode, pa.c.lsoa, pa.c.live)).all()
    for postcode, lsoa, live in rows:
        if live and any(r.match(postcode) for r in lists):
            out.setdefault(lsoa, set()).add(postcode)
    return out


def risk_areas(
    db: CentralDB, org_id: str | None, rows: Sequence[AreaRow], areas: str = "risk"
) -> RiskAreas:
    """Which of ``rows`` (LSOAs) are risk areas: those with a postcode on the current risk list
    (``org_id``'s, or any organisation's for the county); without a risk list, or with
    ``areas="deprived"``, the 0-30% most deprived. The one definition the outreach plan and the
    reach map share, so the map outlines the areas the plan sends volunteers to."""
    if areas not in AREA_CHOICES:
        raise CentralError(f"--areas {areas!r}: choose risk or deprived")
    lists = _risk_lists(db, org_id) if areas == "risk" else []
    on_list = _on_lists(db, lists) if lists else {}
    if areas == "risk" and on_list:
        codes = frozenset(r.code for r in rows if r.code in on_list)
        return RiskAreas("LSOAs with a postcode on the current risk list", codes, on_list, False)
    codes = frozenset(r.code for r in rows if r.imd_decile is not None and r.imd_decile <= 3)
    return RiskAreas("the 0-30% most deprived LSOAs (IMD deciles 1-3)", codes, {}, areas == "risk")


def build_outreach(
    db: CentralDB,
    org_id: str | None,
    period: Period,
    ages: AgeBand,
    areas: str = "risk",
    top: int | None = None,
) -> Outreach:
    """The risk-area LSOAs ranked by children of ``ages`` not reached in ``period``."""
    if areas not in AREA_CHOICES:
        raise CentralError(f"--areas {areas!r}: choose risk or deprived")
    if top is not None and top < 1:
        raise CentralError("--top must be 1 or more")
    report: AreaReach = build_area_reach(db, org_id, period, ages, "lsoa")
    notes = list(report.notes)
    chosen = risk_areas(db, org_id, report.lsoa_rows, areas)
    if chosen.fell_back:
        notes.append(
            "No risk list matches a postcode of the directory, so the areas are the 0-30% "
            "most deprived LSOAs (IMD deciles 1-3)."
        )
    chosen_by, on_list = chosen.chosen_by, chosen.on_list
    rows = [r for r in report.lsoa_rows if r.code in chosen.lsoas]
    rows.sort(
        key=lambda r: (
            r.population is None,
            -(max((r.population or 0) - r.reached, 0)),
            r.code,
        )
    )
    if top is not None:
        rows = rows[:top]
    live = postcodes_by_lsoa(db, [r.code for r in rows])
    out = []
    for rank, r in enumerate(rows, start=1):
        listed = on_list.get(r.code)
        postcodes = tuple(sorted(listed)) if listed else tuple(live.get(r.code, []))
        out.append(
            OutreachArea(
                rank=rank,
                lsoa=r.code,
                name=r.name,
                district=r.district,
                imd_decile=r.imd_decile,
                population=r.population,
                reached=r.reached,
                risk_postcodes=len(postcodes),
                postcodes=postcodes,
            )
        )
    return Outreach(org_id, period, ages, chosen_by, out, notes)


# -- plain outputs -----------------------------------------------------------------------------
def write_outreach_text(plan: Outreach, out: TextIO) -> None:
    w = out.write
    ages = plan.ages.label
    w(f"Outreach: {plan.scope}, children aged {ages}, {plan.period.label}\n")
    w("=" * 78 + "\n")
    w(f"Areas: {plan.chosen_by}, most children not yet reached first.\n")
    for note in plan.notes:
        w(f"Note: {note}\n")
    w(
        f"\n  {'#':>3} {'LSOA':<10} {'name':<22} {'decile':>6} {'children':>9} {'reached':>8} "
        f"{'not yet':>8} {'postcodes':>9}\n"
    )
    for a in plan.areas:
        pop = "—" if a.population is None else f"{a.population:,}"
        missing = "—" if a.not_reached is None else f"{a.not_reached:,}"
        w(
            f"  {a.rank:>3} {a.lsoa:<10} {(a.name or a.district)[:22]:<22} "
            f"{a.imd_decile or '—'!s:>6} {pop:>9} {a.reached:>8,} {missing:>8} "
            f"{len(a.postcodes):>9,}\n"
        )
    w("\nPostcodes for the leaflet drop, in the order above\n")
    for a in plan.areas:
        w(f"  {a.rank}. {a.lsoa}: {', '.join(a.postcodes) or '(no live postcodes)'}\n")


OUTREACH_CSV_COLUMNS = (
    "section",
    "rank",
    "lsoa",
    "name",
    "district",
    "imd_decile",
    "child_population",
    "children_reached",
    "not_yet_reached",
    "postcodes",
    "postcode",
)


def write_outreach_csv(plan: Outreach, out: TextIO) -> None:
    """``lsoa`` rows (ranked), then one ``postcode`` row per postcode in the same order."""
    writer = csv_writer(out)
    writer.writerow(OUTREACH_CSV_COLUMNS)
    for a in plan.areas:
        writer.writerow(
            [
                "lsoa",
                a.rank,
                a.lsoa,
                a.name,
                a.district,
                "" if a.imd_decile is None else a.imd_decile,
                "" if a.population is None else a.population,
                a.reached,
                "" if a.not_reached is None else a.not_reached,
                len(a.postcodes),
                "",
            ]
        )
    for a in plan.areas:
        for postcode in a.postcodes:
            writer.writerow(["postcode", a.rank, a.lsoa, "", "", "", "", "", "", "", postcode])
