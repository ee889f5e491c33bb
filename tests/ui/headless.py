"""Headless Kivy for the UI tests: one window for the whole run, a fresh app for each test.

Kivy makes its window once per process, so the window is session-scoped; each test builds a new
``KioskApp`` on it (with its own store, desk, volunteer book, fake clock and feedback) and takes
it down afterwards. With no display, SDL2 falls back to its offscreen driver on Mesa's software
GL (Debian: libgl1 libegl1 libgl1-mesa-dri libgbm1); under Xvfb it uses X. Nothing here mocks
the GL backend: the screens are really laid out and drawn, and screenshots are real pixels.

Imported by ``tests/ui/conftest.py`` and ``tests/i18n/conftest.py`` before anything imports Kivy.
"""

from __future__ import annotations

import gc
import os
import tempfile

# Before Kivy is imported anywhere: its home, no argv parsing, logs through Python logging.
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_NO_CONSOLELOG"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIOSK_CLOCK_SYNCED", "1")

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", "800")
Config.set("graphics", "height", "480")
Config.set("graphics", "resizable", "0")
Config.set("graphics", "maxfps", "0")
Config.set("kivy", "exit_on_escape", "0")
Config.set("input", "mouse", "mouse,disable_multitouch")

import pytest  # noqa: E402

from tests.ui.driver import Kiosk, make_kiosk  # noqa: E402

#: Each test builds a whole app (some 200,000 Python objects, most in reference cycles) and
#: drops it. With the default thresholds Python's full collections, each walking every object
#: of every app not yet collected, took two thirds of the UI tests' time; rarer young
#: collections keep the same memory bounded at a fraction of the cost.
GC_THRESHOLDS = (50_000, 50, 50)


@pytest.fixture(scope="session")
def kivy_window():
    from kivy.base import EventLoop
    from kivy.core.window import Window

    EventLoop.ensure_window()
    assert Window is not None, "Kivy could not open a window (is Mesa's GL installed?)"
    assert tuple(Window.size) == (800, 480), f"window is {Window.size}, not 800x480"
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    yield Window
    gc.set_threshold(*before)


@pytest.fixture(autouse=True)
def english_between_tests():
    """The language in use is the kiosk's (one screen): each test starts and ends in English."""
    from kiosk import i18n

    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.fixture
def kiosk(kivy_window, tmp_path) -> Kiosk:
    driver = make_kiosk(tmp_path)
    try:
        yield driver
    finally:
        driver.close()
