"""On-screen keyboards of our own: letters for names, letters and digits for postcodes, and a
digit pad for PINs. No physical keyboard or mouse is needed, and no Kivy VKeyboard config.

``TextEntry`` joins a display field to a keyboard: it holds ``text``, capitalises names as they
are typed (a capital at the start of each word, like "Mary-Jane O'Neill"), and fires
``on_submit`` when the keyboard's enter key is pressed.
"""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
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

from kiosk.i18n import _
from kiosk.ui import theme
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


class KeyboardKey(KioskButton):
    key = StringProperty("")


class OnScreenKeyboard(BoxLayout):
    """Rows of big keys; fires ``on_key(key)`` with a character, BACKSPACE, ENTER or SHIFT."""

    layout = OptionProperty("name", options=list(LAYOUTS))
    enter_text = StringProperty("")
    shift = BooleanProperty(False)
    __events__ = ("on_key",)

    def __init__(self, **kwargs):
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
                    text=self._label(key),
                    style="primary" if key == ENTER else "key",
                    size_hint=(width / units, 1),
                    height=dp(theme.KEY_HEIGHT),
                    font_size=self._font_size(key),
                    font_name=theme.SYMBOL_FONT if key == BACKSPACE else "Roboto",
                )
                button.bind(on_release=self._pressed)
                line.add_widget(button)
            self.add_widget(line)

    def _relabel(self) -> None:
        """Light up the shift key while the next letter will be the other case."""
        for line in self.children:
            for button in line.children:
                if button.key == SHIFT:
                    button.style = "accent" if self.shift else "key"

    def _pressed(self, button: KeyboardKey) -> None:
        self.dispatch("on_key", button.key)

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
        return key.upper() if capital else key.lower()

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
