"""Attendances as the door sees them: one per family per session, built from events.

An ``attendance.recorded`` event is written the moment a family taps (all children present by
default); ``attendance.amended`` events carry the full new state when a parent unticks a child
who stayed home or adds one who arrived later, and when a volunteer puts the register right.
The latest amendment wins. Its ``data``:

- ``children``: the full list of children present;
- ``signed_out_at``: when the family left (ISO 8601), or null: signed out is a time on the
  attendance, not a new event type, so the server (which counts children, not hours) needs no
  change to take it;
- ``undone``: true for a sign-in made by mistake, with ``children`` empty, so nothing about it
  is counted anywhere (the server's invoice counts the children of an attendance; none here).

Amendments written before those two keys existed have neither: signed in, not undone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
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
    #: When a volunteer signed the family out (None: still in, as far as the register knows).
    signed_out_at: datetime | None = None
    #: A sign-in made by mistake and undone: nobody came (no children, not on the register).
    undone: bool = False

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


_KEEP: Any = object()


def amendment_data(
    attendance: Attendance,
    children: Iterable[str],
    volunteer: str | None,
    *,
    signed_out_at: datetime | None = _KEEP,
    undone: bool = False,
) -> dict[str, Any]:
    """The ``data`` of an ``attendance.amended`` event: the full new state of the attendance.

    ``signed_out_at`` stays as it was unless given; ``undone`` means nobody came (``children``
    must then be empty, so nothing about the attendance is counted).
    """
    kids = list(children)
    if undone and kids:
        raise ValueError("an undone attendance has no children")
    out = attendance.signed_out_at if signed_out_at is _KEEP else signed_out_at
    return {
        "attendance_id": attendance.attendance_id,
        "session_key": attendance.session_key,
        "family_id": attendance.family_id,
        "children": kids,
        "volunteer": volunteer,
        "signed_out_at": out.astimezone(UTC).isoformat().replace("+00:00", "Z") if out else None,
        "undone": undone,
    }


def amended(att: Attendance, data: Mapping[str, Any]) -> Attendance:
    """``att`` after the amendment ``data`` (the full new state; see the module's description)."""
    out = data.get("signed_out_at")
    signed_out = datetime.fromisoformat(str(out).replace("Z", "+00:00")) if out else None
    if signed_out is not None and signed_out.tzinfo is None:
        raise ValueError(f"signed_out_at {out!r} has no time zone")
    return replace(
        att,
        children=tuple(data["children"]),
        signed_out_at=signed_out,
        undone=bool(data.get("undone", False)),
    )


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
                out[target.attendance_id] = amended(target, event.data)
    return out
