"""Headless Kivy for the UI tests (see ``tests/ui/headless.py``)."""

from __future__ import annotations

from tests.ui.headless import english_between_tests, kiosk, kivy_window  # noqa: F401
