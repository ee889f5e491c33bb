"""Builders for store tests: families, events and a timetable, at fixed London times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from kiosk.domain.attendance import Attendance, amendment_data, attendance_data
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Family, new_family
from kiosk.domain.risk import IncentiveDecision
from kiosk.domain.timetable import SessionOccurrence, Timetable, make_slot

LONDON = ZoneInfo("Europe/London")
DEVICE = DeviceIdentity("kiosk-test", "site-test")
MONDAY = date(2026, 11, 23)

#: Runs a test on the real LocalStore (in a temporary folder) and on tests.fakes.store's
#: MemoryStore: what it checks is the contract both keep, so a test elsewhere may use either.
on_both_stores = pytest.mark.parametrize("store", ["local", "memory"], indirect=True)


def at(day: date = MONDAY, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on ``day`` in London time."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def event(type_: str, data: dict, when: datetime | None = None, event_id: str | None = None):
    kwargs = {"event_id": event_id} if event_id else {}
    return Event(
        type=type_,
        at=when or at(),
        data=data,
        device_id=DEVICE.device_id,
        site_id=DEVICE.site_id,
        **kwargs,
    )


def family(name: str = "Sam", postcode: str = "WS7 1AA", children=(("Ava", "2024-03"),)) -> Family:
    return new_family(name, postcode, children)


def registered(fam: Family, when: datetime | None = None) -> Event:
    return event("member.registered", {"family": fam.to_dict(), "volunteer": None}, when)


def updated(fam: Family, when: datetime | None = None) -> Event:
    return event("member.updated", {"family": fam.to_dict(), "volunteer": None}, when)


def card_assigned(uid: str, fam: Family, when: datetime | None = None) -> Event:
    return event("card.assigned", {"uid": uid, "family_id": fam.family_id}, when)


def card_revoked(uid: str, fam: Family, when: datetime | None = None) -> Event:
    return event("card.revoked", {"uid": uid, "family_id": fam.family_id}, when)


def session(day: date = MONDAY, slot: str = "stay") -> SessionOccurrence:
    return SessionOccurrence(slot, "Stay and Play", day, time(9, 30), time(11, 30))


def attended(
    fam: Family,
    day: date = MONDAY,
    slot: str = "stay",
    when: datetime | None = None,
    children: Iterable[str] | None = None,
) -> Event:
    kids = [c.child_id for c in fam.children] if children is None else list(children)
    data = attendance_data(
        session(day, slot),
        fam.family_id,
        kids,
        1,
        "card",
        None,
        IncentiveDecision(True, ("postcode",), "v1-abc"),
    )
    return event("attendance.recorded", data, when or at(day))


def amended(att: Attendance, children: Iterable[str], when: datetime | None = None) -> Event:
    return event("attendance.amended", amendment_data(att, children, None), when or att.at)


def all_day_timetable() -> Timetable:
    """A session every day of the week from 00:00 to 23:59 (so any tap has a session)."""
    timetable = Timetable()
    for weekday in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        timetable = timetable.add(make_slot(f"day-{weekday}", "All day", "00:00", "23:59", weekday))
    return timetable


def stay_and_play() -> Timetable:
    return Timetable().add(make_slot("stay", "Stay and Play", "09:30", "11:30", "mon"))
