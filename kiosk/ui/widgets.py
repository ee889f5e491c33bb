"""The kiosk's building blocks: big buttons, tick chips, the volunteer header, status lines.

Layout and colour are in ``widgets.kv``; here only properties and events. Every pressable thing
is at least ``theme.TOUCH_MIN`` high.
"""

from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import sp
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk import i18n
from kiosk.ui import shaping, theme
from kiosk.ui.fit import FitLabel, ShrinkToFit  # noqa: F401 - FitLabel: for the .kv files

# Before any label exists: Kivy's text classes that can draw Urdu (see kiosk.ui.shaping).
shaping.install()

_STYLES = {
    # style: (background, pressed, text)
    "primary": (theme.PRIMARY, theme.PRIMARY_PRESSED, theme.ON_PRIMARY),
    "secondary": (theme.SECONDARY, theme.SECONDARY_PRESSED, theme.INK),
    "danger": (theme.DANGER, theme.PRIMARY_PRESSED, theme.ON_PRIMARY),
    "key": (theme.SURFACE, theme.SECONDARY_PRESSED, theme.INK),
    "accent": (theme.ACCENT, theme.SECONDARY_PRESSED, theme.INK),
    "on_bar": (theme.rgba("#3A5688"), theme.rgba("#1B2F52"), theme.ON_VOLUNTEER_BAR),
}


class KioskButton(ShrinkToFit, ButtonBehavior, Label):
    """A big rounded button. ``style``: primary, secondary, danger, key, accent, on_bar.

    Its words wrap onto more lines where there is room, and their type shrinks if they still do
    not fit (``ShrinkToFit``): another language's words are longer.
    """

    style = OptionProperty("primary", options=list(_STYLES))
    bg = ColorProperty(theme.PRIMARY)
    bg_pressed = ColorProperty(theme.PRIMARY_PRESSED)
    fg = ColorProperty(theme.ON_PRIMARY)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.on_style(self, self.style)

    def on_style(self, _instance, style: str) -> None:
        self.bg, self.bg_pressed, self.fg = _STYLES[style]


class MirrorRow(BoxLayout):
    """A horizontal row that runs from right to left while ``mirrored`` (a right-to-left language).

    Kivy's BoxLayout always lays out left to right; this one lays out as usual, then reflects each
    child's place about the row's middle, so the first child is at the right-hand end.
    """

    mirrored = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fbind("mirrored", self._trigger_layout)

    def do_layout(self, *args) -> None:
        super().do_layout(*args)
        if self.mirrored and self.orientation == "horizontal":
            for child in self.children:
                child.x = self.x + self.right - child.right


class ChoiceChip(ButtonBehavior, MirrorRow):
    """A big toggle with a tick box: a child's name, an answer, a consent.

    ``toggles`` False makes it a plain choice (the screen decides what selection means, e.g. one
    answer of many). ``note`` is a second, smaller line (``Not here today``).
    """

    text = StringProperty("")
    note = StringProperty("")
    selected = BooleanProperty(False)
    toggles = BooleanProperty(True)
    value = StringProperty("")
    font_size = NumericProperty(sp(theme.FONT_BODY))

    def on_release(self) -> None:
        if self.toggles:
            self.selected = not self.selected


class ScreenHeader(MirrorRow):
    """The bar across the top of volunteer screens: back, title, and one main action."""

    title = StringProperty("")
    back_text = StringProperty("")
    back_arrow = BooleanProperty(True)
    action_text = StringProperty("")
    action_disabled = BooleanProperty(False)
    __events__ = ("on_back", "on_action")

    def on_back(self) -> None:
        pass

    def on_action(self) -> None:
        pass


class StatusLine(MirrorRow):
    """A coloured dot and a sentence: green for fine, amber to look at soon, red for needs
    attention (something is not being counted)."""

    text = StringProperty("")
    ok = BooleanProperty(True)
    #: "warn" draws the dot amber rather than red (something to look at, nothing lost).
    level = StringProperty("")
    label = StringProperty("")


class Reveal(BoxLayout):
    """A part of a screen that is there or not (a keyboard, a list).

    Hidden, it takes its children out of the widget tree, so nothing invisible can catch a
    touch meant for what is underneath (a disabled Kivy widget swallows touches on it). Shown,
    it takes the space of its children, or all the space left when ``expand`` is True.
    """

    shown = BooleanProperty(True)
    expand = BooleanProperty(False)

    def __init__(self, **kwargs):
        self._stash: list = []
        super().__init__(**kwargs)
        self.bind(minimum_height=self._fit, expand=self._fit)
        Clock.schedule_once(lambda _dt: self._apply(), 0)

    def on_shown(self, _instance, _shown: bool) -> None:
        self._apply()

    def _apply(self) -> None:
        if self.shown and self._stash:
            for child in reversed(self._stash):
                self.add_widget(child)
            self._stash = []
        elif not self.shown and self.children:
            self._stash = list(self.children)
            self.clear_widgets()
        self._fit()

    def _fit(self, *_args) -> None:
        if self.shown and self.expand:
            self.size_hint_y = 1
        else:
            self.size_hint_y = None
            self.height = self.minimum_height if self.shown else 0


class LanguageButton(KioskButton):
    """One language, in its own name (``Polski``); pressing it asks the app to speak it."""

    code = StringProperty(i18n.DEFAULT_LANGUAGE)


class LanguageBar(MirrorRow):
    """A button for each language the kiosk speaks, in the order of ``kiosk.i18n.LANGUAGES``."""

    __events__ = ("on_language",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for lang in i18n.LANGUAGES:
            button = LanguageButton(code=lang.code, text=lang.name)
            button.bind(on_release=lambda b: self.dispatch("on_language", b.code))
            self.add_widget(button)

    def button(self, code: str) -> LanguageButton:
        return next(b for b in self.children if b.code == code)

    def on_language(self, code: str) -> None:
        pass


class Notice(Label):
    """A message line: plain when ``error`` is False, red on pink when it is an error."""

    error = BooleanProperty(False)


class FittingNotice(ShrinkToFit, Notice):
    """A notice whose type shrinks until it fits its line (the door's demo hint names every
    sample family's key)."""


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
