"""The app's language as Kivy properties, so every ``.kv`` text follows a change of language.

``KioskApp`` mixes in ``Speaks``. In ``.kv`` files words are written ``app._("Tap your card")``
(with ``.format(name=...)`` for placeholders) and Kivy re-evaluates them whenever the language
changes: binding to ``app._`` binds to ``language``. Layout that mirrors for a right-to-left
language binds to ``align_start``/``align_end`` (a label's ``halign``), ``flow`` (a
StackLayout or GridLayout's ``orientation``) and ``rtl`` (``MirrorRow.mirrored``).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, OptionProperty, StringProperty

from kiosk import i18n

#: Names a .kv expression may call on the app to translate; binding to them binds to language.
_TRANSLATING = frozenset({"_", "ngettext"})


class Speaks:
    """Mixed into the App: the language on screen and the direction the layout runs."""

    language = StringProperty(i18n.DEFAULT_LANGUAGE)
    rtl = BooleanProperty(False)
    align_start = OptionProperty("left", options=["left", "right"])
    align_end = OptionProperty("right", options=["left", "right"])
    flow = OptionProperty("lr-tb", options=["lr-tb", "rl-tb"])

    def _(self, message: str) -> str:
        return i18n._(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return i18n.ngettext(singular, plural, n)

    def iso(self, value: object) -> str:
        """A name or typed text for a sentence (``kiosk.i18n.isolate``)."""
        return i18n.isolate(value)

    def speak(self, code: str) -> None:
        """Show ``code`` from now on: every bound text is translated again, the layout mirrors."""
        lang = i18n.set_language(code)
        self.rtl = lang.rtl
        self.align_start, self.align_end = ("right", "left") if lang.rtl else ("left", "right")
        self.flow = "rl-tb" if lang.rtl else "lr-tb"
        self.language = code  # last: what is bound to the words sees the new direction

    # -- kv binds ``app._`` like a property -------------------------------------------------------
    def fbind(self, name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        return super().fbind("language" if name in _TRANSLATING else name, func, *args, **kwargs)

    def funbind(self, name: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        return super().funbind("language" if name in _TRANSLATING else name, func, *args, **kwargs)

    def unbind_uid(self, name: str, uid: int) -> Any:
        return super().unbind_uid("language" if name in _TRANSLATING else name, uid)
