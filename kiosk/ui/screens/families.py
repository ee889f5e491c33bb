"""Finding a family (to sign them in or give them a card), choosing children, and results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ObjectProperty, OptionProperty, StringProperty
from kivy.utils import escape_markup as escape
from kivy.utils import get_hex_from_color

from kiosk.domain.families import Family
from kiosk.domain.picker import FamilyChoice
from kiosk.i18n import _, isolate
from kiosk.ui import theme, words
from kiosk.ui.keyboard import BACKSPACE, ENTER, SHIFT, SPACE
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.timers import Countdown
from kiosk.ui.widgets import ChoiceChip, KioskButton


class FamilyButton(KioskButton):
    """A family in the picker: greeting name, postcode district, children, "already in"."""

    family = ObjectProperty(None)
    district = StringProperty("")
    already_in = BooleanProperty(False)

    def on_style(self, instance, style: str) -> None:
        super().on_style(instance, style)
        self.on_already_in(instance, self.already_in)

    def on_already_in(self, _instance, inside: bool) -> None:
        # Signed in already: a soft teal row as well as the words (never colour alone).
        if inside:
            self.bg = theme.PRIMARY_SOFT
        else:
            KioskButton.on_style(self, self, self.style)


def family_row_text(choice: FamilyChoice) -> str:
    """Two lines of markup: "Aisha  WS11  ✓ Already in" over "Zara".

    Only the postcode district: the full postcode would tell the queue where a family lives.
    """
    soft, good = get_hex_from_color(theme.INK_SOFT), get_hex_from_color(theme.GOOD)
    first = f"[b]{escape(isolate(choice.family.greeting_name))}[/b]"
    if choice.district:
        first += f"   [color={soft}]{escape(isolate(choice.district))}[/color]"
    if choice.already_in:
        tick = f"[font={theme.SYMBOL_FONT}]{theme.TICK}[/font]"
        first += f"   [color={good}]{tick} {escape(words.already_in_mark())}[/color]"
    kids = escape(words.kids_or_none(list(choice.children)))
    return f"{first}\n[size={int(sp(theme.FONT_SMALL))}]{kids}[/size]"


class FamilyPickerScreen(KioskScreen):
    """Every family, alphabetically, in big buttons; tap the search bar to type a name."""

    purpose = OptionProperty("sign_in", options=["sign_in", "assign_card"])
    query = StringProperty("")
    typing = BooleanProperty(False)
    title = StringProperty("")
    message = StringProperty("")

    def prepare(self, purpose: str, card_uid: str | None = None) -> None:
        self.purpose = purpose
        self.query = ""
        self.typing = False
        self.title = (
            _("Sign a family in")
            if purpose == "sign_in"
            else _("Whose card is this? Tap the family")
        )
        self.search()

    def search(self) -> None:
        self.app.search.find(self.query, self.show_results)

    def show_results(self, choices: list[FamilyChoice]) -> None:
        grid = self.ids.results
        grid.clear_widgets()
        for choice in choices:
            button = FamilyButton(
                family=choice.family,
                district=choice.district,
                already_in=choice.already_in,
                style="key",
                markup=True,
                text=family_row_text(choice),
                height=dp(84),
            )
            button.bind(on_release=lambda b: self.picked(b.family))
            grid.add_widget(button)
        if choices:
            self.message = ""
        elif self.query:
            self.message = _(
                'No family called "{name}". Check the spelling, or register them.'
            ).format(name=isolate(self.query))
        else:
            self.message = _("No families are registered on this kiosk yet.")

    @property
    def family_buttons(self) -> list[FamilyButton]:
        return list(reversed(self.ids.results.children))

    def picked(self, family: Family) -> None:
        if self.purpose == "sign_in":
            self.app.signin.choose_children(family)
        else:
            self.app.cards.give(family)

    def start_typing(self) -> None:
        self.typing = True

    def stop_typing(self) -> None:
        self.typing = False

    def type_key(self, key: str) -> None:
        if key == BACKSPACE:
            self.query = self.query[:-1]
        elif key == ENTER:
            self.typing = False
            return
        elif key == SHIFT or key == SPACE and (not self.query or self.query.endswith(" ")):
            return
        elif len(self.query) < 40:
            self.query += key.lower() if self.query and self.query[-1] != " " else key
        self.search()

    def reset(self) -> None:
        self.query = ""
        self.typing = False
        self.ids.results.clear_widgets()


class ChooseChildrenScreen(KioskScreen):
    """Which children came? All ticked to start with; then sign the family in."""

    family = ObjectProperty(None, allownone=True)
    title = StringProperty("")

    def prepare(self, family: Family) -> None:
        self.family = family
        self.title = _("Sign in: {name}").format(name=isolate(family.greeting_name))
        box = self.ids.children
        box.clear_widgets()
        for child in family.children:
            box.add_widget(
                ChoiceChip(
                    text=child.first_name,
                    value=child.child_id,
                    selected=True,
                    size_hint=(None, None),
                    width=dp(236),
                    height=dp(84),
                )
            )

    @property
    def chips(self) -> list[ChoiceChip]:
        return list(reversed(self.ids.children.children))

    def sign_in(self) -> None:
        if self.family is not None:
            chosen = [chip.value for chip in self.chips if chip.selected]
            self.app.signin.sign_in(self.family, chosen)


class VolunteerMessageScreen(KioskScreen):
    """What just happened in volunteer mode, and what to do next.

    Two buttons: an optional action and "Done" (or ``done_text``, e.g. "No" under a question).
    ``action_is_main`` makes the action the highlighted one and "Done" the grey one, for when the
    action is what the volunteer should do next. ``action_for`` seconds (e.g. an "Undo") takes the
    action away once that long has passed, on the app's clock.
    """

    title = StringProperty("")
    body = StringProperty("")
    error = BooleanProperty(False)
    action_text = StringProperty("")
    action_is_main = BooleanProperty(False)
    done_text = StringProperty("")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._action: Callable[[], None] | None = None
        self._done: Callable[[], None] | None = None
        self._action_countdown: Countdown | None = None

    def prepare(
        self,
        title: str,
        body: str,
        *,
        error: bool = False,
        action_text: str = "",
        action: Callable[[], None] | None = None,
        action_is_main: bool = False,
        action_for: float | None = None,
        done_text: str = "",
        done: Callable[[], None] | None = None,
    ) -> None:
        self.title, self.body, self.error = title, body, error
        self.action_text, self._action, self._done = action_text, action, done
        self.action_is_main, self.done_text = action_is_main, done_text
        self._action_countdown = None
        if action_for is not None:
            self._action_countdown = Countdown(action_for, self.app.monotonic)
            self._action_countdown.restart()

    def tick(self) -> None:
        if self._action_countdown is not None and self._action_countdown.expired():
            self._action_countdown = None
            self.action_text, self._action = "", None

    def action(self) -> None:
        if self._action is not None:
            action, self._action = self._action, None  # once: a second touch does nothing
            self._action_countdown = None
            action()

    def done(self) -> None:
        if self._done is not None:
            self._done()
        else:
            self.app.volunteer.go_to("volunteer_home")

    def reset(self) -> None:
        self.action_text, self._action, self._action_countdown = "", None, None


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
