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
from kiosk.ui import theme, words
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.timers import Countdown
from kiosk.ui.widgets import ChoiceChip

#: Words drawn when shown: a function, so they can be drawn again in another language.
Words = Callable[[], str]


class TapScreen(KioskScreen):
    """The resting screen: tap your card."""

    door_screen = BooleanProperty(True)


#: How the children's tiles are laid out, by how many there are: (most children, columns).
#: Up to three share a row of big tiles; up to six take two rows of three, up to eight two rows
#: of four (the tiles as tall as the room allows, never under ``theme.TOUCH_MIN``). More than
#: eight scroll, four to a row.
TILE_COLUMNS = ((3, 3), (6, 3), (8, 4))
#: The big tiles of a family of up to three.
TILE_SIZE = (236, 88)
#: A finger "on the screen" longer than this is a lost touch-up (it happens on the Pi's
#: screen, kivy/kivy#3801): the countdown runs again rather than keep the screen up for ever.
FINGER_HOLD_LIMIT = 60.0


def tile_columns(n: int) -> int:
    return next((cols for most, cols in TILE_COLUMNS if n <= most), TILE_COLUMNS[-1][1])


class WelcomeScreen(KioskScreen):
    """``Welcome, Sarah!`` with each child as a big toggle, all ticked; confirms by itself.

    Every child of a family of up to eight is shown whole (``TILE_COLUMNS``): from four, the
    teal band is a little lower and the tiles smaller. The countdown waits while a finger is on
    the screen, and starts again from the top when it lifts or a child is (un)ticked.
    """

    door_screen = BooleanProperty(True)
    #: Four children or more: a lower band, so that two rows of tiles fit.
    compact = BooleanProperty(False)
    band_height = NumericProperty(dp(150))
    tile_spacing = NumericProperty(dp(14))
    mode = OptionProperty("welcome", options=["welcome", "already_in"])
    title = StringProperty("")
    hint = StringProperty("")
    time_left = NumericProperty(1.0)
    outcome = ObjectProperty(None, allownone=True)
    has_children = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.countdown: Countdown | None = None
        #: The fingers on the screen now, and when each came down (the app's clock).
        self._fingers: dict[int, float] = {}
        self.bind(compact=self._arrange)

    def on_kv_post(self, base_widget) -> None:
        super().on_kv_post(base_widget)
        self.ids.scroll.bind(size=self._arrange)

    def show(self, outcome: Outcome, countdown: Countdown) -> None:
        self.outcome = outcome
        self.mode = "already_in" if outcome.kind == "already_in" else "welcome"
        self.has_children = bool(outcome.all_children)
        self._say()
        present = {c.child_id for c in outcome.children_present}
        box = self.ids.children
        box.clear_widgets()
        n = len(outcome.all_children)
        self.compact = n > TILE_COLUMNS[0][0]
        self.band_height = dp(124) if self.compact else dp(150)
        self.tile_spacing = dp(10) if self.compact else dp(14)
        for child in outcome.all_children:
            chip = ChoiceChip(
                text=child.first_name,
                value=child.child_id,
                selected=child.child_id in present,
                size_hint=(None, None),
            )
            chip.bind(selected=self._chip_changed)
            self._set_note(chip)
            box.add_widget(chip)
        self._arrange()
        self._fingers.clear()
        self.ids.scroll.scroll_y = 1
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

    def _set_note(self, chip: ChoiceChip) -> None:
        # Four to a row leaves no room for "Not here today": the tick says it.
        four_wide = tile_columns(len(self.chips)) > 3
        chip.note = "" if four_wide else words.child_note(chip.selected)

    def _arrange(self, *_args) -> None:
        """Size the tiles so that up to eight children all show whole (see ``TILE_COLUMNS``)."""
        chips = self.chips
        if not chips:
            return
        if not self.compact:
            for chip in chips:
                chip.size = (dp(TILE_SIZE[0]), dp(TILE_SIZE[1]))
            return
        scroll, gap = self.ids.scroll, self.tile_spacing
        cols = tile_columns(len(chips))
        rows = min(2, -(-len(chips) // cols))
        width = (scroll.width - dp(10) - gap * (cols - 1)) / cols  # room for the scroll bar
        height = max(dp(theme.TOUCH_MIN), min(dp(TILE_SIZE[1]), (scroll.height - gap) / rows))
        for chip in chips:
            chip.size = (int(width), int(height))
            if cols > 3:
                chip.padding, chip.spacing = (dp(8), dp(6)), dp(6)
            self._set_note(chip)

    # -- a finger on the screen holds the countdown ----------------------------------------
    def on_touch_down(self, touch) -> bool:
        self._fingers[touch.uid] = self.app.monotonic()
        self._hold_countdown()
        return super().on_touch_down(touch)

    def on_touch_up(self, touch) -> bool:
        if touch.uid in self._fingers:
            del self._fingers[touch.uid]
            self._hold_countdown()
        return super().on_touch_up(touch)

    def _hold_countdown(self) -> None:
        if self.countdown is not None and self.outcome is not None:
            self.countdown.restart()
            self.time_left = 1.0

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
        now = self.app.monotonic()
        if any(now - since < FINGER_HOLD_LIMIT for since in self._fingers.values()):
            self._hold_countdown()  # someone is reading or choosing: wait for them
            return
        self.time_left = self.countdown.fraction_left()
        if self.countdown.expired():
            self.app.door.finish_welcome()

    def on_leave(self, *args) -> None:
        self._fingers.clear()

    def done_pressed(self) -> None:
        self.app.door.finish_welcome()


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
            self.app.door.leave()


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
