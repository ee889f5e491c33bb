"""On-screen keyboards of our own: letters for names, letters and digits for postcodes, and a
digit pad for PINs. No physical keyboard or mouse is needed, and no Kivy VKeyboard config.

``TextEntry`` joins a display field to a keyboard: it holds ``text``, capitalises names as they
are typed (a capital at the start of each word, like "Mary-Jane O'Neill"), and fires
``on_submit`` when the keyboard's enter key is pressed.

Accented letters (Łucja, Ștefan, Zoë) are held under their plain letter, as on a phone: a key
with accents has a small mark in its corner, and holding it down for ``UiTimings.long_press``
opens a row of its accented letters above it (``AccentPicker``). The finger can then lift; a
tap on a letter types it, a tap anywhere else closes the row. Time is the app's clock, so tests
hold a key by stepping a fake clock, not by sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk.i18n import _
from kiosk.ui import theme
from kiosk.ui.letters import accents, cased
from kiosk.ui.widgets import KioskButton

BACKSPACE = "\b"
ENTER = "\n"
SHIFT = "\x0e"
SPACE = " "

#: Rows of (key, width in key units); ten units per row.
LAYOUTS: dict[str, list[list[tuple[str, float]]]] = {
    "name": [
        [(c, 1) for c in "QWERTYUIOP"],
        [(c, 1) for c in "ASDFGHJKL"] + [("'", 1)],
        [(SHIFT, 1.5)] + [(c, 1) for c in "ZXCVBNM"] + [(BACKSPACE, 1.5)],
        [("-", 1), (SPACE, 6), (ENTER, 3)],
    ],
    "postcode": [
        [(c, 1) for c in "1234567890"],
        [(c, 1) for c in "QWERTYUIOP"],
        [(c, 1) for c in "ASDFGHJKL"] + [(BACKSPACE, 1)],
        [(c, 1) for c in "ZXCVBNM"] + [(SPACE, 3)],
    ],
}


#: How long a key is held before its accents open, when the app does not say (seconds).
LONG_PRESS_SECONDS = 0.5
#: How often a held key looks at the clock (seconds of real time).
_HOLD_POLL = 0.05


class KeyboardKey(KioskButton):
    key = StringProperty("")
    #: The accented letters held under this key (a mark in its corner says there are some).
    accents = StringProperty("")


class AccentRow(BoxLayout):
    """The pop-up's row of letters, on a panel of its own (``keyboard.kv``)."""


class AccentPicker(Widget):
    """A row of a held key's accented letters, over the screen until a letter or elsewhere is
    tapped. It covers the whole screen so that the tap that closes it reaches nothing else."""

    def __init__(self, keyboard: OnScreenKeyboard, held: KeyboardKey, **kwargs):
        super().__init__(**kwargs)
        self.keyboard, self.held = keyboard, held
        self.row = AccentRow(spacing=dp(6), padding=dp(6), size_hint=(None, None))
        for letter in held.accents:
            button = KeyboardKey(
                key=letter,
                text=keyboard.case_of(letter),
                style="key",
                size_hint=(None, 1),
                width=max(held.width, dp(theme.TOUCH_MIN)),
                font_size=sp(theme.FONT_KEY),
                font_name="Roboto",
            )
            button.bind(on_release=self._chosen)
            self.row.add_widget(button)
        self.add_widget(self.row)

    @property
    def keys(self) -> list[KeyboardKey]:
        return list(reversed(self.row.children))

    def key_button(self, letter: str) -> KeyboardKey:
        """The button for an accented ``letter`` (either case)."""
        capital = cased(letter, capital=True)
        return next(b for b in self.keys if b.key == capital)

    def place(self, screen: Widget) -> None:
        """Over ``screen``, the row just above the held key (within the screen's edges)."""
        self.pos, self.size = (0, 0), screen.size
        n = len(self.row.children)
        key_w = self.row.children[0].width
        self.row.size = (n * key_w + (n - 1) * dp(6) + dp(12), dp(theme.KEY_HEIGHT) + dp(12))
        x, top = screen.to_widget(*self.held.to_window(self.held.center_x, self.held.top))
        left = min(max(x - self.row.width / 2, dp(4)), screen.width - self.row.width - dp(4))
        self.row.pos = (left, min(top + dp(2), screen.height - self.row.height))

    def on_touch_down(self, touch) -> bool:
        if self.row.collide_point(*touch.pos):
            self.row.on_touch_down(touch)
        else:
            self.keyboard.close_accents()
        return True

    def on_touch_move(self, touch) -> bool:
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch) -> bool:
        super().on_touch_up(touch)
        return True

    def _chosen(self, button: KeyboardKey) -> None:
        self.keyboard.close_accents()
        self.keyboard.dispatch("on_key", button.key)


class OnScreenKeyboard(BoxLayout):
    """Rows of big keys; fires ``on_key(key)`` with a character, BACKSPACE, ENTER or SHIFT."""

    layout = OptionProperty("name", options=list(LAYOUTS))
    enter_text = StringProperty("")
    shift = BooleanProperty(False)
    __events__ = ("on_key",)

    def __init__(self, **kwargs):
        #: How a letter will come out if typed now (set by ``TextEntry``: its capitals rule).
        self.case_of: Callable[[str], str] = lambda letter: letter
        self.picker: AccentPicker | None = None
        self._hold: tuple[KeyboardKey, float] | None = None
        self._hold_event = None
        self._opened_by: KeyboardKey | None = None
        super().__init__(**kwargs)
        self._build()
        self.bind(layout=lambda *_: self._build(), enter_text=self._words_changed)
        self.bind(shift=lambda *_: self._relabel())
        app = App.get_running_app()
        if app is not None and hasattr(app, "language"):
            app.bind(language=self._words_changed)  # a method: a weak reference

    def _words_changed(self, *_args) -> None:
        """The enter key's words or the language changed: new labels, the same keys."""
        for line in self.children:
            for button in line.children:
                button.text = self._label(button.key)
                button.font_size = self._font_size(button.key)

    def _font_size(self, key: str) -> float:
        return sp(theme.FONT_KEY if len(self._label(key)) == 1 else 22)

    def _label(self, key: str) -> str:
        match key:
            case "\b":
                return theme.BACKSPACE
            case "\n":
                return self.enter_text
            case "\x0e":
                return "Aa"
            case " ":
                return _("space")
        return key

    def _build(self) -> None:
        self.clear_widgets()
        for row in LAYOUTS[self.layout]:
            line = BoxLayout(spacing=dp(6))
            units = sum(width for _, width in row)
            for key, width in row:
                button = KeyboardKey(
                    key=key,
                    accents=accents(key) if self.layout == "name" else "",
                    text=self._label(key),
                    style="primary" if key == ENTER else "key",
                    size_hint=(width / units, 1),
                    height=dp(theme.KEY_HEIGHT),
                    font_size=self._font_size(key),
                    font_name=theme.SYMBOL_FONT if key == BACKSPACE else "Roboto",
                )
                button.bind(on_press=self._held_down, on_release=self._pressed)
                line.add_widget(button)
            self.add_widget(line)

    def _relabel(self) -> None:
        """Light up the shift key while the next letter will be the other case."""
        for line in self.children:
            for button in line.children:
                if button.key == SHIFT:
                    button.style = "accent" if self.shift else "key"

    def _pressed(self, button: KeyboardKey) -> None:
        self._stop_holding()
        if self._opened_by is button:  # the finger that held the accents open lifts
            self._opened_by = None
            return
        self.dispatch("on_key", button.key)

    # -- holding a key for its accents ----------------------------------------------------------
    @staticmethod
    def _clock() -> Callable[[], float]:
        return getattr(App.get_running_app(), "monotonic", time.monotonic)

    @staticmethod
    def _long_press() -> float:
        timings = getattr(App.get_running_app(), "timings", None)
        return getattr(timings, "long_press", LONG_PRESS_SECONDS)

    def _held_down(self, button: KeyboardKey) -> None:
        self._stop_holding()
        if not button.accents:
            return
        self._hold = (button, self._clock()())
        self._hold_event = Clock.schedule_interval(self._check_hold, _HOLD_POLL)

    def _check_hold(self, _dt: float) -> bool:
        if self._hold is None:
            return False
        button, since = self._hold
        touch = button.last_touch
        if touch is None or touch.time_end != -1:  # lifted (the key's state may lag behind)
            self._stop_holding()
            return False
        if self._clock()() - since >= self._long_press():
            self._stop_holding()
            self.open_accents(button)
            return False
        return True

    def _stop_holding(self) -> None:
        self._hold = None
        if self._hold_event is not None:
            self._hold_event.cancel()
            self._hold_event = None

    def open_accents(self, button: KeyboardKey) -> AccentPicker:
        """Show ``button``'s accented letters above it (what holding it down does)."""
        self.close_accents()
        screen = self._screen()
        picker = AccentPicker(self, button)
        screen.add_widget(picker)
        screen.fbind("on_pre_leave", self.close_accents)  # a card tapped: not left open
        picker.place(screen)
        self.picker, self._opened_by = picker, button
        return picker

    def close_accents(self, *_args) -> None:
        picker, self.picker = self.picker, None
        if picker is not None and picker.parent is not None:
            picker.parent.funbind("on_pre_leave", self.close_accents)
            picker.parent.remove_widget(picker)

    def _screen(self) -> Widget:
        """The screen this keyboard is on (the pop-up goes over it, and leaves with it), or the
        window for a keyboard on no screen."""
        widget = self.parent
        while widget is not None and not isinstance(widget, Screen):
            widget = widget.parent
        return widget if widget is not None else self.get_root_window()

    def on_key(self, key: str) -> None:
        pass

    def key_button(self, key: str) -> KeyboardKey:
        """The button for ``key`` (tests press it like a finger would)."""
        for line in self.children:
            for button in line.children:
                if button.key == key.upper() or button.key == key:
                    return button
        raise KeyError(f"no key {key!r} on the {self.layout} keyboard")


class TextEntry(BoxLayout):
    """A field and its keyboard. ``text`` is what was typed; ``on_submit`` on the enter key."""

    text = StringProperty("")
    placeholder = StringProperty("")
    layout = OptionProperty("name", options=list(LAYOUTS))
    enter_text = StringProperty("")
    max_length = NumericProperty(40)
    show_enter = BooleanProperty(True)
    __events__ = ("on_submit",)

    def on_kv_post(self, base_widget) -> None:
        super().on_kv_post(base_widget)
        self.ids.keyboard.case_of = self._cased

    def type_key(self, key: str) -> None:
        keyboard = self.ids.keyboard
        if key == BACKSPACE:
            self.text = self.text[:-1]
        elif key == ENTER:
            self.dispatch("on_submit", self.text)
            return
        elif key == SHIFT:
            keyboard.shift = not keyboard.shift
            return
        elif len(self.text) < self.max_length:
            if key == SPACE and (not self.text or self.text.endswith(" ")):
                return
            self.text += self._cased(key)
            keyboard.shift = False

    def _cased(self, key: str) -> str:
        if self.layout == "postcode" or not key.isalpha():
            return key.upper()
        word_start = not self.text or self.text[-1] in " -'"
        # Shift inverts what the name rule would do: lower-case after a word start, or a capital
        # inside a word ("McKay").
        capital = word_start != self.ids.keyboard.shift
        return cased(key, capital)

    def on_submit(self, text: str) -> None:
        pass

    def clear(self) -> None:
        self.text = ""


class DigitPad(GridLayout):
    """1-9, delete, 0 and OK in big keys; fires ``on_digit``, ``on_backspace``, ``on_ok``."""

    ok_text = StringProperty("")
    __events__ = ("on_digit", "on_backspace", "on_ok")

    def on_digit(self, digit: str) -> None:
        pass

    def on_backspace(self) -> None:
        pass

    def on_ok(self) -> None:
        pass


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
