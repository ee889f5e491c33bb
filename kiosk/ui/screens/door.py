"""The screens families see: tap your card, welcome (with the children's toggles), and messages.

The stigma rule lives here by construction: ``WelcomeScreen.show`` takes an ``Outcome``, which
holds names and children only, never the incentive decision, so every family's welcome is drawn
from the same facts and looks the same.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)

from kiosk.domain.desk import Outcome
from kiosk.ui import words
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.timers import Countdown
from kiosk.ui.widgets import ChoiceChip

#: Words drawn when shown: a function, so they can be drawn again in another language.
Words = Callable[[], str]


class TapScreen(KioskScreen):
    """The resting screen: tap your card."""

    door_screen = BooleanProperty(True)


class WelcomeScreen(KioskScreen):
    """``Welcome, Sarah!`` with each child as a big toggle, all ticked; confirms by itself."""

    door_screen = BooleanProperty(True)
    mode = OptionProperty("welcome", options=["welcome", "already_in"])
    title = StringProperty("")
    hint = StringProperty("")
    time_left = NumericProperty(1.0)
    outcome = ObjectProperty(None, allownone=True)
    has_children = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.countdown: Countdown | None = None

    def show(self, outcome: Outcome, countdown: Countdown) -> None:
        self.outcome = outcome
        self.mode = "already_in" if outcome.kind == "already_in" else "welcome"
        self.has_children = bool(outcome.all_children)
        self._say()
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

    def _say(self) -> None:
        name = (self.outcome.greeting_name if self.outcome else None) or ""
        if self.mode == "welcome":
            self.title = words.welcome_title(name)
            self.hint = words.welcome_hint(self.has_children)
        else:
            self.title = words.already_in_title(name)
            self.hint = words.already_in_hint(self.has_children)

    def retranslate(self) -> None:
        self._say()
        for chip in self.chips:
            self._set_note(chip)

    @staticmethod
    def _set_note(chip: ChoiceChip) -> None:
        chip.note = words.child_note(chip.selected)

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
        self._words: tuple[Words, Words] = (str, str)

    def show(
        self, kind: str, title: Words, body: Words, countdown: Countdown, volunteer_button: bool
    ) -> None:
        """``title`` and ``body`` are functions giving the words in the language in use."""
        self.kind, self._words = kind, (title, body)
        self.retranslate()
        self.icon = {"unknown_card": "?", "no_session": "i", "waiting": "\u2026"}.get(kind, "!")
        self.volunteer_button = volunteer_button
        self.countdown = countdown
        countdown.restart()
        self.time_left = 1.0

    def retranslate(self) -> None:
        title, body = self._words
        self.title, self.body = title(), body()

    def tick(self) -> None:
        if self.countdown is None or self.kind == "waiting":
            return  # "Just a moment" stays until the tap is answered
        self.time_left = self.countdown.fraction_left()
        if self.countdown.expired():
            self.app.leave_door_screen()


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
