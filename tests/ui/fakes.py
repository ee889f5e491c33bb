"""An in-memory store that fits ``kiosk.domain.ports.DoorStore`` (plus what the UI reads).

Events are the truth, as in the real store: families, cards and attendances are projections of
them. Tests can make ``record`` slow (``gate``) or fail (``fail_next``) to see what the UI does.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.domain.attendance import Attendance, replay_attendances
from kiosk.domain.events import Event
from kiosk.domain.families import Card, Family
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList
from kiosk.domain.timetable import Timetable


class FakeStore:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.events_list: list[Event] = []
        self._timetable = Timetable()
        self._risk = RiskList()
        self._lock = threading.Lock()
        #: Cleared to make ``record`` wait (a slow SD card); set to let it go on.
        self.gate = threading.Event()
        self.gate.set()
        self.fail_next: BaseException | None = None
        self.sync: dict[str, Any] = {}
        self.waiting: int | None = None  # None: count the events

    # -- DoorStore ----------------------------------------------------------------------------
    def record(self, events: Sequence[Event]) -> list[Event]:
        self.gate.wait(timeout=30)
        with self._lock:
            if self.fail_next is not None:
                exc, self.fail_next = self.fail_next, None
                raise exc
            known = {e.event_id for e in self.events_list}
            stored = []
            for event in events:
                if event.event_id in known:
                    continue
                stored.append(event.with_seq(len(self.events_list) + 1))
                self.events_list.append(stored[-1])
            return stored

    def family(self, family_id: str) -> Family | None:
        return self._families().get(family_id)

    def families(self) -> list[Family]:
        return list(self._families().values())

    def card(self, uid: str) -> Card | None:
        return self._cards().get(uid)

    def attendances_in(self, session_key: str) -> list[Attendance]:
        return [a for a in self.attendances() if a.session_key == session_key]

    def risk_list(self) -> RiskList:
        return self._risk

    def timetable(self) -> Timetable:
        return self._timetable

    def save_timetable(self, timetable: Timetable) -> None:
        self._timetable = timetable

    # -- what else the app and the demo use ---------------------------------------------------
    def save_risk_list(self, areas: frozenset[RiskArea], source: str, now: datetime) -> RiskList:
        self._risk = RiskList(self._risk.number + 1, frozenset(areas), now, source)
        return self._risk

    def attendances(self) -> list[Attendance]:
        with self._lock:
            events = list(self.events_list)
        return list(replay_attendances(events).values())

    def waiting_count(self) -> int:
        return len(self.events_list) if self.waiting is None else self.waiting

    def sync_state(self) -> dict[str, Any]:
        return dict(self.sync)

    def events(self) -> list[Event]:
        with self._lock:
            return list(self.events_list)

    def events_of(self, type_: str) -> list[Event]:
        with self._lock:
            return [e for e in self.events_list if e.type == type_]

    # -- projections --------------------------------------------------------------------------
    def _families(self) -> dict[str, Family]:
        out: dict[str, Family] = {}
        for e in self.events_of("member.registered") + self.events_of("member.updated"):
            family = Family.from_dict(e.data["family"])
            out[family.family_id] = family
        return out

    def _cards(self) -> dict[str, Card]:
        out: dict[str, Card] = {}
        with self._lock:
            events = list(self.events_list)
        for e in events:
            if e.type == "card.assigned":
                out[e.data["uid"]] = Card(e.data["uid"], e.data["family_id"])
            elif e.type == "card.revoked":
                out[e.data["uid"]] = Card(e.data["uid"], e.data["family_id"], active=False)
        return out
