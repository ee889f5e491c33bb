"""Test doubles for sync: an in-memory store with LocalStore's sync methods, realistic events,
and a scripted client.

``FakeStore`` follows the LocalStore contract the daemon relies on: ``record`` gives gap-free
seqs, ``pending`` is oldest first and skips sent and rejected events, rejected events are kept.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from kiosk.domain.attendance import amendment_data, attendance_data, attendance_from_event
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Card, Family, new_family
from kiosk.domain.ids import new_event_id
from kiosk.domain.risk import IncentiveDecision
from kiosk.domain.timetable import SessionOccurrence
from sync.protocol import BatchResponse, DeviceInfo, EventResult, RosterResponse

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class FakeStore:
    """In memory, thread-safe, with the methods ``kiosk.store.LocalStore`` offers sync."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[Event] = []
        self.sent: dict[str, datetime | None] = {}
        self._rejected: dict[str, dict[str, Any]] = {}
        self._state: dict[str, Any] = {}
        self.remote: dict[str, Event] = {}
        self._families: dict[str, Family] = {}
        self._cards: dict[str, Card] = {}

    # -- writing ---------------------------------------------------------------------------
    def record(self, events: Sequence[Event]) -> list[Event]:
        with self._lock:
            out = [e.with_seq(len(self.events) + i + 1) for i, e in enumerate(events)]
            self.events.extend(out)
            for e in out:
                self._project(e)
            return out

    # -- the outbox ------------------------------------------------------------------------
    def pending(self, limit: int) -> list[Event]:
        with self._lock:
            waiting = (e for e in self.events if self._is_waiting(e))
            return list(itertools.islice(waiting, limit))

    def _is_waiting(self, e: Event) -> bool:
        return e.event_id not in self.sent and e.event_id not in self._rejected

    def mark_sent(self, event_ids: Iterable[str], at: datetime | None = None) -> None:
        with self._lock:
            for event_id in event_ids:
                self.sent[event_id] = at

    def mark_rejected(self, event_id: str, reason: str) -> None:
        with self._lock:
            event = next(e for e in self.events if e.event_id == event_id)
            self._rejected[event_id] = {"event": event.to_dict(), "reason": reason}

    def rejected(self) -> list[dict]:
        with self._lock:
            return [dict(v) for v in self._rejected.values()]

    def waiting_count(self) -> int:
        with self._lock:
            return sum(1 for e in self.events if self._is_waiting(e))

    def oldest_waiting(self) -> Event | None:
        with self._lock:
            return next((e for e in self.events if self._is_waiting(e)), None)

    def sync_state(self) -> dict:
        with self._lock:
            return dict(self._state)

    def update_sync_state(self, **changes: Any) -> None:
        with self._lock:
            self._state.update(changes)

    # -- the roster ------------------------------------------------------------------------
    def apply_remote(self, events: Sequence[Event]) -> int:
        with self._lock:
            fresh = [e for e in events if e.event_id not in self.remote]
            for e in fresh:
                self.remote[e.event_id] = e
                self._project(e)
            return len(fresh)

    def _project(self, e: Event) -> None:
        if e.type.startswith("member."):
            fam = Family.from_dict(e.data["family"])
            self._families[fam.family_id] = fam
        elif e.type.startswith("card."):
            self._cards[e.data["uid"]] = Card(
                e.data["uid"], e.data["family_id"], e.type == "card.assigned"
            )

    def family(self, family_id: str) -> Family | None:
        return self._families.get(family_id)

    def card(self, uid: str) -> Card | None:
        return self._cards.get(uid)

    def families(self) -> list[Family]:
        return list(self._families.values())


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
