"""The kiosk in its languages: catalogue checks (plain Python) and the real app, headless."""

from __future__ import annotations

from tests.ui.headless import english_between_tests, kiosk, kivy_window  # noqa: F401
