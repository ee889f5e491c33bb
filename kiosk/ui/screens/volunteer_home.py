"""Volunteer mode's home: the status at a glance and the things a volunteer can do."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

from kiosk.ui.screens.base import KioskScreen


class VolunteerHomeScreen(KioskScreen):
    """Session, card reader and connection; sign in, register, today's register, start."""

    def on_pre_enter(self, *args) -> None:
        self.app.status.refresh()


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
