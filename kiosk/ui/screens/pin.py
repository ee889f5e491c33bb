"""Unlocking volunteer mode with a PIN on a big digit pad."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.domain.volunteers import PIN_MAX_DIGITS, PIN_MIN_DIGITS
from kiosk.i18n import _, ngettext
from kiosk.ui.screens.base import KioskScreen

DOT_FULL = "\u25cf"
DOT_EMPTY = "\u25cb"


class PinScreen(KioskScreen):
    """Type a PIN; the app checks it off the UI thread (hashing takes a moment)."""

    entered = StringProperty("")
    dots = StringProperty(" ".join(DOT_EMPTY * PIN_MIN_DIGITS))
    message = StringProperty("")
    error = BooleanProperty(False)
    checking = BooleanProperty(False)
    then = StringProperty("volunteer_home")

    def on_entered(self, _instance, entered: str) -> None:
        empty = max(PIN_MIN_DIGITS - len(entered), 0)
        self.dots = " ".join(DOT_FULL * len(entered) + DOT_EMPTY * empty)

    def prepare(self, then: str) -> None:
        self.then = then
        self.entered = ""
        self.checking = False
        self.say(_("Enter your volunteer PIN, then press OK."))

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
        self.app.check_pin(pin, self.then)

    def result(self, message: str, error: bool) -> None:
        self.checking = False
        self.say(message, error)

    def reset(self) -> None:
        self.entered = ""
        self.checking = False


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
