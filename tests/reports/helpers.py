"""Real events for report tests: a DoorDesk over a small in-memory store, sent to a CentralDB
through its ingest API (the same path as ``POST /api/v1/events``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time

from central.db import CentralDB, Device
from kiosk.domain.attendance import Attendance, attendance_from_event
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Card, Family
from kiosk.domain.postcodes import RiskArea, parse_risk_area
from kiosk.domain.risk import RiskList
from kiosk.domain.timetable import Timetable, make_slot

RISK_AREAS = ("WS7 1AA", "WS11 4", "WS12")


class QuickStore:
    """The DoorStore port in memory, with projections kept up to date (fast for many taps)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.sent = 0
        self._ids: dict[str, Event] = {}
        self._families: dict[str, Family] = {}
        self._cards: dict[str, Card] = {}
        self._sessions: dict[str, dict[str, Attendance]] = {}
        self._timetable = Timetable()
        self._risk: list[RiskList] = []

    def record(self, events: Sequence[Event]) -> list[Event]:
        out = []
        for event in events:
            if event.event_id in self._ids:
                out.append(self._ids[event.event_id])
                continue
            stored = event.with_seq(len(self.events) + 1)
            self.events.append(stored)
            self._ids[stored.event_id] = stored
            self._apply(stored)
            out.append(stored)
        return out

    def _apply(self, e: Event) -> None:
        if e.type in ("member.registered", "member.updated"):
            fam = Family.from_dict(e.data["family"])
            self._families[fam.family_id] = fam
        elif e.type == "card.assigned":
            self._cards[e.data["uid"]] = Card(e.data["uid"], e.data["family_id"])
        elif e.type == "card.revoked":
            self._cards[e.data["uid"]] = Card(e.data["uid"], e.data["family_id"], active=False)
        elif e.type == "attendance.recorded":
            att = attendance_from_event(e)
            self._sessions.setdefault(att.session_key, {})[att.attendance_id] = att
        elif e.type == "attendance.amended":
            session = self._sessions.get(e.data["session_key"], {})
            target = session.get(e.data["attendance_id"])
            if target is not None:
                session[target.attendance_id] = replace(target, children=tuple(e.data["children"]))

    def family(self, family_id: str) -> Family | None:
        return self._families.get(family_id)

    def families(self) -> list[Family]:
        return list(self._families.values())

    def card(self, uid: str) -> Card | None:
        return self._cards.get(uid)

    def attendances_in(self, session_key: str) -> list[Attendance]:
        return list(self._sessions.get(session_key, {}).values())

    def risk_list(self) -> RiskList:
        return self._risk[-1] if self._risk else RiskList()

    def save_risk_list(self, areas: Iterable[RiskArea], source: str, at: datetime) -> RiskList:
        version = RiskList(len(self._risk) + 1, frozenset(areas), at, source)
        self._risk.append(version)
        return version

    def timetable(self) -> Timetable:
        return self._timetable

    def save_timetable(self, timetable: Timetable) -> None:
        self._timetable = timetable

    def pending(self) -> list[Event]:
        return self.events[self.sent :]


@dataclass
class Kiosk:
    """One kiosk (device) of an organisation: a desk over a QuickStore, enrolled on ``db``."""

    db: CentralDB
    org: str = "lichfield"
    site: str = "library"
    device: str = "kiosk-1"
    clock_synced: bool = True
    store: QuickStore = field(default_factory=QuickStore)
    #: Enrolled long before the terms these tests replay (the server checks dates against it).
    enrolled: datetime = datetime(2010, 1, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        with contextlib.suppress(Exception):
            self.db.add_org(self.org)
        with contextlib.suppress(Exception):
            self.db.add_site(self.org, self.site)
        self.db.add_device(self.org, self.site, self.device, enrolled_at=self.enrolled)
        self.desk = DoorDesk(
            self.store,
            DeviceIdentity(self.device, self.site),
            clock_synced=lambda: self.clock_synced,
        )

    def timetable(self, *slots: tuple[str, str, str, str, str]) -> Kiosk:
        """Weekly sessions: (slot id, name, start, end, weekday)."""
        tt = self.store.timetable()
        for slot_id, name, start, end, weekday in slots:
            tt = tt.add(make_slot(slot_id, name, start, end, weekday=weekday))
        self.store.save_timetable(tt)
        return self

    def risk(self, *areas: str, at: datetime | None = None) -> RiskList:
        return self.store.save_risk_list(
            frozenset(parse_risk_area(a) for a in areas),
            "council",
            at or datetime(2016, 1, 1, tzinfo=KIOSK_TZ),
        )

    def register(
        self,
        name: str,
        postcode: str,
        children: Sequence[str] = ("Mia",),
        at: datetime | None = None,
        card: str | None = None,
        **kw,
    ) -> Family:
        return self.desk.register_family(
            name,
            postcode,
            [(c, None) for c in children],
            at or datetime(2016, 1, 4, 9, 0, tzinfo=KIOSK_TZ),
            card_uid=card,
            **kw,
        )

    def tap(self, card: str, at: datetime) -> str:
        return self.desk.tap(card, at).kind

    def sign_in(self, family: Family, at: datetime, children: Sequence[str] | None = None) -> str:
        return self.desk.sign_in(family.family_id, children, "Jo", at).kind

    def sync(self) -> list[str]:
        """Send what is pending, like kiosk-sync; returns the statuses."""
        pending = self.store.pending()
        device = Device(self.device, self.org, self.site)
        result = self.db.ingest(device, [e.to_dict() for e in pending])
        self.store.sent = len(self.store.events)
        return [r.status for r in result.results]

    def resend(self, events: Sequence[Event]) -> list[str]:
        device = Device(self.device, self.org, self.site)
        return [r.status for r in self.db.ingest(device, [e.to_dict() for e in events]).results]


def at(day: date | str, hhmm: str = "09:40") -> datetime:
    """A local (Europe/London) time on ``day``."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time.fromisoformat(hhmm), KIOSK_TZ)


MON_PLAY = ("play-mon", "Stay and Play", "09:30", "11:30", "mon")
WED_BABY = ("baby-wed", "Baby Group", "13:00", "14:30", "wed")
