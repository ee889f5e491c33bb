"""The screens families see: tap your card, welcome (with the children's toggles), and messages.

The stigma rule lives here by construction: ``WelcomeScreen.show`` takes an ``Outcome``, which
holds names and children only, never the incentive decision, so every family's welcome is drawn
from the same facts and looks the same.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)

from kiosk.domain.desk import Outcome
from kiosk.ui import theme, words
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.timers import Countdown
from kiosk.ui.widgets import ChoiceChip


def title_font_size(text: str) -> float:
    """Big type for the greeting, smaller for a long name so it still fits on one or two lines."""
    n = len(text)
    if n <= 22:
        return sp(theme.FONT_HUGE)
    if n <= 30:
        return sp(46)
    return sp(38)


class TapScreen(KioskScreen):
    """The resting screen: tap your card."""

    door_screen = BooleanProperty(True)


class WelcomeScreen(KioskScreen):
    """``Welcome, Sarah!`` with each child as a big toggle, all ticked; confirms by itself."""

    door_screen = BooleanProperty(True)
    mode = OptionProperty("welcome", options=["welcome", "already_in"])
    title = StringProperty("")
    hint = StringProperty("")
    title_size = NumericProperty(sp(theme.FONT_HUGE))
    time_left = NumericProperty(1.0)
    outcome = ObjectProperty(None, allownone=True)
    has_children = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.countdown: Countdown | None = None

    def show(self, outcome: Outcome, countdown: Countdown) -> None:
        self.outcome = outcome
        self.mode = "already_in" if outcome.kind == "already_in" else "welcome"
        name = outcome.greeting_name or ""
        self.title = (
            words.welcome_title(name) if self.mode == "welcome" else words.already_in_title(name)
        )
        self.title_size = title_font_size(self.title)
        self.has_children = bool(outcome.all_children)
        self.hint = (
            words.welcome_hint(self.has_children)
            if self.mode == "welcome"
            else words.already_in_hint(self.has_children)
        )
        present = {c.child_id for c in outcome.children_present}
        box = self.ids.children
        box.clear_widgets()
        for child in outcome.all_children:
            chip = ChoiceChip(
                text=child.first_name,
                value=child.child_id,
                selected=child.child_id in present,
                size_hint=(None, None),
                width=dp(236),
                height=dp(88),
            )
            chip.bind(selected=self._chip_changed)
            self._set_note(chip)
            box.add_widget(chip)
        self.countdown = countdown
        countdown.restart()
        self.time_left = 1.0

    @staticmethod
    def _set_note(chip: ChoiceChip) -> None:
        chip.note = "Here today" if chip.selected else "Not here today"

    def _chip_changed(self, chip: ChoiceChip, _selected: bool) -> None:
        self._set_note(chip)
        if self.countdown is not None:
            self.countdown.restart()  # give a parent who is choosing the time to finish

    @property
    def chips(self) -> list[ChoiceChip]:
        return list(reversed(self.ids.children.children))

    def chosen_ids(self) -> list[str]:
        return [chip.value for chip in self.chips if chip.selected]

    def changed(self) -> bool:
        if self.outcome is None:
            return False
        before = [c.child_id for c in self.outcome.children_present]
        return sorted(before) != sorted(self.chosen_ids())

    def tick(self) -> None:
        if self.countdown is None:
            return
        self.time_left = self.countdown.fraction_left()
        if self.countdown.expired():
            self.app.finish_welcome()

    def done_pressed(self) -> None:
        self.app.finish_welcome()


class DoorMessageScreen(KioskScreen):
    """Unknown card, no session, or something went wrong: what happened and what to do next."""

    door_screen = BooleanProperty(True)
    kind = StringProperty("unknown_card")
    title = StringProperty("")
    body = StringProperty("")
    volunteer_button = BooleanProperty(False)
    time_left = NumericProperty(1.0)
    icon = StringProperty("?")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.countdown: Countdown | None = None

    def show(
        self, kind: str, title: str, body: str, countdown: Countdown, volunteer_button: bool
    ) -> None:
        self.kind, self.title, self.body = kind, title, body
        self.icon = {"unknown_card": "?", "no_session": "i", "waiting": "\u2026"}.get(kind, "!")
        self.volunteer_button = volunteer_button
        self.countdown = countdown
        countdown.restart()
        self.time_left = 1.0

    def tick(self) -> None:
        if self.countdown is None or self.kind == "waiting":
            return  # "Just a moment" stays until the tap is answered
        self.time_left = self.countdown.fraction_left()
        if self.countdown.expired():
            self.app.leave_door_screen()


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
