"""What the server holds for kiosks to set themselves up with: each site's timetable and each
organisation's risk list (so that a kiosk whose SD card was replaced is ready for the door
after ``kiosk-admin enrol``).

The tables live in :mod:`central.db` (migration 3); this module reads and writes them with the
kiosk's own domain rules, so a session or a risk list means exactly what it means on a kiosk:

- sessions are ``kiosk.domain.timetable.SessionSlot``: weekly or one-off, no overlaps, ids made
  like ``kiosk-admin session add`` makes them (``stay-and-play-mon``);
- risk lists are read with ``kiosk.domain.risk.parse_risk_file`` and every import is a new
  version (number, sha256, time), old versions kept. Kiosks store the server's number, so the
  ``risk_version`` recorded in attendances (``v3-1a2b3c4d5e``) is the same at every kiosk.

    >>> add_session(db, "lichfield", "library", "Stay and Play", "09:30", "11:30", weekday="mon")
    ... # doctest: +SKIP
    >>> import_risk(db, "lichfield", Path("council-list.csv").read_text(), "council-list.csv")
    ... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from central.db import (
    CentralDB,
    CentralError,
    Device,
    NotFound,
    require_org,
    require_site,
    risk_lists,
    site_sessions,
    utcnow,
)
from kiosk.domain.errors import KioskError
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import (
    RiskChange,
    RiskList,
    RiskListShrinkError,
    RiskSource,
    check_change,
    compare,
    parse_risk_file,
)
from kiosk.domain.timetable import SessionSlot, Timetable, make_slot, slot_id_for


class SetupError(CentralError):
    """A session or risk list that cannot be stored; the message says why."""

    def __init__(self, message: str, problems: tuple[tuple[int, str], ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems


# -- timetables --------------------------------------------------------------------------------
def _slot(row: Any) -> SessionSlot:
    return SessionSlot.from_dict(
        {
            "slot_id": row.slot_id,
            "name": row.name,
            "start": row.start_time,
            "end": row.end_time,
            "weekday": row.weekday,
            "on_date": row.on_date.isoformat() if row.on_date else None,
        },
        origin="server",
    )


def timetable(db: CentralDB, org_id: str, site_id: str) -> Timetable:
    """The site's sessions as the server holds them (empty when none were added)."""
    with db.reading() as conn:
        rows = conn.execute(
            select(site_sessions)
            .where(site_sessions.c.org_id == org_id, site_sessions.c.site_id == site_id)
            .order_by(site_sessions.c.created_at, site_sessions.c.slot_id)
        ).all()
    return Timetable(tuple(_slot(r) for r in rows))


def add_session(
    db: CentralDB,
    org_id: str,
    site_id: str,
    name: str,
    start: str,
    end: str,
    weekday: str | None = None,
    on_date: str | None = None,
) -> SessionSlot:
    """Add a weekly (``weekday``) or one-off (``on_date``) session to a site's timetable."""
    with db.reading() as conn:
        require_site(conn, org_id, site_id)
    current = timetable(db, org_id, site_id)
    slot_id = slot_id_for(name, weekday, on_date, {s.slot_id for s in current.slots})
    try:
        slot = make_slot(slot_id, name, start, end, weekday, on_date)
        current.add(slot)  # refuses overlaps with a clear message
    except KioskError as exc:
        raise SetupError(str(exc)) from None
    with db.writing(org_id) as conn:
        conn.execute(
            insert(site_sessions).values(
                org_id=org_id,
                site_id=site_id,
                slot_id=slot.slot_id,
                name=slot.name,
                weekday=slot.weekday,
                on_date=slot.on_date,
                start_time=slot.start.strftime("%H:%M"),
                end_time=slot.end.strftime("%H:%M"),
                created_at=utcnow(),
            )
        )
    return slot


def remove_session(db: CentralDB, org_id: str, site_id: str, slot_id: str) -> None:
    with db.writing(org_id) as conn:
        gone = conn.execute(
            delete(site_sessions).where(
                site_sessions.c.org_id == org_id,
                site_sessions.c.site_id == site_id,
                site_sessions.c.slot_id == slot_id,
            )
        ).rowcount
    if not gone:
        raise NotFound(f"site {org_id}/{site_id} has no session {slot_id!r}")


# -- risk lists --------------------------------------------------------------------------------
def _risk(row: Any) -> RiskList:
    return RiskList.from_dict(
        {
            "number": row.number,
            "areas": list(row.areas),
            "created_at": row.created_at.isoformat(),
            "source": row.source,
            "rule": row.rule or "",
            "sources": row.sources or [],
        }
    )


def risk_list(db: CentralDB, org_id: str) -> RiskList | None:
    """The organisation's newest risk list, or None when none was imported on the server."""
    with db.reading() as conn:
        row = conn.execute(
            select(risk_lists)
            .where(risk_lists.c.org_id == org_id)
            .order_by(risk_lists.c.number.desc())
            .limit(1)
        ).first()
    return _risk(row) if row else None


def risk_history(db: CentralDB, org_id: str) -> list[RiskList]:
    with db.reading() as conn:
        rows = conn.execute(
            select(risk_lists).where(risk_lists.c.org_id == org_id).order_by(risk_lists.c.number)
        ).all()
    return [_risk(r) for r in rows]


@dataclass(frozen=True)
class RiskImport:
    change: RiskChange
    skipped: tuple[tuple[int, str], ...]
    saved: RiskList | None  # None for a dry run


def import_risk(
    db: CentralDB,
    org_id: str,
    text: str,
    source: str,
    *,
    skip_invalid: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    rule: str = "",
    sources: Sequence[RiskSource] = (),
    allow_empty: bool = False,
    allow_shrink: bool = False,
    empty_detail: str = "",
) -> RiskImport:
    """Import a risk file (text or CSV, as ``kiosk-admin risk import`` reads it) as the
    organisation's next version. A file with any bad line changes nothing (unless
    ``skip_invalid``): :class:`SetupError` carries every bad line with its number. Nor does
    one that would leave the list empty (unless ``allow_empty``) or remove more than half of
    it (unless ``allow_shrink``): see ``kiosk.domain.risk.check_change``, which the kiosk's
    own imports use too; ``empty_detail`` says why a list came out empty.

    ``rule`` and ``sources`` record how a list built from official data was chosen (``risk
    import-lsoa``); kiosks receive them with the list."""
    with db.reading() as conn:
        require_org(conn, org_id)
    parsed = parse_risk_file(text, source=source)
    if parsed.problems and not skip_invalid:
        raise SetupError(
            f"{source}: {len(parsed.problems)} invalid line(s); the risk list is unchanged (fix "
            "them, or use --skip-invalid to import the valid lines)",
            parsed.problems,
        )
    current = risk_list(db, org_id) or RiskList()
    change = compare(current, parsed.areas)
    try:
        check_change(
            change,
            source,
            allow_empty=allow_empty,
            allow_shrink=allow_shrink,
            detail=empty_detail,
        )
    except RiskListShrinkError as exc:
        raise SetupError(str(exc)) from None
    if dry_run:
        return RiskImport(change, parsed.problems, None)
    now = now or utcnow()
    areas: frozenset[RiskArea] = parsed.areas
    with db.writing(org_id) as conn:
        number = (
            conn.execute(
                select(func.max(risk_lists.c.number)).where(risk_lists.c.org_id == org_id)
            ).scalar()
            or 0
        ) + 1
        saved = RiskList(
            number=number,
            areas=areas,
            created_at=now,
            source=source[:200],
            rule=rule,
            sources=tuple(sources),
        )
        conn.execute(
            insert(risk_lists).values(
                org_id=org_id,
                number=number,
                digest=saved.digest,
                areas=sorted(f"{a.kind}:{a.value}" for a in areas),
                source=source[:200],
                created_at=now,
                rule=rule or None,
                sources=[s.to_dict() for s in sources] or None,
            )
        )
    return RiskImport(change, parsed.problems, saved)


# -- for the API -------------------------------------------------------------------------------
def setup_for(
    db: CentralDB, device: Device, have_risk: str | None = None, merge: bool = False
) -> dict[str, Any]:
    """``GET /api/v1/setup``'s body for ``device`` (``sync.protocol.SetupResponse``); the risk
    list itself only when the kiosk does not have that version (``have_risk``) already.

    A kiosk that merges (``merge``) gets the timetable even when it is empty, so it hears
    that the server's last session went; an older kiosk, which replaced its own sessions
    with the server's, gets None for an empty one and keeps its own."""
    slots = timetable(db, device.org_id, device.site_id)
    risk = risk_list(db, device.org_id)
    return {
        "org_id": device.org_id,
        "site_id": device.site_id,
        "timetable": slots.to_list() if slots.slots or merge else None,
        "risk_version": risk.version if risk else None,
        "risk": risk.to_dict() if risk and risk.version != have_risk else None,
    }
