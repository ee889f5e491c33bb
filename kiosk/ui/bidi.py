"""Right-to-left text for a renderer that draws characters as they come (plain Python, no Kivy).

Kivy's SDL2 text provider puts characters down one after another, left to right, each in its
isolated form: Urdu would come out as separate letters in reverse order. This module turns one
line of text, in the order it is written (logical order), into what should be drawn from left to
right (visual order), with each Arabic-script letter already in its joined form:

1. ``arabic_reshaper`` replaces every letter by its initial, medial, final or isolated
   presentation form (U+FB50..U+FEFF) and makes the lam-alef ligature;
2. ``python-bidi`` (the Unicode bidirectional algorithm) reorders the line: right-to-left runs
   are reversed, while a family's name in Latin letters, a time like 09:00 and digits keep their
   left-to-right order inside the line, and brackets in right-to-left text are mirrored. Its
   pure-Python ``bidi.algorithm`` is used (the same in python-bidi 0.4, pure Python, and 0.6):
   0.6's faster Rust ``get_display`` does not mirror brackets (``(optional)`` came out as
   ``)optional(``). It predates Unicode's isolates, so names are kept to themselves with
   right-to-left marks instead (``kiosk.i18n.isolate``).

``font_runs`` then splits a visual line into runs of Arabic-script characters (drawn in the
Urdu font) and everything else (drawn in the label's own font, which has the Latin letters).

Wrapping must happen before step 2 (a wrapped right-to-left paragraph starts on the first line
at the right), so callers pass one line at a time: ``kiosk.ui.shaping`` lets Kivy wrap the
logical text, measuring reshaped text, then draws each line through ``visual_line``.
"""

from __future__ import annotations

import re
from functools import lru_cache

import arabic_reshaper
from bidi.algorithm import get_base_level, get_display

#: Hebrew, Arabic, Syriac, Thaana, NKo..., Arabic Extended, and the Arabic presentation forms.
RTL_CHARACTERS = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
#: The characters drawn in the Arabic-script font: the Arabic blocks and presentation forms.
ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]+")

#: Bidi formatting characters (marks, embeddings, isolates): they steer the reordering and are
#: then dropped, as they have nothing to draw.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

_RESHAPER = arabic_reshaper.ArabicReshaper(
    configuration={
        "delete_harakat": False,  # Urdu words are written without them; keep any that come
        "support_ligatures": True,
        "ARABIC LIGATURE ALLAH": False,  # a name like "Abdullah" stays letter by letter
    }
)


_MARKUP_TAG = re.compile(r"\[/?[a-z_]+(=[^\]]*)?\]")


@lru_cache(maxsize=4096)
def paragraph_is_rtl(text: str, markup: bool = False) -> bool:
    """Whether a paragraph reads right to left: its first letter with a direction is
    right-to-left (a right-to-left mark counts), the Unicode rule (P2, P3)."""
    if markup:
        text = _MARKUP_TAG.sub("", text)
    return has_rtl(text) and get_base_level(text) == 1


def has_rtl(text: str) -> bool:
    """Whether ``text`` holds any right-to-left letter (Arabic script, Hebrew...)."""
    return RTL_CHARACTERS.search(text) is not None


@lru_cache(maxsize=4096)
def reshape(text: str) -> str:
    """``text`` with Arabic-script letters in their joined forms, still in logical order, and
    without bidi formatting characters (what is measured is what will be drawn)."""
    text = BIDI_CONTROLS.sub("", text)
    return _RESHAPER.reshape(text) if has_rtl(text) else text


@lru_cache(maxsize=4096)
def visual_line(text: str, rtl: bool | None = None) -> str:
    """One line in logical order, as it is drawn from left to right.

    ``rtl`` is the paragraph's base direction: True for a right-to-left screen (a Latin name at
    the start of an Urdu sentence still goes at the right), False for left to right, None to
    take it from the first letter with a direction. Text with no right-to-left letter in a
    left-to-right (or undecided) paragraph is returned as it is.
    """
    if not rtl and not has_rtl(text):
        return BIDI_CONTROLS.sub("", text)
    base = None if rtl is None else ("R" if rtl else "L")
    shaped = _RESHAPER.reshape(text) if has_rtl(text) else text
    return BIDI_CONTROLS.sub("", get_display(shaped, base_dir=base))


#: Spaces and punctuation the Urdu font has too: between two Arabic-script letters they stay in
#: the Urdu run, so a sentence is drawn as one piece (drawn piece by piece, a letter's tail
#: reaching past its neighbour would be cut off where the next piece is laid down).
_SHARED = frozenset(" \u00a0!.,:")


def font_runs(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, arabic_script)`` runs, in order (any order: visual or not).

    A run is Arabic-script letters (with the spaces and punctuation between them) or anything
    else (Latin letters, digits), each drawn in its own font.
    """
    kinds = [bool(ARABIC_SCRIPT.match(ch)) for ch in text]
    for i, ch in enumerate(text):
        if ch in _SHARED:
            before = next((kinds[j] for j in range(i - 1, -1, -1) if text[j] not in _SHARED), None)
            after = next(
                (kinds[j] for j in range(i + 1, len(text)) if text[j] not in _SHARED), None
            )
            kinds[i] = bool(before and after)
    runs: list[tuple[str, bool]] = []
    for ch, arabic in zip(text, kinds, strict=True):
        if runs and runs[-1][1] == arabic:
            runs[-1] = (runs[-1][0] + ch, arabic)
        else:
            runs.append((ch, arabic))
    return runs
