"""Urdu on the kiosk's screen: joined letters, right to left, in a font that has them.

Kivy's SDL2 text provider (the only one in the Kivy wheel; Pango needs a Kivy built for it)
neither joins Arabic-script letters nor reorders right-to-left text, and Roboto has no Arabic
letters. ``install()`` swaps Kivy's core text classes for the two below, which differ from
Kivy's only for a label whose text holds a right-to-left letter. Its direction is its text's
(the first letter with a direction; ``kiosk.i18n.isolate`` marks a Latin name right-to-left
inside Urdu words), or its ``base_direction`` when set:

- measuring (``get_extents``) uses the reshaped text (``kiosk.ui.bidi.reshape``) in the fonts it
  will be drawn in, so Kivy wraps the logical text at the right places and the first line of a
  paragraph is its beginning;
- drawing (``_render_text``) turns each line into visual order (``kiosk.ui.bidi.visual_line``)
  and draws its Arabic-script runs in Doorstep Naskh (``URDU_FONT``: Noto Naskh Arabic, OFL,
  shipped in ``kiosk/ui/fonts``) and the other runs (a name in Latin letters, digits) in the
  label's own font, all on one baseline;
- with markup, the pieces of a line (``[b]Sarah[/b]  Mia and Leo``) are laid from right to left.

Every other label is measured and drawn by Kivy's own code, so English, Polish and Romanian,
and names, numbers and symbols in any language, look exactly as before. Kivy is pinned
(``kivy==2.3.1``); ``tests/i18n`` checks that the swap is in place and that Urdu comes out
joined and right to left.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kivy.uix.label as kivy_label
from kivy.core.text import Label as CoreLabel
from kivy.core.text import LabelBase
from kivy.core.text.markup import MarkupLabel as CoreMarkupLabel

from kiosk.ui.bidi import font_runs, has_rtl, paragraph_is_rtl, reshape, visual_line

FONTS = Path(__file__).with_name("fonts")
#: The Urdu font: Noto Naskh Arabic with a line box that fits the letters (kiosk/ui/fonts/
#: make_fonts.py, OFL). Naskh, not Nastaliq: Nastaliq needs OpenType shaping that the
#: presentation forms used here cannot give it, and Naskh is a style Urdu readers read easily.
URDU_FONT = "DoorstepNaskh"
URDU_FONT_FILES = {
    False: str(FONTS / "DoorstepNaskh-Regular.ttf"),
    True: str(FONTS / "DoorstepNaskh-Bold.ttf"),
}
#: Naskh letters beside Roboto read best a little larger than the label's size.
URDU_SCALE = 1.1

LabelBase.register(URDU_FONT, URDU_FONT_FILES[False], fn_bold=URDU_FONT_FILES[True])


class _Shaping:
    """What the two core label classes share (mixed in before Kivy's own class)."""

    options: dict[str, Any]

    # -- when to do anything -----------------------------------------------------------------------
    def _shapes(self, _text: str = "") -> bool:
        """Whether this label draws through the code below: its text holds a right-to-left letter
        (every piece and line of the label then shares one line box and one direction)."""
        return has_rtl(self.text)

    def _rtl_base(self) -> bool:
        """The paragraph's direction: the label's ``base_direction`` if set, else its text's."""
        direction = self.options.get("base_direction")
        if direction in ("rtl", "weak_rtl"):
            return True
        if direction in ("ltr", "weak_ltr"):
            return False
        return paragraph_is_rtl(self.text, markup=isinstance(self, CoreMarkupLabel))

    # -- fonts -------------------------------------------------------------------------------------
    def _use_font(self, arabic: bool) -> tuple[Any, Any]:
        """Switch ``options`` to the Urdu font (or back); returns what to restore."""
        saved = (self.options["font_name_r"], self.options["font_size"])
        if arabic:
            self.options["font_name_r"] = URDU_FONT_FILES[bool(self.options.get("bold"))]
            self.options["font_size"] = saved[1] * URDU_SCALE
        return saved

    def _restore_font(self, saved: tuple[Any, Any]) -> None:
        self.options["font_name_r"], self.options["font_size"] = saved

    def _metrics(self, arabic: bool) -> tuple[int, int]:
        """(ascent, descent) in pixels of the font a run is drawn in, descent positive."""
        saved = self._use_font(arabic)
        try:
            return super().get_ascent(), -super().get_descent()
        finally:
            self._restore_font(saved)

    def _run_width(self, piece: str, arabic: bool) -> int:
        saved = self._use_font(arabic)
        try:
            return super().get_extents(piece)[0]
        finally:
            self._restore_font(saved)

    # -- Kivy's hooks ------------------------------------------------------------------------------
    def get_extents(self, text: str) -> tuple[int, int]:
        if not self._shapes(text):
            return super().get_extents(text)
        runs = font_runs(reshape(text))
        width = sum(self._run_width(piece, arabic) for piece, arabic in runs)
        ascent, descent = self._line_box()
        return width, ascent + descent

    def get_cached_extents(self):
        return self.get_extents

    def _line_box(self) -> tuple[int, int]:
        """(ascent, descent) of a shaped line: room for both fonts, whichever a line holds, so
        every line (and every piece of a markup line) sits on the same baseline."""
        metrics = [self._metrics(False), self._metrics(True)]
        return max(a for a, _ in metrics), max(d for _, d in metrics)

    def _render_text(self, text: str, x: int, y: int) -> None:
        if not self._shapes(text):
            return super()._render_text(text, x, y)
        ascent = self._line_box()[0]
        for piece, arabic in font_runs(visual_line(text, self._rtl_base())):
            saved = self._use_font(arabic)
            try:
                # SDL draws a run's baseline its font's ascent below the top: line them up.
                super()._render_text(piece, int(x), int(y + ascent - super().get_ascent()))
                x += super().get_extents(piece)[0]
            finally:
                self._restore_font(saved)


class ShapedLabel(_Shaping, CoreLabel):
    """Kivy's core label (SDL2) that can draw Urdu."""


class ShapedMarkupLabel(_Shaping, CoreMarkupLabel):
    """Kivy's core markup label that can draw Urdu: a right-to-left line's pieces go leftwards."""

    def render_lines(self, lines, options, render_text, y, size):
        if not (self._shapes() and self._rtl_base()):
            return super().render_lines(lines, options, render_text, y, size)
        for line in lines:
            line.words.reverse()
        try:
            return super().render_lines(lines, options, render_text, y, size)
        finally:
            for line in lines:
                line.words.reverse()


def install() -> None:
    """Make every Kivy ``Label`` created from now on draw with the classes above."""
    kivy_label.CoreLabel = ShapedLabel
    kivy_label.CoreMarkupLabel = ShapedMarkupLabel


def installed() -> bool:
    return kivy_label.CoreLabel is ShapedLabel and kivy_label.CoreMarkupLabel is ShapedMarkupLabel
