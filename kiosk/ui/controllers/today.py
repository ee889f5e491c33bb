"""Today's register: reading it, signing a family out (and back), taking one off it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kiosk.domain.desk import Register, RegisterLine
from kiosk.i18n import _, isolate
from kiosk.ui.controllers.base import Controller


class TodayRegister(Controller):
    def open(self) -> None:
        """Today's register, on its default session (the one on now, or the latest)."""
        self.screen("today").reset()
        self.app.volunteer.go_to("today")

    def load(
        self, show: Callable[[Register | None, bool], None], session_key: str | None = None
    ) -> None:
        """Read the register of a session of today (the default one without ``session_key``)
        and whether a session is on now; ``show`` gets both on the UI thread."""
        at = self.now()
        desk = self.desk

        def read() -> tuple[Register | None, bool]:
            return desk.register(at, session_key), desk.session_now(at) is not None

        self.submit(read, on_done=lambda got: show(*got), on_error=self.app.volunteer.error)

    def _back_to_register(self, session_key: str, notice: str = "") -> None:
        today = self.screen("today")
        today.session_key = session_key
        today.notice(notice)
        if self.current is today:
            today.reload()
        else:
            self.app.volunteer.go_to("today")

    def _amend(
        self, register: Register, line: RegisterLine, change: Callable[..., Any], notice: str
    ) -> None:
        volunteer, at, key = self.app.volunteer_name, self.now(), register.session.key
        self.submit(
            lambda: change(key, line.attendance_id, at, volunteer),
            on_done=lambda _att: self._back_to_register(key, notice),
            on_error=self.app.volunteer.error,
        )

    def sign_out(self, register: Register, line: RegisterLine) -> None:
        """The family has gone home: the time is recorded on their attendance."""
        name = isolate(line.greeting_name)
        self._amend(
            register, line, self.desk.sign_out, _("{name} is signed out.").format(name=name)
        )

    def undo_sign_out(self, register: Register, line: RegisterLine) -> None:
        name = isolate(line.greeting_name)
        self._amend(
            register,
            line,
            self.desk.undo_sign_out,
            _("{name} is signed in again.").format(name=name),
        )

    def ask_undo_sign_in(self, register: Register, line: RegisterLine) -> None:
        """Taking a family off the register is asked first: one tap is easily the wrong line."""
        name, session = isolate(line.greeting_name), isolate(register.session.name)
        key = register.session.key
        self.app.volunteer.message(
            _("Take {name} off the register?").format(name=name),
            _(
                "Only if they were signed in by mistake: nothing is then counted for "
                "{name}'s family at {session}."
            ).format(name=name, session=session),
            action_text=_("Yes, take them off"),
            action=lambda: self._amend(
                register,
                line,
                self.desk.undo_sign_in,
                _("{name} is off the register.").format(name=name),
            ),
            action_is_main=True,
            done_text=_("Cancel"),
            done=lambda: self._back_to_register(key),
        )
