"""Attendances as the door sees them: one per family per session, built from events.

An ``attendance.recorded`` event is written the moment a family taps (all children present by
default); ``attendance.amended`` events carry the full new list of children when a parent unticks
a child who stayed home or adds one who arrived later. The latest amendment wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kiosk.domain.events import Event
from kiosk.domain.risk import IncentiveDecision
from kiosk.domain.timetable import SessionOccurrence


@dataclass(frozen=True)
class Attendance:
    """A family's attendance at one session, with the decision taken at the door."""

    attendance_id: str
    session: SessionOccurrence
    family_id: str
    children: tuple[str, ...]
    adults: int
    method: str
    volunteer: str | None
    decision: IncentiveDecision
    at: datetime
    clock_synced: bool = True
    device_id: str = ""
    site_id: str = ""

    @property
    def session_key(self) -> str:
        return self.session.key


def attendance_data(
    session: SessionOccurrence,
    family_id: str,
    children: Iterable[str],
    adults: int,
    method: str,
    volunteer: str | None,
    decision: IncentiveDecision,
) -> dict[str, Any]:
    """The ``data`` of an ``attendance.recorded`` event."""
    return {
        "session": session.to_dict(),
        "family_id": family_id,
        "children": list(children),
        "adults": adults,
        "method": method,
        "volunteer": volunteer,
        "qualifies": decision.qualifies,
        "reasons": list(decision.reasons),
        "risk_version": decision.risk_version,
    }


def amendment_data(
    attendance: Attendance, children: Iterable[str], volunteer: str | None
) -> dict[str, Any]:
    """The ``data`` of an ``attendance.amended`` event: the full new list of children."""
    return {
        "attendance_id": attendance.attendance_id,
        "session_key": attendance.session_key,
        "family_id": attendance.family_id,
        "children": list(children),
        "volunteer": volunteer,
    }


def attendance_from_event(event: Event) -> Attendance:
    """The attendance an ``attendance.recorded`` event describes."""
    d: Mapping[str, Any] = event.data
    return Attendance(
        attendance_id=event.event_id,
        session=SessionOccurrence.from_dict(d["session"]),
        family_id=d["family_id"],
        children=tuple(d["children"]),
        adults=int(d.get("adults", 1)),
        method=d["method"],
        volunteer=d.get("volunteer"),
        decision=IncentiveDecision(bool(d["qualifies"]), tuple(d["reasons"]), d["risk_version"]),
        at=event.at,
        clock_synced=event.clock_synced,
        device_id=event.device_id,
        site_id=event.site_id,
    )


def replay_attendances(events: Iterable[Event]) -> dict[str, Attendance]:
    """Attendances by id from a stream of events in order (amendments applied, duplicates once)."""
    out: dict[str, Attendance] = {}
    for event in events:
        if event.type == "attendance.recorded" and event.event_id not in out:
            out[event.event_id] = attendance_from_event(event)
        elif event.type == "attendance.amended":
            target = out.get(event.data["attendance_id"])
            if target is not None:
                out[target.attendance_id] = _with_children(target, event.data["children"])
    return out


def _with_children(att: Attendance, children: Iterable[str]) -> Attendance:
    return replace(att, children=tuple(children))
