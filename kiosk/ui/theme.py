"""Colours, sizes and type for the kiosk, in one place (the .kv files import this module).

Designed for the Raspberry Pi 7" touchscreen (800x480, about 133 dpi): a touch target of at least
12 mm is 64 px there, so nothing a finger presses is smaller than ``TOUCH_MIN``. Sizes are in
Kivy's density-independent units (``dp``/``sp``), which are pixels on the Pi's screen; layouts
stretch with ``size_hint`` on larger screens.
"""

from __future__ import annotations


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    """``"#0E7C6B"`` to Kivy's ``(r, g, b, a)`` in 0..1."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return (r, g, b, alpha)


# -- colours: warm, calm, high contrast (text on its background is at least 7:1) ----------------
BACKGROUND = rgba("#FFF7EC")  # warm cream
SURFACE = rgba("#FFFFFF")
INK = rgba("#1C2536")  # near-black navy: body text
INK_SOFT = rgba("#46536A")  # secondary text (still 7:1 on cream)
PRIMARY = rgba("#0B6E5F")  # deep teal: the main action
PRIMARY_PRESSED = rgba("#07493F")
PRIMARY_SOFT = rgba("#D7EFEA")
ON_PRIMARY = rgba("#FFFFFF")
SECONDARY = rgba("#E9E3D8")  # warm grey: secondary actions
SECONDARY_PRESSED = rgba("#D3CABB")
ACCENT = rgba("#F2A541")  # amber: the "tap here" card
ACCENT_SOFT = rgba("#FCE7C5")
VOLUNTEER_BAR = rgba("#27406B")  # navy bar: you are in volunteer mode
ON_VOLUNTEER_BAR = rgba("#FFFFFF")
DANGER = rgba("#A61B1B")
DANGER_SOFT = rgba("#FBE4E1")
GOOD = rgba("#137A3A")
WARN = rgba("#9A5B00")
LINE = rgba("#CFC6B8")
DISABLED_BG = rgba("#ECE8E1")
DISABLED_INK = rgba("#8A8F99")

# -- sizes (dp) --------------------------------------------------------------------------------
TOUCH_MIN = 64  # 12 mm on the Pi 7" screen
BUTTON_HEIGHT = 72
HEADER_HEIGHT = 68
KEY_HEIGHT = 64
PADDING = 16
SPACING = 10
RADIUS = 14

# -- type (sp) ----------------------------------------------------------------------------------
FONT_HUGE = 58  # "Welcome, Sarah!"
FONT_TITLE = 38
FONT_LARGE = 30
FONT_BODY = 24
FONT_SMALL = 20  # the smallest type anywhere, secondary text too (read at arm's length)
FONT_KEY = 28

#: Kivy ships DejaVuSans: it has the symbols Roboto lacks (tick, backspace, arrows).
SYMBOL_FONT = "DejaVuSans"
TICK = "\u2713"
BACKSPACE = "\u232b"
BACK_ARROW = "\u2190"
FORWARD_ARROW = "\u2192"  # "back" in a right-to-left language
CROSS = "\u2715"
#: The typing cursor after typed (Latin) text, and the same on a right-to-left screen, where a
#: left-to-right mark keeps it after the text.
CURSOR = "|"
CURSOR_RTL = "|\u200e"
