"""Real events for report tests: a DoorDesk over the in-memory store (tests.fakes.store), sent to
a CentralDB through its ingest API (the same path as ``POST /api/v1/events``)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from central.db import CentralDB, Device
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Family
from kiosk.domain.postcodes import parse_risk_area
from kiosk.domain.risk import RiskList
from kiosk.domain.timetable import make_slot
from tests.fakes.store import MemoryStore

RISK_AREAS = ("WS7 1AA", "WS11 4", "WS12")


@dataclass
class Kiosk:
    """One kiosk (device) of an organisation: a desk over a MemoryStore, enrolled on ``db``."""

    db: CentralDB
    org: str = "lichfield"
    site: str = "library"
    device: str = "kiosk-1"
    clock_synced: bool = True
    store: MemoryStore = field(default_factory=MemoryStore)
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
        pending = self.store.pending(self.store.waiting_count())
        device = Device(self.device, self.org, self.site)
        result = self.db.ingest(device, [e.to_dict() for e in pending])
        self.store.mark_sent(e.event_id for e in pending)
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
