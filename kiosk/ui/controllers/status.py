"""The status lines: the session on now, the card reader, the connection and the clock.

What they say is read off the UI thread (``refresh``) and put in words on it (``say``), again
whenever the language changes. Every family sees the same lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.domain.timetable import SessionOccurrence
from kiosk.health import Health, assess, read_facts
from kiosk.ui import words
from kiosk.ui.controllers.base import Controller
from kiosk.ui.status import health_light, reader_light
from kiosk.ui.timers import Countdown

if TYPE_CHECKING:
    from kiosk.ui.kioskapp import KioskApp


@dataclass(frozen=True)
class StatusSnapshot:
    """What the status lines are made from, read off the UI thread (words are made on it)."""

    session: SessionOccurrence | None
    health: Health
    last_unknown_card: str


class StatusLines(Controller):
    """Sets the app's status properties (``session_text``, ``reader_text``, ...) kv binds."""

    def __init__(self, app: KioskApp) -> None:
        super().__init__(app)
        #: The last reading (None before the first).
        self.snapshot: StatusSnapshot | None = None
        self._reader_health: Any = None
        self._countdown = Countdown(app.timings.status_refresh, app.monotonic)

    def refresh(self) -> None:
        app = self.app
        at = self.now()
        app.clock_text = words.clock(self.desk.local(at))
        desk, store = self.desk, self.store

        def read() -> StatusSnapshot:
            return StatusSnapshot(
                desk.session_now(at),
                assess(read_facts(store), at),
                desk.last_unknown_card or "",
            )

        def show(snapshot: StatusSnapshot) -> None:
            self.snapshot = snapshot
            app.last_unknown_card = snapshot.last_unknown_card
            self.say()

        self._countdown.restart()
        self.submit(read, on_done=show, on_error=lambda exc: None)

    def refresh_if_due(self) -> None:
        if self._countdown.expired():
            self.refresh()

    def say(self) -> None:
        """The status lines in the language in use, from the last reading (no I/O here)."""
        app = self.app
        snapshot = self.snapshot
        if snapshot is not None:
            app.session_text = words.session_words(snapshot.session)
            app.session_on = snapshot.session is not None
            light = health_light(snapshot.health, self.now())
            app.connection_text, app.connection_ok = light.text, light.ok
            app.connection_level = light.level
        self.show_reader_health(self._reader_health)

    def show_reader_health(self, health: Any) -> None:
        app = self.app
        self._reader_health = health
        light = reader_light(health)
        app.reader_text, app.reader_ok = light.text, light.ok
        self.update_door_notice()

    def update_door_notice(self) -> None:
        """The tap screen's notice: the reader is down, else the demo's keys (demo mode)."""
        app = self.app
        if app.demo_cards:
            cards = [
                (c.key, words.demo_new_card() if c.new_card else c.greeting_name)
                for c in app.demo_cards.values()
            ]
            app.demo_hint = words.demo_hint(cards)
        app.door_notice = words.reader_down() if not app.reader_ok else app.demo_hint
