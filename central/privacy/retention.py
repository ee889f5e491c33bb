"""Retention on the central server: how long each organisation keeps attendances.

A policy per organisation (``kiosk-central retention set ORG --years N --policy P``):

- ``aggregate``: attendances older than N years are counted per organisation, site and month
  (attendances, child-attendances, qualifying child-attendances) into
  ``attendance_aggregates``, then deleted with their events and reviews;
- ``delete``: the same, without keeping the counts.

No policy: everything is kept. ``retention apply`` does what the policies say, as of a day
(``--today``, default today), and ``--dry-run`` reports what it would do and changes nothing.
Families and cards are not touched here: a family is removed by ``family erase``.

    >>> set_policy(db, "lichfield", years=6, policy="aggregate", set_by="alice")  # doctest: +SKIP
    >>> for run in apply_retention(db, date(2026, 11, 23), dry_run=True):          # doctest: +SKIP
    ...     print(run.line())
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from central.db import (
    CentralDB,
    CentralError,
    NotFound,
    attendance_aggregates,
    attendance_children,
    attendance_reviews,
    attendances,
    events,
    orgs,
    retention_policies,
    retention_runs,
    utcnow,
)

POLICIES: tuple[str, ...] = ("aggregate", "delete")
#: Longest retention that can be set (a typo such as 600 is refused).
MAX_YEARS = 100
_CHUNK = 500


@dataclass(frozen=True)
class Policy:
    org_id: str
    years: int
    policy: str
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class RetentionRun:
    """What ``apply_retention`` did (or would do) for one organisation."""

    org_id: str
    policy: str
    years: int
    cutoff: date
    attendances: int
    child_attendances: int
    events: int
    months: int
    dry_run: bool

    def line(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        kept = (
            f"; counts kept for {self.months} site-month(s) in attendance_aggregates"
            if self.policy == "aggregate" and self.attendances
            else ""
        )
        return (
            f"{self.org_id}: {self.policy} after {self.years} year(s), before {self.cutoff}: "
            f"{verb} {self.attendances} attendance(s) ({self.child_attendances} "
            f"child-attendance(s)) and {self.events} event(s){kept}"
        )


def set_policy(db: CentralDB, org_id: str, years: int, policy: str, set_by: str) -> Policy:
    """Set (or replace) ``org_id``'s retention policy."""
    if policy not in POLICIES:
        raise CentralError(f"policy {policy!r} must be one of {', '.join(POLICIES)}")
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= MAX_YEARS:
        raise CentralError(f"--years {years!r} must be a whole number from 1 to {MAX_YEARS}")
    now = utcnow()
    with db.writing(org_id) as conn:
        if conn.execute(select(orgs.c.org_id).where(orgs.c.org_id == org_id)).first() is None:
            raise NotFound(f"no organisation {org_id!r}")
        values = {"years": years, "policy": policy, "set_by": set_by or "unknown", "set_at": now}
        exists = conn.execute(
            select(retention_policies.c.org_id).where(retention_policies.c.org_id == org_id)
        ).first()
        if exists:
            conn.execute(
                update(retention_policies)
                .where(retention_policies.c.org_id == org_id)
                .values(**values)
            )
        else:
            conn.execute(insert(retention_policies).values(org_id=org_id, **values))
    return Policy(org_id, years, policy, values["set_by"], now)


def policies(db: CentralDB) -> dict[str, Policy | None]:
    """Every organisation and its policy (None: no policy, everything is kept)."""
    with db.reading() as conn:
        names = list(conn.execute(select(orgs.c.org_id).order_by(orgs.c.org_id)).scalars())
        rows = {r.org_id: r for r in conn.execute(select(retention_policies))}
    return {
        org: (Policy(org, r.years, r.policy, r.set_by, r.set_at) if (r := rows.get(org)) else None)
        for org in names
    }


def cutoff_for(today: date, years: int) -> date:
    """The first day kept: ``today`` less ``years`` years (29 February becomes the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def apply_retention(
    db: CentralDB, today: date, dry_run: bool = False, ran_by: str = "unknown"
) -> list[RetentionRun]:
    """Apply every organisation's policy as of ``today``; one run per organisation with a
    policy, whether or not anything was old enough."""
    runs = []
    for policy in policies(db).values():
        if policy is None:
            continue
        runs.append(_apply_one(db, policy, cutoff_for(today, policy.years), dry_run, ran_by))
    if not dry_run and any(r.attendances or r.events for r in runs):
        _audit(db, ran_by, today, runs)
    return runs


def _apply_one(
    db: CentralDB, policy: Policy, cutoff: date, dry_run: bool, ran_by: str
) -> RetentionRun:
    a, ac = attendances, attendance_children
    old = (a.c.org_id == policy.org_id, a.c.session_date < cutoff)
    with db.writing(policy.org_id) as conn:  # no batch lands half way through
        rows = conn.execute(
            select(a.c.attendance_id, a.c.site_id, a.c.session_date, a.c.qualifies).where(*old)
        ).all()
        ids = [r.attendance_id for r in rows]
        kids: dict[str, int] = defaultdict(int)
        for chunk in _chunks(ids):
            for r in conn.execute(
                select(ac.c.attendance_id).where(ac.c.attendance_id.in_(chunk))
            ).scalars():
                kids[r] += 1
        months: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in rows:
            counts = months[(r.site_id, r.session_date.strftime("%Y-%m"))]
            counts[0] += 1
            counts[1] += kids[r.attendance_id]
            counts[2] += kids[r.attendance_id] if r.qualifies else 0
        event_ids: list[int] = []
        for chunk in _chunks(ids):
            event_ids.extend(
                conn.execute(
                    select(events.c.id).where(
                        events.c.org_id == policy.org_id,
                        events.c.event_id.in_(chunk) | events.c.subject_id.in_(chunk),
                        events.c.type.in_(("attendance.recorded", "attendance.amended")),
                    )
                ).scalars()
            )
        run = RetentionRun(
            policy.org_id,
            policy.policy,
            policy.years,
            cutoff,
            len(ids),
            sum(kids.values()),
            len(event_ids),
            len(months),
            dry_run,
        )
        if dry_run or not ids:
            return run
        now = utcnow()
        if policy.policy == "aggregate":
            _add_counts(conn, policy.org_id, months, now)
        for chunk in _chunks(ids):
            conn.execute(delete(ac).where(ac.c.attendance_id.in_(chunk)))
            conn.execute(
                delete(attendance_reviews).where(attendance_reviews.c.attendance_id.in_(chunk))
            )
            conn.execute(delete(a).where(a.c.attendance_id.in_(chunk)))
        for chunk in _chunks(event_ids):
            conn.execute(delete(events).where(events.c.id.in_(chunk)))
        conn.execute(
            insert(retention_runs).values(
                org_id=policy.org_id,
                ran_at=now,
                ran_by=ran_by,
                policy=policy.policy,
                cutoff=cutoff,
                attendances=run.attendances,
                child_attendances=run.child_attendances,
                events=run.events,
            )
        )
    return run


def _add_counts(
    conn: Any, org_id: str, months: dict[tuple[str, str], list[int]], now: datetime
) -> None:
    """Add to the kept counts (a later run may reach a month again: late events)."""
    agg = attendance_aggregates
    for (site_id, month), (count, child, qualifying) in sorted(months.items()):
        key = (agg.c.org_id == org_id, agg.c.site_id == site_id, agg.c.month == month)
        held = conn.execute(select(agg).where(*key)).first()
        if held is None:
            conn.execute(
                insert(agg).values(
                    org_id=org_id,
                    site_id=site_id,
                    month=month,
                    attendances=count,
                    child_attendances=child,
                    qualifying_child_attendances=qualifying,
                    updated_at=now,
                )
            )
        else:
            conn.execute(
                update(agg)
                .where(*key)
                .values(
                    attendances=held.attendances + count,
                    child_attendances=held.child_attendances + child,
                    qualifying_child_attendances=held.qualifying_child_attendances + qualifying,
                    updated_at=now,
                )
            )


def aggregates(db: CentralDB, org_id: str | None = None) -> list[dict[str, Any]]:
    """The kept counts, by organisation, site and month."""
    query = select(attendance_aggregates).order_by(
        attendance_aggregates.c.org_id,
        attendance_aggregates.c.month,
        attendance_aggregates.c.site_id,
    )
    if org_id is not None:
        query = query.where(attendance_aggregates.c.org_id == org_id)
    with db.reading() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _audit(db: CentralDB, actor: str, today: date, runs: list[RetentionRun]) -> None:
    from central import audit

    audit.record(
        db,
        actor,
        "retention.apply",
        ",".join(r.org_id for r in runs if r.attendances or r.events),
        {
            "today": today.isoformat(),
            "runs": {
                r.org_id: {
                    "policy": r.policy,
                    "cutoff": r.cutoff.isoformat(),
                    "attendances": r.attendances,
                    "events": r.events,
                }
                for r in runs
            },
        },
    )


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
