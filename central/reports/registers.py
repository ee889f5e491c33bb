"""Registers: who came to each session of a day (families, children, adults), as recorded.

>>> for reg in registers(db, "lichfield", date(2016, 4, 18)):       # doctest: +SKIP
...     print(reg.title, reg.families, reg.children, reg.adults)
Stay and Play, library, Monday 18 April 2016 09:30-11:30 12 27 14
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TextIO

from sqlalchemy import distinct, func, select

from central.db import CentralDB, attendance_children, attendances, children, events, families
from central.reports._sql import reading
from central.reports.names import read_names
from central.reports.period import REPORT_TZ, Period
from kiosk.domain.csvcells import csv_writer

CSV_COLUMNS = (
    "date",
    "site",
    "session",
    "start",
    "end",
    "family_ref",
    "family",
    "children",
    "child_refs",
    "children_count",
    "adults",
    "method",
    "volunteer",
    "checked_in",
    "clock_synced",
    "site_name",
)


@dataclass(frozen=True)
class RegisterLine:
    family_id: str
    greeting_name: str
    children: tuple[str, ...]  # first names (or the child reference if no longer on record)
    child_ids: tuple[str, ...]
    adults: int
    method: str
    volunteer: str | None
    at: datetime
    clock_synced: bool
    #: False for a reader who sees names but not the references that join to the invoice's
    #: lines (staff): the CSV leaves them out.
    refs_shown: bool = True

    @property
    def checked_in(self) -> str:
        return self.at.astimezone(REPORT_TZ).strftime("%H:%M")


@dataclass(frozen=True)
class SessionRegister:
    """One session's register."""

    org_id: str
    site_id: str
    session_date: date
    session_name: str
    start: str
    end: str
    lines: tuple[RegisterLine, ...]
    site_name: str = ""  # the site's display name

    @property
    def site_label(self) -> str:
        return self.site_name or self.site_id

    @property
    def families(self) -> int:
        return len(self.lines)

    @property
    def children(self) -> int:
        return sum(len(line.child_ids) for line in self.lines)

    @property
    def adults(self) -> int:
        return sum(line.adults for line in self.lines)

    @property
    def title(self) -> str:
        times = f" {self.start}-{self.end}" if self.start else ""
        day = self.session_date
        return f"{self.session_name}, {self.site_label}, {day:%A} {day.day} {day:%B %Y}{times}"

    def csv_rows(self) -> list[list[str]]:
        return [
            [
                self.session_date.isoformat(),
                self.site_id,
                self.session_name,
                self.start,
                self.end,
                line.family_id if line.refs_shown else "",
                line.greeting_name,
                "; ".join(line.children),
                ";".join(line.child_ids) if line.refs_shown else "",
                str(len(line.child_ids)),
                str(line.adults),
                line.method,
                line.volunteer or "",
                line.checked_in,
                "yes" if line.clock_synced else "no",
                self.site_label,
            ]
            for line in self.lines
        ]


def registers(
    db: CentralDB, org_id: str, day: date, site_id: str | None = None
) -> list[SessionRegister]:
    """Every session of ``org_id`` on ``day`` (at ``site_id`` only, if given), in time order."""
    return registers_between(db, org_id, Period(day, day), site_id)


def registers_between(
    db: CentralDB, org_id: str, period: Period, site_id: str | None = None
) -> list[SessionRegister]:
    a = attendances
    query = select(
        a.c.attendance_id,
        a.c.site_id,
        a.c.session_date,
        a.c.session_name,
        a.c.session_key,
        a.c.family_id,
        a.c.adults,
        a.c.method,
        a.c.volunteer,
        a.c.at,
        a.c.clock_synced,
        families.c.greeting_name,
    ).select_from(a.outerjoin(families, families.c.family_id == a.c.family_id))
    query = query.where(
        a.c.org_id == org_id, a.c.session_date >= period.start, a.c.session_date <= period.end
    )
    if site_id:
        query = query.where(a.c.site_id == site_id)
    with reading(db) as conn:
        rows = conn.execute(query).all()
        ids = [r.attendance_id for r in rows]
        kids = _children_of(conn, ids)
        times = _session_times(conn, ids)
    site_names = read_names(db, org_id).sites_of(org_id)
    return [
        replace(reg, site_name=site_names.get(reg.site_id, ""))
        for reg in _group(org_id, rows, kids, times)
    ]


def _children_of(conn: Any, attendance_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """Attendance id to [(child id, first name)], in the family record's order of names."""
    out: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(attendance_ids), 500):
        chunk = attendance_ids[start : start + 500]
        q = (
            select(
                attendance_children.c.attendance_id,
                attendance_children.c.child_id,
                children.c.first_name,
            )
            .select_from(
                attendance_children.join(
                    attendances, attendances.c.attendance_id == attendance_children.c.attendance_id
                ).outerjoin(
                    children,
                    (children.c.child_id == attendance_children.c.child_id)
                    & (children.c.family_id == attendances.c.family_id),
                )
            )
            .where(attendance_children.c.attendance_id.in_(chunk))
        )
        for r in conn.execute(q):
            out.setdefault(r.attendance_id, []).append((r.child_id, r.first_name or r.child_id))
    for kids in out.values():
        kids.sort(key=lambda k: (k[1].casefold(), k[0]))
    return out


def _session_times(conn: Any, attendance_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Start and end of each attendance's session, from the recording event (not a column)."""
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(attendance_ids), 500):
        chunk = attendance_ids[start : start + 500]
        for r in conn.execute(
            select(events.c.event_id, events.c.raw).where(events.c.event_id.in_(chunk))
        ):
            try:
                session = json.loads(r.raw)["data"]["session"]
                out[r.event_id] = (str(session["start"]), str(session["end"]))
            except (ValueError, KeyError, TypeError):
                continue
    return out


def _group(
    org_id: str,
    rows: Sequence[Any],
    kids: dict[str, list[tuple[str, str]]],
    times: dict[str, tuple[str, str]],
) -> list[SessionRegister]:
    sessions: dict[tuple[date, str, str], list[Any]] = {}
    for r in rows:
        sessions.setdefault((r.session_date, r.site_id, r.session_name), []).append(r)
    out = []
    for (day, site, name), members in sessions.items():
        members.sort(key=lambda r: (r.at, r.family_id))
        start, end = next(
            (times[r.attendance_id] for r in members if r.attendance_id in times), ("", "")
        )
        lines = tuple(
            RegisterLine(
                family_id=r.family_id,
                greeting_name=r.greeting_name or "(not on record)",
                children=tuple(name for _cid, name in kids.get(r.attendance_id, ())),
                child_ids=tuple(cid for cid, _name in kids.get(r.attendance_id, ())),
                adults=int(r.adults),
                method=r.method,
                volunteer=r.volunteer,
                at=r.at,
                clock_synced=bool(r.clock_synced),
            )
            for r in members
        )
        out.append(SessionRegister(org_id, site, day, name, start, end, lines))
    out.sort(key=lambda s: (s.session_date, s.start, s.site_id, s.session_name))
    return out


def write_registers_csv(regs: Sequence[SessionRegister], out: TextIO) -> None:
    """One row per family per session; names a spreadsheet would run are kept as text."""
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for reg in regs:
        writer.writerows(reg.csv_rows())


def session_days(db: CentralDB, org_id: str, period: Period) -> list[tuple[date, int, int]]:
    """Days of ``period`` with sessions: (day, sessions, families) for the dashboard's list."""
    a = attendances
    with reading(db) as conn:
        rows = conn.execute(
            select(
                a.c.session_date,
                func.count(distinct(a.c.session_key + "|" + a.c.site_id)),
                func.count(),
            )
            .where(
                a.c.org_id == org_id,
                a.c.session_date >= period.start,
                a.c.session_date <= period.end,
            )
            .group_by(a.c.session_date)
            .order_by(a.c.session_date)
        ).all()
    return [(r[0], int(r[1]), int(r[2])) for r in rows]
