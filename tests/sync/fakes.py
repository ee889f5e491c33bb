"""Test doubles for sync: realistic events and a scripted client. The store the sync tests use
is ``tests.fakes.store.MemoryStore``, held to LocalStore's contract by tests/store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from kiosk.domain.attendance import amendment_data, attendance_data, attendance_from_event
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Family, new_family
from kiosk.domain.ids import new_event_id
from kiosk.domain.risk import IncentiveDecision
from kiosk.domain.timetable import SessionOccurrence
from sync.protocol import BatchResponse, DeviceInfo, EventResult, RosterResponse

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


# -- realistic events ------------------------------------------------------------------------
def _event(device: DeviceIdentity, type_: str, at: datetime, data: dict) -> Event:
    return Event(
        type=type_,
        at=at,
        data=data,
        device_id=device.device_id,
        site_id=device.site_id,
        event_id=new_event_id(),
    )


def registration(
    device: DeviceIdentity, at: datetime = T0, uid: str | None = None, name: str = "Amy"
) -> tuple[Family, list[Event]]:
    """A family registered with two children (and a card when ``uid`` is given)."""
    family = new_family(
        name, "WS7 1AA", [("Ben", "2024-03"), ("Cara", None)], today=date(2026, 11, 23)
    )
    events = [_event(device, "member.registered", at, {"family": family.to_dict()})]
    if uid:
        events.append(
            _event(
                device,
                "card.assigned",
                at,
                {"uid": uid, "family_id": family.family_id, "volunteer": None},
            )
        )
    return family, events


def session_on(day: date, slot_id: str = "stay-play") -> SessionOccurrence:
    return SessionOccurrence(slot_id, "Stay and Play", day, time(9, 30), time(11, 30))


def attendance(
    device: DeviceIdentity,
    family: Family,
    at: datetime = T0,
    session: SessionOccurrence | None = None,
    method: str = "card",
) -> Event:
    data = attendance_data(
        session or session_on(at.date()),
        family.family_id,
        [c.child_id for c in family.children],
        family.adults,
        method,
        "Val" if method != "card" else None,
        IncentiveDecision(True, ("postcode",), "v1-abc"),
    )
    return _event(device, "attendance.recorded", at, data)


def amendment(device: DeviceIdentity, recorded: Event, children: list[str], at: datetime) -> Event:
    att = attendance_from_event(recorded)
    return _event(device, "attendance.amended", at, amendment_data(att, children, None))


def taps(device: DeviceIdentity, count: int, start: datetime = T0) -> list[Event]:
    """``count`` events: registrations with cards and attendances, a minute apart."""
    out: list[Event] = []
    families: list[Family] = []
    at = start
    while len(out) < count:
        if len(families) < 3 or len(out) % 4 == 0:
            uid = f"{len(families) + 1:08X}"
            fam, evs = registration(device, at, uid=uid, name=f"Parent {len(families)}")
            families.append(fam)
            out.extend(evs)
        else:
            fam = families[len(out) % len(families)]
            day = (start + timedelta(days=len(out) // 7)).date()
            out.append(attendance(device, fam, at, session_on(day, f"s{len(out)}")))
        at += timedelta(minutes=1)
    return out[:count]


# -- a scripted client -----------------------------------------------------------------------
class ScriptedClient:
    """Stands in for ``SyncClient``: answers like a server that holds events in memory.

    ``fail`` is a list of exceptions to raise from the next ``send_events`` calls, in order;
    ``answer`` can rewrite each batch's results (to drop or reject some); ``whoami_error`` is
    raised when the daemon asks whom the token belongs to.
    """

    def __init__(self, device: DeviceIdentity = DeviceIdentity("k1", "s1")) -> None:
        self.endpoint = "https://central.example.org"
        self.token = "good"
        self.device = device
        self.held: dict[str, dict] = {}
        self.batches: list[list[dict]] = []
        self.fail: list[Exception] = []
        self.answer: Callable[[list[dict], list[EventResult]], list[EventResult]] | None = None
        self.roster_pages: list[RosterResponse] = []
        self.roster_cursors: list[int] = []
        self.max_batch: int | None = None
        self.whoami_calls = 0
        self.whoami_error: Exception | None = None

    def whoami(self) -> DeviceInfo:
        self.whoami_calls += 1
        if self.whoami_error is not None:
            raise self.whoami_error
        return DeviceInfo(
            device_id=self.device.device_id,
            site_id=self.device.site_id,
            org_id="org",
            holds_up_to=len(self.held),
        )

    def send_events(self, events: Sequence[dict]) -> BatchResponse:
        batch = list(events)
        self.batches.append(batch)
        if self.fail:
            raise self.fail.pop(0)
        if self.max_batch is not None and len(batch) > self.max_batch:
            from sync.client import BatchTooLarge

            raise BatchTooLarge("HTTP 413")
        results = []
        for e in batch:
            status = "duplicate" if e["event_id"] in self.held else "accepted"
            self.held[e["event_id"]] = e
            results.append(EventResult(event_id=e["event_id"], status=status))
        if self.answer:
            results = self.answer(batch, results)
        return BatchResponse(
            results=results,
            server_holds_up_to={self.device.device_id: max(e["seq"] for e in batch)},
        )

    def roster(
        self, cursor: int, own_through: int = 0, erasures_after: int | None = None
    ) -> RosterResponse:
        self.roster_cursors.append(cursor)
        if self.roster_pages:
            return self.roster_pages.pop(0)
        return RosterResponse(events=[], cursor=cursor, more=False)
