"""Unlocking volunteer mode with a PIN on a big digit pad.

The screen forgets the digits and goes back to the door after ``UiTimings.pin_idle`` seconds
without a touch, so a PIN half typed is never left on show. After a wrong PIN it says how many
tries are left before the lock; while locked it reads the lock again every
``UiTimings.pin_lock_recheck`` seconds, so ``kiosk-admin volunteer unlock`` shows at once.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.domain.volunteers import PIN_MAX_DIGITS, PIN_MIN_DIGITS
from kiosk.i18n import _, ngettext
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.timers import Countdown

log = logging.getLogger(__name__)

DOT_FULL = "\u25cf"
DOT_EMPTY = "\u25cb"


class PinScreen(KioskScreen):
    """Type a PIN; the app checks it off the UI thread (hashing takes a moment)."""

    entered = StringProperty("")
    dots = StringProperty(" ".join(DOT_EMPTY * PIN_MIN_DIGITS))
    message = StringProperty("")
    error = BooleanProperty(False)
    checking = BooleanProperty(False)
    #: The last answer was "locked": the lock is read again until it is lifted.
    locked = BooleanProperty(False)
    then = StringProperty("volunteer_home")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown_at = 0.0
        self._recheck: Countdown | None = None

    def on_entered(self, _instance, entered: str) -> None:
        empty = max(PIN_MIN_DIGITS - len(entered), 0)
        self.dots = " ".join(DOT_FULL * len(entered) + DOT_EMPTY * empty)

    def prepare(self, then: str) -> None:
        self.then = then
        self.entered = ""
        self.checking = False
        self.locked = False
        self._recheck = None
        self._shown_at = self.app.monotonic()
        self.say(_("Enter your volunteer PIN, then press OK."))

    def tick(self) -> None:
        app = self.app
        if not self.checking:
            idle = app.monotonic() - max(self._shown_at, app.last_touch)
            if idle >= app.timings.pin_idle:
                log.info("the PIN screen went back to the door after %.0f s idle", idle)
                app.volunteer.cancel_unlock()
                return
        if self.locked and self._recheck is not None and self._recheck.expired():
            self._recheck.restart()
            app.volunteer.recheck_pin_lock()

    def unlocked(self) -> None:
        """The lock is lifted (by an admin, or it ran out): PINs are taken again."""
        if self.locked:
            self.locked = False
            self._recheck = None
            self.say(_("Volunteer mode is no longer locked. Enter your PIN, then press OK."))

    def say(self, message: str, error: bool = False) -> None:
        self.message, self.error = message, error

    def digit(self, digit: str) -> None:
        if not self.checking and len(self.entered) < PIN_MAX_DIGITS:
            self.entered += digit

    def backspace(self) -> None:
        if not self.checking:
            self.entered = self.entered[:-1]

    def ok(self) -> None:
        if self.checking:
            return
        if len(self.entered) < PIN_MIN_DIGITS:
            self.say(
                ngettext(
                    "A PIN has {least} to {most} digit.",
                    "A PIN has {least} to {most} digits.",
                    PIN_MAX_DIGITS,
                ).format(least=PIN_MIN_DIGITS, most=PIN_MAX_DIGITS),
                error=True,
            )
            return
        pin, self.entered = self.entered, ""
        self.checking = True
        self.say(_("Checking..."))
        self.app.volunteer.check_pin(pin, self.then)

    def result(self, message: str, error: bool, locked: bool = False) -> None:
        self.checking = False
        self.locked = locked
        self._recheck = None
        if locked:
            self._recheck = Countdown(self.app.timings.pin_lock_recheck, self.app.monotonic)
            self._recheck.restart()
        self.say(message, error)

    def reset(self) -> None:
        self.entered = ""
        self.checking = False
        self.locked = False
        self._recheck = None


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
