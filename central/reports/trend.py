"""The trend over a pilot: month by month, against a baseline month.

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

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from sqlalchemy import BigInteger, Connection, and_, case, func, literal, select

from central.db import CentralDB, CentralError, NotFound, attendance_children, attendances, orgs
from central.reports._sql import (
    MASK_MONTHS,
    alongside,
    bits_or,
    has_bit,
    month_bit,
    month_number,
    qualifies,
    reading,
)
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
    with reading(db) as conn, contextlib.ExitStack() as stack:
        if (
            org_id is not None
            and conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first() is None
        ):
            raise NotFound(f"no organisation {org_id!r} (see 'kiosk-central org add')")
        other = stack.enter_context(alongside(db, conn))
        if other is not None:
            # PostgreSQL: the families on a second connection, same snapshot, at the same time.
            pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="trend"))
            families_later = pool.submit(_families, db, other, org_id, period)
            kids = _children(db, conn, org_id, period)
            fams = families_later.result()
        else:
            kids = _children(db, conn, org_id, period)
            fams = _families(db, conn, org_id, period)
    out = []
    for ym in months:
        q, other = kids.get(ym, (0, 0))
        first, returning = fams.get(ym, (0, 0))
        out.append(TrendMonth(ym, q, other, first, returning))
    return Trend(org_id, period, baseline, out)


def _chunks(period: Period) -> list[Period]:
    """The period in pieces of at most ``MASK_MONTHS`` months (one bitmask each)."""
    months = period.months()
    out = []
    for i in range(0, len(months), MASK_MONTHS):
        part = months[i : i + MASK_MONTHS]
        out.append(
            Period(
                max(period.start, Period.month(part[0]).start),
                min(period.end, Period.month(part[-1]).end),
            )
        )
    return out


def _first_month(period: Period) -> int:
    return period.start.year * 12 + period.start.month


def _children(
    db: CentralDB, conn: Connection, org_id: str | None, period: Period
) -> dict[str, tuple[int, int]]:
    """Month -> (qualifying children, other children), each child once a month.

    One row per child, whatever the number of months: the months it came in as the bits of
    one number (and those with a qualifying attendance as another), so the database hashes
    each child once instead of each child and month (``central.reports._sql.month_bit``)."""
    ac = attendance_children
    out: dict[str, tuple[int, int]] = {}
    for part in _chunks(period):
        months = part.months()
        bit = month_bit(db, ac.c.session_date, _first_month(part))
        where = [ac.c.session_date >= part.start, ac.c.session_date <= part.end]
        if org_id is not None:
            where.append(ac.c.org_id == org_id)
        no_bit = literal(0, BigInteger)
        per_child = (
            select(
                bits_or(db, bit).label("mask"),
                bits_or(db, case((qualifies(ac.c.qualifies), bit), else_=no_bit)).label("q"),
            )
            .where(*where)
            .group_by(ac.c.child_id)
            .subquery()
        )
        n = len(months)
        row = conn.execute(
            select(
                *(func.sum(has_bit(per_child.c.mask, m)) for m in range(n)),
                *(func.sum(has_bit(per_child.c.q, m)) for m in range(n)),
            )
        ).one()
        for m, ym in enumerate(months):
            everyone, qualifying = int(row[m] or 0), int(row[n + m] or 0)
            out[ym] = (qualifying, everyone - qualifying)
    return out


def _families(
    db: CentralDB, conn: Connection, org_id: str | None, period: Period
) -> dict[str, tuple[int, int]]:
    """Month -> (first visits, returning families): one pass over the attendances up to the
    period's end, one row per family with its first visit and the months it came in (bits)."""
    a = attendances
    scope = [a.c.org_id == org_id] if org_id is not None else []
    out: dict[str, tuple[int, int]] = {}
    for part in _chunks(period):
        months = part.months()
        first_month = _first_month(part)
        in_part = and_(a.c.session_date >= part.start, a.c.session_date <= part.end)
        bit = case((in_part, month_bit(db, a.c.session_date, first_month)), else_=literal(0))
        per_family = (
            select(func.min(a.c.session_date).label("first"), bits_or(db, bit).label("mask"))
            .where(a.c.session_date <= part.end, *scope)
            .group_by(a.c.family_id)
            .subquery()
        )
        n = len(months)
        first = (month_number(db, per_family.c.first) - first_month).label("first")
        rows = conn.execute(
            select(
                first, func.count(), *(func.sum(has_bit(per_family.c.mask, m)) for m in range(n))
            ).group_by(first)
        ).all()
        for m, ym in enumerate(months):
            came = sum(int(r[2 + m] or 0) for r in rows)
            new = sum(int(r[1]) for r in rows if r[0] == m)
            out[ym] = (new, came - new)
    return out


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
