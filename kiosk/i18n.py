"""The kiosk in the families' languages: which languages, their catalogues, and the one in use.

Plain Python (gettext from the standard library; no Kivy). The words themselves are in gettext
catalogues, ``kiosk/locale/<code>/LC_MESSAGES/kiosk.po``, compiled to ``kiosk.mo`` beside them
(``python -m kiosk.locale.catalogues compile``; a test checks the ``.mo`` files match the ``.po``).

Code marks what a person reads with ``_("...")`` (or ``ngettext`` for a count, ``N_`` for a word
kept in a table and translated where it is shown); ``{name}`` placeholders are filled with
``str.format`` after translation, so a translation can put them where its grammar wants them::

    >>> set_language("en").name
    'English'
    >>> _("Welcome, {name}!").format(name="Sarah")
    'Welcome, Sarah!'
    >>> ngettext("{n} update", "{n} updates", 3).format(n=3)
    '3 updates'

One language is in use at a time (``set_language``): the kiosk has one screen.
"""

from __future__ import annotations

import gettext
import logging
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).with_name("locale")


@dataclass(frozen=True)
class Language:
    """A language the kiosk speaks: ``name`` is its own name, as its button shows it."""

    code: str
    name: str
    english_name: str
    rtl: bool = False


#: In the order the buttons show them. English is the default and complete; the others were
#: started by the project and need review by a native speaker (see each ``.po`` file's header).
LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English"),
    Language("ur", "اردو", "Urdu", rtl=True),
    Language("pl", "Polski", "Polish"),
    Language("ro", "Română", "Romanian"),
)
DEFAULT_LANGUAGE = "en"
_BY_CODE = {lang.code: lang for lang in LANGUAGES}


def language(code: str) -> Language:
    """The language with this code (``"pl"``), or a ValueError listing the known ones."""
    try:
        return _BY_CODE[code]
    except KeyError:
        known = ", ".join(_BY_CODE)
        raise ValueError(f"unknown language {code!r}: the kiosk speaks {known}") from None


def known_language(code: str | None) -> str | None:
    """``code`` if the kiosk speaks it, else None (a family record from a newer kiosk, say)."""
    return code if code in _BY_CODE else None


@cache
def catalogue(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of a language.

    A missing ``.mo`` (an install that left the catalogues out) must not stop the door: the
    words in the code (English) are used instead, and the log says which file is missing.
    """
    language(code)
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code])
    except FileNotFoundError:
        if code != DEFAULT_LANGUAGE:
            log.error(
                "no catalogue %s: showing English (was the kiosk installed without its "
                "package data?)",
                LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.mo",
            )
        return gettext.NullTranslations()


#: The language in use: the kiosk's, shared by every thread (the worker words status lines too).
_current: list[Language] = [_BY_CODE[DEFAULT_LANGUAGE]]
_lock = threading.Lock()


def set_language(code: str) -> Language:
    """Speak ``code`` from now on (every thread: the worker computes status words too)."""
    lang = language(code)
    catalogue(code)  # load it now, not in the middle of drawing a screen
    with _lock:
        _current[0] = lang
    return lang


def current_language() -> Language:
    return _current[0]


def _(message: str) -> str:
    """``message`` in the language in use."""
    return catalogue(_current[0].code).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the count ``n`` (Polish and Romanian have three forms)."""
    return catalogue(_current[0].code).ngettext(singular, plural, n)


def isolate(value: object) -> str:
    """``value`` (a name, a session's name: data, not words) ready to go into a sentence.

    In a right-to-left language a name in Latin letters next to punctuation and digits would
    take them into its own left-to-right run ("Stay and Play، 09:00" would read as one piece);
    a right-to-left mark (U+200F) on each side keeps the name to itself. Left to right, nothing
    is added, so English, Polish and Romanian words stay exactly as they are.

    A left-to-right value that starts or ends with a digit or punctuation ("1 Sarah, 2 Aisha")
    also gets a left-to-right mark (U+200E) inside each such end: after a right-to-left mark a
    leading digit would otherwise be put to the right of the name that follows it. (The
    renderer's bidi algorithm predates Unicode's isolates, so marks do their work.)
    """
    text = str(value)
    if not (_current[0].rtl and text):
        return text
    if not any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        if unicodedata.bidirectional(text[0]) != "L":
            text = "\u200e" + text
        if unicodedata.bidirectional(text[-1]) != "L":
            text += "\u200e"
    return f"\u200f{text}\u200f"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark ``message`` for the catalogues without translating it yet (a table of words)."""
    return message


def translate(code: str, message: str) -> str:
    """``message`` in the language ``code``, whatever language is in use (for tests, tools)."""
    return catalogue(code).gettext(message)
