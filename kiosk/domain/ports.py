"""The small interface the domain needs from storage (DESIGN.md: dependencies point one way).

``kiosk.store`` implements it on JSON-file journals written through TinyDB's Storage seam; tests
may use any object that fits. The domain never imports the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from kiosk.domain.attendance import Attendance
from kiosk.domain.events import Event
from kiosk.domain.families import Card, Family
from kiosk.domain.risk import RiskList
from kiosk.domain.timetable import Timetable


class DoorStore(Protocol):
    """What ``DoorDesk`` reads and writes."""

    def record(self, events: Sequence[Event]) -> list[Event]:
        """Write ``events`` durably (all or none) and return them with their ``seq`` numbers.

        Returns only after the events would survive a power cut.
        """
        ...

    def family(self, family_id: str) -> Family | None: ...

    def families(self) -> list[Family]: ...

    def card(self, uid: str) -> Card | None: ...

    def attendances_in(self, session_key: str) -> list[Attendance]: ...

    def risk_list(self) -> RiskList: ...

    def timetable(self) -> Timetable: ...

    def save_timetable(self, timetable: Timetable) -> None: ...
