"""Reach and engagement: who the sessions reach, how often they come, and who has lapsed.

For an organisation (or every organisation, for the commissioner) and a period:

- unique families and children, overall and by month, organisation, site and session, with
  the share of children that qualifies for the incentive (as recorded at the door);
- the qualifying share at each session (a good mix of families is a goal in itself);
- how often families come: one visit, 2-3, 4-7, 8 or more (the "super users");
- families not seen for six weeks (for outreach: the "disengaged"), and those who registered
  but never came;
- new registrations and how they first heard of the organisation.

Everything is counted by the database (``GROUP BY``), so a county month of a million
attendances is a handful of queries (``bench/report_speed.py``): children are counted from
``attendance_children`` alone (it carries its attendance's organisation, date and qualification),
and one pass over the attendances gives both each organisation's families and, for the same
families, whether they were seen in the six weeks before ``as_of``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import Connection, and_, func, literal, or_, select, union_all

from central.db import (
    CentralDB,
    attendance_children,
    attendances,
    families,
    require_org,
)
from central.reports._sql import alongside, as_int, month_of, qualifies, reading
from central.reports.names import Names
from central.reports.period import REPORT_TZ, Period, local_now, long_date, month_label
from kiosk.domain.csvcells import csv_writer
from kiosk.domain.families import HEARD_FROM

#: Families not seen for this long are listed for outreach.
NOT_SEEN_AFTER = timedelta(weeks=6)
#: Visit bands: (label, fewest visits, most visits or None).
VISIT_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("1 visit", 1, 1),
    ("2-3 visits", 2, 3),
    ("4-7 visits", 4, 7),
    ("8+ visits", 8, None),
)
HEARD_FROM_LABELS: dict[str | None, str] = {
    "health_visitor": "Health visitor",
    "birth_registration": "Birth registration",
    "leaflet": "Leaflet",
    "friend": "A friend",
    "social_media": "Social media",
    "school_or_nursery": "School or nursery",
    "other": "Other",
    None: "Not recorded",
}
assert set(HEARD_FROM) <= set(HEARD_FROM_LABELS)


@dataclass(frozen=True)
class Counts:
    """Unique families and children in a group, and how many of them qualify."""

    key: tuple[Any, ...]
    label: str
    families: int = 0
    qualifying_families: int = 0
    children: int = 0
    qualifying_children: int = 0
    visits: int = 0  # family attendances
    child_attendances: int = 0
    qualifying_child_attendances: int = 0
    sessions: int = 0

    @property
    def share(self) -> float | None:
        """The share of the children who qualify (None when no child came)."""
        return self.qualifying_children / self.children if self.children else None

    @property
    def attendance_share(self) -> float | None:
        """The share of child-attendances that qualify (a session's mix)."""
        if not self.child_attendances:
            return None
        return self.qualifying_child_attendances / self.child_attendances


@dataclass(frozen=True)
class VisitBand:
    label: str
    families: int
    qualifying_families: int


@dataclass(frozen=True)
class NotSeen:
    """A family not seen for six weeks (``last_seen`` None: registered but never came)."""

    org_id: str
    family_id: str
    greeting_name: str
    last_seen: date | None
    visits: int
    registered: date | None


@dataclass(frozen=True)
class Reach:
    org_id: str | None  # None: every organisation
    period: Period
    as_of: date
    total: Counts
    by_month: list[Counts]
    by_org: list[Counts]
    by_site: list[Counts]
    by_session: list[Counts]  # recurring sessions: (org, site, session name)
    occurrences: list[Counts]  # each session held: (org, site, date, session name)
    visit_bands: list[VisitBand]
    registrations: int
    heard_from: list[tuple[str | None, str, int]]
    not_seen: list[NotSeen]
    not_seen_by_org: list[tuple[str, int]]
    generated_at: datetime = field(default_factory=local_now, compare=False)
    #: The organisation's display name, set by :func:`with_names`.
    org_name: str = ""

    @property
    def scope(self) -> str:
        return self.org_name or self.org_id or "all organisations"

    @property
    def not_seen_cutoff(self) -> date:
        return self.as_of - NOT_SEEN_AFTER

    @property
    def lapsed(self) -> list[NotSeen]:
        return [f for f in self.not_seen if f.last_seen is not None]

    @property
    def not_seen_count(self) -> int:
        return sum(n for _org, n in self.not_seen_by_org)


def build_reach(
    db: CentralDB,
    org_id: str | None,
    period: Period,
    as_of: date | None = None,
    with_names: bool = True,
) -> Reach:
    """Reach of ``org_id`` (None: every organisation) in ``period``.

    ``as_of`` (default: the period's last day, or today if that is later than today) is the day
    from which "not seen for six weeks" is counted. ``with_names`` lists the families not seen
    by name (for the organisation's own staff); without it only their numbers are given.

    Across every organisation the breakdowns are by month and organisation (a family belongs
    to one organisation, so the organisations add up to the county); each organisation's own
    report adds its sites, sessions and each session held.
    """
    today = local_now().date()
    as_of = as_of or min(period.end, today)
    with reading(db) as conn, contextlib.ExitStack() as stack:
        if org_id is not None:
            require_org(conn, org_id)
        q = _Queries(db, conn, org_id, period, as_of)
        children = None
        other = stack.enter_context(alongside(db, conn)) if org_id is None else None
        if other is not None:
            # The county's children (the biggest query) on a second connection, same snapshot,
            # while this one counts the families, the lapsed and the sessions.
            pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="reach"))
            twin = _Queries(db, other, org_id, period, as_of)
            children = pool.submit(twin.entity_rollup, ("org",), "child")
        by_org = q.rollup(("org",), lambda k: k[0], children)
        total = _sum("total", by_org)
        if len(period.months()) > 1:
            by_month = q.rollup(("month",), lambda k: month_label(k[0]))
        else:
            only = period.months()[0]
            by_month = [replace(total, key=(only,), label=month_label(only))]
        by_site: list[Counts] = []
        by_session: list[Counts] = []
        occurrences: list[Counts] = []
        if org_id is not None:
            by_site = q.rollup(("site",), lambda k: k[0])
            by_session = q.rollup(("site", "session"), lambda k: f"{k[1]} ({k[0]})")
            occurrences = q.occurrences()
        bands = q.visit_bands()  # from the organisations' roll-up: no query of its own
        regs = q.registrations()
        not_seen = q.not_seen_names() if with_names and org_id is not None else []
        not_seen_by_org = q.not_seen_by_org
    heard: dict[str | None, int] = {}
    for _registered_at, heard_from in regs:
        code = heard_from if heard_from in HEARD_FROM_LABELS else ("other" if heard_from else None)
        heard[code] = heard.get(code, 0) + 1
    return Reach(
        org_id=org_id,
        period=period,
        as_of=as_of,
        total=total,
        by_month=_fill_months(period, by_month),
        by_org=sorted(by_org, key=lambda c: c.key),
        by_site=sorted(by_site, key=lambda c: c.key),
        by_session=sorted(by_session, key=lambda c: (-c.visits, c.key)),
        occurrences=occurrences,
        visit_bands=bands,
        registrations=len(regs),
        heard_from=[
            (code, label, heard.get(code, 0))
            for code, label in HEARD_FROM_LABELS.items()
            if heard.get(code, 0) or code is not None
        ],
        not_seen=not_seen,
        not_seen_by_org=not_seen_by_org,
    )


def with_names(reach: Reach, names: Names) -> Reach:
    """``reach`` with organisations and sites labelled by their display names: the
    keys keep the ids, only the labels people read change."""

    def site(org: str, site_id: str) -> str:
        return names.site(org, site_id)

    org = reach.org_id

    def relabel(rows: Sequence[Counts], label: Any) -> list[Counts]:
        return [replace(c, label=label(c)) for c in rows]

    by_org = relabel(reach.by_org, lambda c: names.org(c.key[0]))
    if org is None:
        return replace(reach, by_org=by_org)
    return replace(
        reach,
        org_name=names.org(org) if org in names.orgs else "",
        by_org=by_org,
        by_site=relabel(reach.by_site, lambda c: site(org, c.key[0])),
        by_session=relabel(reach.by_session, lambda c: f"{c.key[1]} ({site(org, c.key[0])})"),
        occurrences=relabel(
            reach.occurrences,
            lambda c: (
                f"{c.key[2]:%a} {c.key[2].day} {c.key[2]:%b}: {c.key[3]} ({site(org, c.key[1])})"
            ),
        ),
    )


#: The measures of a reach row the queries fill per group (``sessions`` is counted apart).
_MEASURES = (
    "families",
    "qualifying_families",
    "children",
    "qualifying_children",
    "visits",
    "child_attendances",
    "qualifying_child_attendances",
)


def _sum(label: str, parts: Sequence[Counts]) -> Counts:
    """Groups that share no family (organisations) added up."""
    fields = (*_MEASURES, "sessions")
    return Counts((), label, **{f: sum(getattr(c, f) for c in parts) for f in fields})


def _fill_months(period: Period, rows: list[Counts]) -> list[Counts]:
    """One row per month of the period, empty months included."""
    have = {c.key[0]: c for c in rows}
    return [have.get(m) or Counts((m,), month_label(m)) for m in period.months()]


class _Queries:
    """The reach queries for one scope and period, on one connection (one snapshot).

    Unique families (children) per group are counted with a roll-up that the database does by
    hashing, not sorting: first one row per group and family (child) with its visits and
    whether it qualified, then per group and (visits, qualified) the number of families.

    Groups are named: ``org``, ``month``, ``site`` and ``session`` (the session's name). The
    organisations' family roll-up also answers "not seen for six weeks" (see
    :meth:`_families_by_org`), so a county month reads its attendances once for families and
    its child attendances once for children.
    """

    def __init__(
        self, db: CentralDB, conn: Connection, org_id: str | None, period: Period, as_of: date
    ):
        self.db, self.conn, self.org_id, self.period, self.as_of = db, conn, org_id, period, as_of
        self.cutoff = as_of - NOT_SEEN_AFTER
        self.where = self._scope(attendances)
        self.child_where = self._scope(attendance_children)
        self._family_visits: list[tuple[Any, ...]] = []
        self.not_seen_by_org: list[tuple[str, int]] = []

    def _scope(self, table: Any) -> list[Any]:
        """The period (and organisation) as conditions on ``table``'s own columns."""
        where = [table.c.session_date >= self.period.start, table.c.session_date <= self.period.end]
        if self.org_id is not None:
            where.append(table.c.org_id == self.org_id)
        return where

    def _columns(self, table: Any, group: Sequence[str]) -> list[Any]:
        named = {"org": table.c.org_id, "month": month_of(self.db, table.c.session_date)}
        if table is attendances:
            named |= {"site": table.c.site_id, "session": table.c.session_name}
        return [named[g] for g in group]

    def entity_rollup(self, group: Sequence[str], entity: str) -> list[Any]:
        """Rows (*group, visits, qualified, entities, qualifying visits) for families/children."""
        a, ac = attendances, attendance_children
        if entity == "family":
            source, who, q, where = a, a.c.family_id, qualifies(), self.where
            columns = self._columns(a, group)
        elif set(group) <= {"org", "month"}:  # attendance_children carries these itself
            source, who, q, where = ac, ac.c.child_id, qualifies(ac.c.qualifies), self.child_where
            columns = self._columns(ac, group)
        else:
            source = a.join(ac, ac.c.attendance_id == a.c.attendance_id)
            who, q, where = ac.c.child_id, qualifies(ac.c.qualifies), self.where + self.child_where
            columns = self._columns(a, group)
        flag = as_int(q)
        inner = (
            select(
                *(c.label(f"g{i}") for i, c in enumerate(columns)),
                who.label("who"),
                func.count().label("n"),
                func.max(flag).label("q"),
                func.sum(flag).label("qn"),
            )
            .select_from(source)
            .where(*where)
            .group_by(*columns, who)
            .subquery()
        )
        keys = [inner.c[f"g{i}"] for i in range(len(group))]
        return self.conn.execute(
            select(*keys, inner.c.n, inner.c.q, func.count(), func.sum(inner.c.qn)).group_by(
                *keys, inner.c.n, inner.c.q
            )
        ).all()

    def _per_family(self) -> Any:
        """One row per organisation and family seen in the period or the six weeks to
        ``as_of``: its visits in the period (``n``), whether one qualified (``q``) and whether
        it came in those six weeks (``seen``)."""
        a = attendances
        in_period = and_(a.c.session_date >= self.period.start, a.c.session_date <= self.period.end)
        in_window = and_(a.c.session_date >= self.cutoff, a.c.session_date <= self.as_of)
        query = (
            select(
                a.c.org_id,
                a.c.family_id,
                func.sum(as_int(in_period)).label("n"),
                func.max(as_int(and_(in_period, qualifies()))).label("q"),
                func.max(as_int(in_window)).label("seen"),
            )
            .where(or_(in_period, in_window))
            .group_by(a.c.org_id, a.c.family_id)
        )
        if self.org_id is not None:
            query = query.where(a.c.org_id == self.org_id)
        return query.cte("per_family")

    def _not_seen_from(self, per_family: Any) -> tuple[Any, list[Any]]:
        """Families (joined to ``per_family``) not seen for six weeks: none of their visits up to
        ``as_of`` falls in the six weeks, and they came before them or registered before them
        (registered but never came)."""
        a, f = attendances, families
        cutoff_utc = Period(self.cutoff, self.cutoff).utc_bounds()[0]
        came_before = select(literal(1)).where(
            a.c.family_id == f.c.family_id, a.c.session_date < self.cutoff
        )
        if self.org_id is not None:
            came_before = came_before.where(a.c.org_id == self.org_id)
        joined = f.outerjoin(
            per_family, and_(per_family.c.family_id == f.c.family_id, per_family.c.seen == 1)
        )
        where = [
            per_family.c.family_id.is_(None),
            or_(f.c.registered_at < cutoff_utc, came_before.exists()),
        ]
        if self.org_id is not None:
            where.append(f.c.org_id == self.org_id)
        return joined, where

    def _families_by_org(self) -> list[Any]:
        """The organisations' family roll-up (as :meth:`entity_rollup`), and on the way the
        number of families not seen for six weeks per organisation (``not_seen_by_org``)."""
        per_family = self._per_family()
        pf = per_family.c
        visits = (
            select(literal("visits").label("kind"), pf.org_id, pf.n, pf.q, func.count())
            .where(pf.n > 0)
            .group_by(pf.org_id, pf.n, pf.q)
        )
        joined, where = self._not_seen_from(per_family)
        f = families
        lapsed = (
            select(literal("not_seen"), f.c.org_id, literal(0), literal(0), func.count())
            .select_from(joined)
            .where(*where)
            .group_by(f.c.org_id)
        )
        rows = self.conn.execute(union_all(visits, lapsed)).all()
        self.not_seen_by_org = sorted((r[1], int(r[4])) for r in rows if r[0] == "not_seen")
        return [(org, n, q, count, 0) for kind, org, n, q, count in rows if kind == "visits"]

    def rollup(
        self, group: Sequence[str], label: Any, children: Future[list[Any]] | None = None
    ) -> list[Counts]:
        """Counts per group; ``children``: the children's roll-up already under way elsewhere."""
        out: dict[tuple[Any, ...], dict[str, int]] = {}
        width = len(group)
        sessions = self.sessions(group)  # before waiting for ``children``
        for entity in ("family", "child"):
            if entity == "family" and tuple(group) == ("org",):
                rows = self._families_by_org()
                # A family belongs to one organisation: its visits in the period, per org.
                self._family_visits = [tuple(r[1:]) for r in rows]
            elif entity == "child" and children is not None:
                rows = children.result()
            else:
                rows = self.entity_rollup(group, entity)
            for row in rows:
                key = tuple(row[:width])
                n, qualified, count, qn = (int(v or 0) for v in row[width:])
                m = out.setdefault(key, dict.fromkeys(_MEASURES, 0))
                if entity == "family":
                    m["families"] += count
                    m["qualifying_families"] += count if qualified else 0
                    m["visits"] += n * count
                else:
                    m["children"] += count
                    m["qualifying_children"] += count if qualified else 0
                    m["child_attendances"] += n * count
                    m["qualifying_child_attendances"] += qn
        return [
            Counts(key, label(key), **m, sessions=sessions.get(key, 0)) for key, m in out.items()
        ]

    def sessions(self, group: Sequence[str]) -> dict[tuple[Any, ...], int]:
        """Sessions held per group (a session: a site, a date and a session name)."""
        a = attendances
        columns = self._columns(a, group)
        held = (
            select(*(c.label(f"g{i}") for i, c in enumerate(columns)))
            .where(*self.where)
            .group_by(*columns, a.c.site_id, a.c.session_date, a.c.session_name)
            .subquery()
        )
        keys = [held.c[f"g{i}"] for i in range(len(group))]
        rows = self.conn.execute(select(*keys, func.count()).group_by(*keys)).all()
        return {tuple(r[: len(group)]): int(r[-1]) for r in rows}

    def occurrences(self) -> list[Counts]:
        """Each session held, with its children and the share that qualify."""
        a, ac, q = attendances, attendance_children, as_int(qualifies())
        group = (a.c.org_id, a.c.site_id, a.c.session_date, a.c.session_name)
        families = {
            tuple(r[:4]): (int(r[4]), int(r[5] or 0))
            for r in self.conn.execute(
                select(*group, func.count(), func.sum(q)).where(*self.where).group_by(*group)
            )
        }
        kids = {
            tuple(r[:4]): (int(r[4]), int(r[5] or 0))
            for r in self.conn.execute(
                select(*group, func.count(), func.sum(as_int(qualifies(ac.c.qualifies))))
                .select_from(a.join(ac, ac.c.attendance_id == a.c.attendance_id))
                .where(*self.where, *self.child_where)
                .group_by(*group)
            )
        }
        out = []
        for key in sorted(families, key=lambda k: (k[2], k[0], k[1], k[3])):
            org, site, day, name = key
            fams, qfams = families[key]
            children, qkids = kids.get(key, (0, 0))
            out.append(
                Counts(
                    key,
                    f"{day:%a} {day.day} {day:%b}: {name} ({site if self.org_id else org})",
                    families=fams,
                    qualifying_families=qfams,
                    children=children,
                    qualifying_children=qkids,
                    visits=fams,
                    child_attendances=children,
                    qualifying_child_attendances=qkids,
                    sessions=1,
                )
            )
        return out

    def visit_bands(self) -> list[VisitBand]:
        """Families by visits, from the per-organisation roll-up (run that first)."""
        rows = self._family_visits
        bands = []
        for label, lo, hi in VISIT_BANDS:
            inside = [r for r in rows if r[0] >= lo and (hi is None or r[0] <= hi)]
            bands.append(
                VisitBand(
                    label,
                    sum(int(r[2]) for r in inside),
                    sum(int(r[2]) for r in inside if r[1]),
                )
            )
        return bands

    def registrations(self) -> list[tuple[datetime, str | None]]:
        lo, hi = self.period.utc_bounds()
        f = families
        query = select(f.c.registered_at, f.c.heard_from).where(
            f.c.registered_at >= lo, f.c.registered_at < hi
        )
        if self.org_id is not None:
            query = query.where(f.c.org_id == self.org_id)
        return [(r[0], r[1]) for r in self.conn.execute(query)]

    def not_seen_names(self) -> list[NotSeen]:
        """The families not seen for six weeks by name (one organisation), the most recently
        lapsed first, then those who never came."""
        a, f = attendances, families
        per_family = self._per_family()
        joined, where = self._not_seen_from(per_family)
        mine = [a.c.family_id == f.c.family_id, a.c.session_date <= self.as_of]
        if self.org_id is not None:
            mine.append(a.c.org_id == self.org_id)
        last_seen = select(func.max(a.c.session_date)).where(*mine).scalar_subquery()
        visits = select(func.count()).where(*mine).scalar_subquery()
        rows = self.conn.execute(
            select(
                f.c.org_id,
                f.c.family_id,
                f.c.greeting_name,
                last_seen.label("last_seen"),
                visits.label("visits"),
                f.c.registered_at,
            )
            .select_from(joined)
            .where(*where)
        ).all()
        out = [
            NotSeen(
                r.org_id,
                r.family_id,
                r.greeting_name,
                r.last_seen,
                int(r.visits or 0),
                r.registered_at.astimezone(REPORT_TZ).date() if r.registered_at else None,
            )
            for r in rows
        ]
        # The most recently lapsed first (the likeliest to come back), then never came.
        out.sort(
            key=lambda n: (n.last_seen is None, -(n.last_seen or date.min).toordinal(), n.family_id)
        )
        return out


# -- plain outputs -----------------------------------------------------------------------------
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def write_reach_text(reach: Reach, out: TextIO) -> None:
    """The reach report as plain text (``kiosk-central report reach``)."""
    t = reach.total
    w = out.write
    w(f"Reach and engagement: {reach.scope}, {reach.period.label}\n")
    w("=" * 72 + "\n")
    w(f"Families: {t.families}   children: {t.children}   sessions held: {t.sessions}\n")
    w(
        f"Qualifying: {t.qualifying_families} families, {t.qualifying_children} children "
        f"({percent(t.share)} of the children who came)\n"
    )
    w(f"Family visits: {t.visits}   child-attendances: {t.child_attendances}\n\n")

    def table(title: str, rows: Sequence[Counts]) -> None:
        if not rows:
            return
        w(f"{title}\n")
        w(f"  {'':<40} {'families':>8} {'children':>8} {'qualify':>8} {'share':>6}\n")
        for c in rows:
            w(
                f"  {c.label[:40]:<40} {c.families:>8} {c.children:>8} "
                f"{c.qualifying_children:>8} {percent(c.share):>6}\n"
            )
        w("\n")

    table("By month", reach.by_month)
    if reach.org_id is None:
        table("By organisation", reach.by_org)
    table("By site", reach.by_site)
    table("By session", reach.by_session)
    w("How often families came\n")
    for band in reach.visit_bands:
        w(f"  {band.label:<12} {band.families:>6} families ({band.qualifying_families} qualify)\n")
    w("\n")
    w(f"New registrations: {reach.registrations}. How they first heard of us:\n")
    for _code, label, n in reach.heard_from:
        w(f"  {label:<22} {n:>6}\n")
    w("\n")
    w("Qualifying share of the children at each session\n")
    for occ in reach.occurrences:
        w(
            f"  {occ.label[:48]:<48} {occ.qualifying_children:>4} of {occ.children:<4} "
            f"{percent(occ.attendance_share):>5}\n"
        )
    w("\n")
    w(
        f"Not seen for six weeks (since before {long_date(reach.not_seen_cutoff)}): "
        f"{reach.not_seen_count} families\n"
    )
    for fam in reach.not_seen:
        seen = f"last seen {fam.last_seen}" if fam.last_seen else "registered, never came"
        w(f"  {fam.family_id:<14} {fam.greeting_name[:24]:<24} {seen} ({fam.visits} visits)\n")


REACH_CSV_COLUMNS = (
    "section",
    "group",
    "families",
    "qualifying_families",
    "children",
    "qualifying_children",
    "qualifying_share",
    "family_visits",
    "child_attendances",
    "qualifying_child_attendances",
    "sessions",
)


def write_reach_csv(reach: Reach, out: TextIO) -> None:
    """The figures as one tidy table: a ``section`` column says which breakdown a row is."""
    writer = csv_writer(out)  # session, site and organisation names are never formulas
    writer.writerow(REACH_CSV_COLUMNS)

    def counts(section: str, rows: Sequence[Counts]) -> None:
        for c in rows:
            share = c.attendance_share if section == "session_held" else c.share
            writer.writerow(
                [
                    section,
                    c.label,
                    c.families,
                    c.qualifying_families if section != "session_held" else "",
                    c.children,
                    c.qualifying_children,
                    "" if share is None else f"{share:.4f}",
                    c.visits,
                    c.child_attendances,
                    c.qualifying_child_attendances,
                    c.sessions,
                ]
            )

    counts("total", [reach.total])
    counts("month", reach.by_month)
    if reach.org_id is None:
        counts("organisation", reach.by_org)
    counts("site", reach.by_site)
    counts("session", reach.by_session)
    counts("session_held", reach.occurrences)
    for band in reach.visit_bands:
        writer.writerow(["visits", band.label, band.families, band.qualifying_families])
    writer.writerow(["new_registrations", "all", reach.registrations])
    for _code, label, n in reach.heard_from:
        writer.writerow(["heard_from", label, n])
    for org, n in reach.not_seen_by_org:
        writer.writerow(["not_seen_six_weeks", org, n])
