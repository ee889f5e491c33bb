"""The trend over a pilot: month by month, against a baseline month (issue 18).

The pilot is judged on whether engagement with 'at risk' families has risen. For an
organisation (or the county) and any range of months, each month gives:

- the children reached who qualify (at least one qualifying attendance that month) and the
  other children reached, each child counted once in the month;
- first visits: families whose first attendance ever (as far as the server holds) fell in the
  month, and returning families: those who came in the month and had come before it;
- the qualifying share: qualifying children over all children reached that month (children,
  not child-attendances).

Each figure is also given as its change against the baseline month (by default the first):
a difference for counts and, for the share, in percentage points.

    >>> trend = build_trend(db, None, Period.between_months("2016-04", "2016-09"))  # doctest: +SKIP
    >>> [m.children for m in trend.months]                                       # doctest: +SKIP
    [812, 840, 901, 877, 950, 1012]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import Connection, func, select

from central.db import CentralDB, CentralError, NotFound, attendance_children, attendances, orgs
from central.reports._sql import as_int, month_of, qualifies, reading
from central.reports.period import Period, local_now, month_label
from kiosk.domain.csvcells import csv_writer


@dataclass(frozen=True)
class TrendMonth:
    month: str  # "2016-04"
    qualifying_children: int = 0
    other_children: int = 0
    first_visits: int = 0
    returning_families: int = 0

    @property
    def label(self) -> str:
        return month_label(self.month)

    @property
    def children(self) -> int:
        return self.qualifying_children + self.other_children

    @property
    def families(self) -> int:
        return self.first_visits + self.returning_families

    @property
    def share(self) -> float | None:
        """Qualifying children over all children reached in the month (None: none came)."""
        return self.qualifying_children / self.children if self.children else None


#: The measures of a month, in the order tables show them: (attribute, words).
MEASURES = (
    ("qualifying_children", "qualifying children"),
    ("other_children", "other children"),
    ("first_visits", "first visits"),
    ("returning_families", "returning families"),
)


def share_text(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def signed(value: int) -> str:
    return f"{value:+,}" if value else "0"


def points_text(now: float | None, base: float | None) -> str:
    """A change of share in percentage points: ``+3.2 pts``; ``—`` when either is missing."""
    if now is None or base is None:
        return "—"
    return f"{100 * (now - base):+.1f} pts"


@dataclass(frozen=True)
class Trend:
    org_id: str | None
    period: Period
    baseline: str
    months: list[TrendMonth]
    generated_at: datetime = field(default_factory=local_now, compare=False)

    @property
    def scope(self) -> str:
        return self.org_id or "all organisations"

    @property
    def base(self) -> TrendMonth:
        return next(m for m in self.months if m.month == self.baseline)

    def change(self, month: TrendMonth, measure: str) -> int:
        """``month``'s ``measure`` minus the baseline month's."""
        return int(getattr(month, measure)) - int(getattr(self.base, measure))

    @property
    def empty(self) -> bool:
        return not any(m.children or m.families for m in self.months)


def build_trend(
    db: CentralDB, org_id: str | None, period: Period, baseline: str | None = None
) -> Trend:
    """Month by month over ``period`` for ``org_id`` (None: every organisation)."""
    months = period.months()
    baseline = baseline or months[0]
    if baseline not in months:
        raise CentralError(
            f"--baseline {baseline} is not one of the months shown ({months[0]} to {months[-1]})"
        )
    with reading(db) as conn:
        if (
            org_id is not None
            and conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first() is None
        ):
            raise NotFound(f"no organisation {org_id!r} (see 'kiosk-central org add')")
        kids = _children(db, conn, org_id, period)
        fams = _families(db, conn, org_id, period)
    out = []
    for ym in months:
        q, other = kids.get(ym, (0, 0))
        first, returning = fams.get(ym, (0, 0))
        out.append(TrendMonth(ym, q, other, first, returning))
    return Trend(org_id, period, baseline, out)


def _children(
    db: CentralDB, conn: Connection, org_id: str | None, period: Period
) -> dict[str, tuple[int, int]]:
    """Month -> (qualifying children, other children), each child once a month."""
    ac = attendance_children
    month = month_of(db, ac.c.session_date)
    where = [ac.c.session_date >= period.start, ac.c.session_date <= period.end]
    if org_id is not None:
        where.append(ac.c.org_id == org_id)
    per_child = (
        select(month.label("m"), func.max(as_int(qualifies(ac.c.qualifies))).label("q"))
        .where(*where)
        .group_by(month, ac.c.child_id)
        .subquery()
    )
    out: dict[str, list[int]] = {}
    for m, q, n in conn.execute(
        select(per_child.c.m, per_child.c.q, func.count()).group_by(per_child.c.m, per_child.c.q)
    ):
        out.setdefault(m, [0, 0])[0 if q else 1] += int(n)
    return {m: (v[0], v[1]) for m, v in out.items()}


def _families(
    db: CentralDB, conn: Connection, org_id: str | None, period: Period
) -> dict[str, tuple[int, int]]:
    """Month -> (first visits, returning families): one pass over the attendances up to the
    period's end, one row per family with its first visit and, per month, whether it came."""
    a = attendances
    month = month_of(db, a.c.session_date)
    scope = [a.c.org_id == org_id] if org_id is not None else []
    first = (
        select(a.c.family_id, func.min(a.c.session_date).label("first"))
        .where(a.c.session_date <= period.end, *scope)
        .group_by(a.c.family_id)
        .subquery()
    )
    per_month = (
        select(month.label("m"), a.c.family_id)
        .where(a.c.session_date >= period.start, a.c.session_date <= period.end, *scope)
        .group_by(month, a.c.family_id)
        .subquery()
    )
    is_first = as_int(month_of(db, first.c.first) == per_month.c.m)
    rows = conn.execute(
        select(per_month.c.m, func.count(), func.sum(is_first))
        .select_from(per_month.join(first, first.c.family_id == per_month.c.family_id))
        .group_by(per_month.c.m)
    )
    return {m: (int(f or 0), int(n) - int(f or 0)) for m, n, f in rows}


# -- plain outputs -----------------------------------------------------------------------------
def write_trend_text(trend: Trend, out: TextIO) -> None:
    w = out.write
    w(f"Trend: {trend.scope}, {trend.period.label} (baseline {month_label(trend.baseline)})\n")
    w("=" * 78 + "\n")
    w(
        f"  {'month':<9} {'qualifying':>10} {'other':>7} {'share':>7} {'first':>6} "
        f"{'return':>7}   change against the baseline\n"
    )
    for m in trend.months:
        if m.month == trend.baseline:
            change = "baseline"
        else:
            change = (
                f"qualifying {signed(trend.change(m, 'qualifying_children'))}, share "
                f"{points_text(m.share, trend.base.share)}, first visits "
                f"{signed(trend.change(m, 'first_visits'))}"
            )
        w(
            f"  {m.label:<9} {m.qualifying_children:>10,} {m.other_children:>7,} "
            f"{share_text(m.share):>7} {m.first_visits:>6,} {m.returning_families:>7,}   {change}\n"
        )
    w(
        "\nChildren are counted once a month; the share is of those children (not of "
        "child-attendances).\n"
    )


TREND_CSV_COLUMNS = (
    "month",
    "baseline",
    "qualifying_children",
    "other_children",
    "children",
    "qualifying_share_percent",
    "first_visits",
    "returning_families",
    "qualifying_children_change",
    "other_children_change",
    "first_visits_change",
    "returning_families_change",
    "qualifying_share_change_points",
)


def write_trend_csv(trend: Trend, out: TextIO) -> None:
    """One row a month; ``*_change`` against the baseline month (numbers stay numbers)."""
    writer = csv_writer(out)
    writer.writerow(TREND_CSV_COLUMNS)
    base = trend.base
    for m in trend.months:
        points = (
            "" if m.share is None or base.share is None else round(100 * (m.share - base.share), 1)
        )
        writer.writerow(
            [
                m.month,
                "yes" if m.month == trend.baseline else "",
                m.qualifying_children,
                m.other_children,
                m.children,
                "" if m.share is None else round(100 * m.share, 1),
                m.first_visits,
                m.returning_families,
                *(trend.change(m, name) for name, _words in MEASURES),
                points,
            ]
        )
