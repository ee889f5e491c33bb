"""Starting a one-off session at the door (a drop-in the timetable does not have)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kiosk.domain.errors import KioskError
from kiosk.i18n import _, isolate
from kiosk.ui import words
from kiosk.ui.controllers.base import Controller


class Sessions(Controller):
    def start(self, name: str, hours: int) -> None:
        at = self.now()
        app = self.app

        def started(session: Any) -> None:
            app.status.refresh()
            app.volunteer.message(
                _("{session} has started").format(session=isolate(session.name)),
                _("Families can tap in now. It ends at {time}.").format(
                    time=words.clock(session.end)
                ),
            )

        def failed(exc: BaseException) -> None:
            otherwise = _("The session could not be started. Please try again.")
            message = words.problem(exc, otherwise) if isinstance(exc, KioskError) else otherwise
            self.screen("start_session").failed(message)

        self.submit(
            lambda: self.desk.start_one_off_session(name, at, timedelta(hours=hours)),
            on_done=started,
            on_error=failed,
        )
