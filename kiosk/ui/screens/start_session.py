"""Starting a one-off session now, when none is timetabled (a volunteer's decision)."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.i18n import _
from kiosk.ui.screens.base import KioskScreen

#: The name a session gets unless the volunteer types another. It is data, not words on the
#: screen: it goes into the records and the central reports, so it is not translated.
DEFAULT_NAME = "Drop-in session"
LENGTHS = (1, 2, 3)


class StartSessionScreen(KioskScreen):
    hours = NumericProperty(2)
    message = StringProperty("")
    error = BooleanProperty(False)
    saving = BooleanProperty(False)
    typing = BooleanProperty(False)

    def on_pre_enter(self, *args) -> None:
        self.ids.entry.text = DEFAULT_NAME
        self.hours = 2
        self.saving = False
        self.typing = False
        self.say(_("Families can tap in as soon as it starts. It ends by itself."))

    def start_typing(self) -> None:
        self.typing = True

    def stop_typing(self) -> None:
        self.typing = False

    def say(self, message: str, error: bool = False) -> None:
        self.message, self.error = message, error

    def choose_hours(self, hours: int) -> None:
        self.hours = hours

    def start(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.typing = False
        self.app.sessions.start(self.ids.entry.text, int(self.hours))

    def failed(self, message: str) -> None:
        self.saving = False
        self.say(message, error=True)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
