"""Pictures of what the kiosk shows: the window's pixels, as drawn, at its real size.

``Window.screenshot`` reads the GL buffer after the frame was flipped, which is undefined (black
on Mesa's offscreen driver); here the frame is drawn and read back before any flip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def grab_pixels(window: Any = None) -> tuple[int, int, bytes]:
    """``(width, height, rgb_bytes)`` of the window, bottom row first (as GL gives them)."""
    if window is None:
        from kivy.core.window import Window

        window = Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels

    window.dispatch("on_draw")
    width, height = (int(v) for v in window.size)
    return width, height, glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)


def grab_image(window: Any = None) -> Any:
    """The window as a Pillow ``Image`` (RGB, top row first). Needs Pillow."""
    from PIL import Image

    width, height, data = grab_pixels(window)
    return Image.frombytes("RGB", (width, height), data).transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def save_png(path: str | Path, window: Any = None) -> Path:
    """Save the window as a PNG at ``path`` (Pillow if present, else SDL's own writer)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        image = grab_image(window)
    except ImportError:
        if window is None:
            from kivy.core.window import Window

            window = Window
        width, height, data = grab_pixels(window)
        window._win.save_bytes_in_png(str(path), data, width, height)
    else:
        image.save(path)
    return path
