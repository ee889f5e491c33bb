"""Does a label's text fit its box? And type that shrinks until it does.

Kivy draws a label's text into a texture of ``text_size`` (when set) and silently drops the lines
that do not fit, or ends a ``shorten``\\ed line with an ellipsis, so a texture the size of its box
says nothing about clipping. ``overflow`` lays the text out again, as the label would but with
no limit on height and no shortening, and compares what that needs with the room the label
has: the words in another language are longer, and nothing may be cut off on an 800x480
screen. Nothing is drawn: only Kivy's layout pass runs.

``ShrinkToFit`` (mixed into ``FitLabel`` and every ``KioskButton``) takes the ``font_size`` the
.kv files give as the largest size, and steps down to ``min_font_size`` until the text fits.
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.metrics import sp
from kivy.properties import NumericProperty
from kivy.uix.label import Label

from kiosk.ui import theme

#: A pixel of slack: Kivy rounds sizes to whole pixels.
SLACK = 1
#: What the layout of a text needs depends only on the label's options and room: the same
#: words in the same box (a keyboard's keys, "Next" on every step) are measured once.
_MEASURED: dict[tuple, str | None] = {}
_MEASURED_MAX = 20_000


def _probe(label: Label, font_size: float | None, width: float | None) -> Any:
    """A core label with ``label``'s options, to lay out (not draw) with unlimited height."""
    options = {name: getattr(label, name) for name in label._font_properties}
    if font_size is not None:
        options["font_size"] = font_size
    options["text_size"] = (width, None)
    options["shorten"] = False
    options["max_lines"] = 0
    probe = type(label._label)(**options)
    probe.resolve_font_name()
    return probe


def room(label: Label) -> tuple[float, float]:
    """(width, height) the text may use, in pixels: ``text_size`` where set, else the widget's."""
    tw, th = label.text_size
    return (tw if tw is not None else label.width), (th if th is not None else label.height)


def overflow(
    label: Label, font_size: float | None = None, max_lines: int | None = None
) -> str | None:
    """Why ``label``'s text does not fit (at ``font_size``, default its own), or None if it does.

    Text that wraps (``text_size`` has a width) must fit in height, without a word broken across
    lines and within ``max_lines`` (default the label's own); text that does not wrap, or is
    ``shorten``\\ed, must fit on one line: an ellipsis is a word cut off.
    """
    if not label.text or label._label is None:
        return None
    width, height = room(label)
    key = (
        type(label._label),
        width,
        height,
        font_size if font_size is not None else label.font_size,
        label.text,
        label.font_name,
        label.bold,
        label.italic,
        label.markup,
        tuple(label.padding),
        label.line_height,
        label.max_lines if max_lines is None else max_lines,
        label.shorten,
        label.base_direction,
        label.font_kerning,
    )
    if key not in _MEASURED:
        if len(_MEASURED) > _MEASURED_MAX:
            _MEASURED.clear()
        _MEASURED[key] = _overflow(label, font_size, width, height, max_lines)
    return _MEASURED[key]


def _overflow(
    label: Label, font_size: float | None, width: float, height: float, max_lines: int | None
) -> str | None:
    wraps = label.text_size[0] is not None and not label.shorten
    probe = _probe(label, font_size, width if wraps else None)
    need_w, need_h = probe.render()
    lines = len(probe._cached_lines)
    if wraps:
        if not label.markup:
            for word in label.text.split():
                word_w = probe.get_extents(word)[0]
                if word_w > width + SLACK:
                    return f"the word {word!r} needs {word_w}px across, the label has {width:.0f}"
        most = label.max_lines if max_lines is None else max_lines
        if most and lines > most:
            return f"the text needs {lines} lines, the label shows {most}"
    elif need_w > width + SLACK:
        cut = "is shortened" if label.shorten else "is cut off"
        return f"the text {cut}: it needs {need_w}px across, the label has {width:.0f}"
    if need_h > height + SLACK:
        return f"the text needs {need_h}px down, the label has {height:.0f}"
    return None


class ShrinkToFit:
    """Mixed into a Label: the font shrinks (to ``min_font_size``) until the text fits.

    Whatever sets ``font_size`` (a .kv rule, code) sets the largest size; the fitting itself
    only ever changes the size actually used, and starts from the largest each time the text,
    the box or the largest size changes.

    With ``one_line_down_to`` set, a text that would wrap is first made smaller, down to that
    size, to keep it to one line ("Priya, obecność jest już zapisana" in one line rather than
    two lines filling the welcome's band); only a text too long for that wraps.
    """

    #: Nothing is smaller: secondary text too must be read at arm's length.
    min_font_size = NumericProperty(sp(theme.FONT_SMALL))
    fit_step = NumericProperty(sp(2))
    one_line_down_to = NumericProperty(0)

    def __init__(self, **kwargs):
        self._fitting = False
        self._wanted_font_size: float | None = None
        self._fit_trigger = Clock.create_trigger(self._fit, -1)
        super().__init__(**kwargs)
        self._wanted_font_size = self.font_size
        for name in (
            "text",
            "size",
            "text_size",
            "min_font_size",
            "one_line_down_to",
            "bold",
            "markup",
        ):
            self.fbind(name, self._fit_trigger)
        self.fbind("font_size", self._font_size_set)
        self._fit_trigger()

    def _font_size_set(self, _instance, value: float) -> None:
        if not self._fitting:
            self._wanted_font_size = value
            self._fit_trigger()

    def _fit(self, *_args) -> None:
        if self.parent is None or not self.text or self.width <= 1 or self.height <= 1:
            return
        wanted = self._wanted_font_size or self.font_size
        size = self._one_line_size(wanted)
        if size is None:
            size = wanted
            while size > self.min_font_size and overflow(self, size) is not None:
                size = max(size - self.fit_step, self.min_font_size)
        self._fitting = True
        try:
            self.font_size = size
        finally:
            self._fitting = False

    def _one_line_size(self, wanted: float) -> float | None:
        """The largest size from ``wanted`` down to ``one_line_down_to`` at which the text fits
        on one line, or None (no such size, or no one-line rule)."""
        if not self.one_line_down_to:
            return None
        size = wanted
        while True:
            if overflow(self, size, max_lines=1) is None:
                return size
            if size <= self.one_line_down_to:
                return None
            size = max(size - self.fit_step, self.one_line_down_to)


class FitLabel(ShrinkToFit, Label):
    """A label whose type shrinks until its text fits: a greeting, a title, in any language.

    ``max_font_size`` is the size it starts from (the same as setting ``font_size``).
    """

    max_font_size = NumericProperty(sp(38))

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fbind("max_font_size", lambda _i, v: setattr(self, "font_size", v))
        self.font_size = self.max_font_size
