"""Volunteer mode: unlocking it with a PIN (and the lock after too many wrong ones), locking it
again (by hand or when idle), and going between its screens."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kiosk.domain.errors import KioskError
from kiosk.domain.volunteers import LockedOut
from kiosk.i18n import _, ngettext
from kiosk.ui import words
from kiosk.ui.controllers.base import Controller

if TYPE_CHECKING:
    from kiosk.ui.screens.pin import PinScreen

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PinAnswer:
    """What the volunteer book said to a PIN: whose it is, or how many tries are left, or the
    lock (a refused PIN is an answer, not a failure: no traceback in the log)."""

    name: str | None
    tries_left: int = 0
    locked: LockedOut | None = None


class VolunteerMode(Controller):
    """Who is in volunteer mode is ``app.volunteer_name`` ("" when locked)."""

    # -- unlocking -----------------------------------------------------------------------------
    def open(self, then: str = "volunteer_home") -> None:
        """The "Volunteer" button: the PIN screen, then ``then`` (already unlocked: at once)."""
        if self.app.volunteer_name:
            self._after_unlock(then)
            return
        self.screen("pin").prepare(then)
        self.go("pin")

    def check_pin(self, pin: str, then: str) -> None:
        at = self.now()
        volunteers = self.app.volunteers

        def check() -> PinAnswer:
            try:
                name = volunteers.check(pin, at)
            except LockedOut as locked:
                log.warning(
                    "a volunteer PIN was refused: volunteer mode is locked until %s",
                    locked.until.isoformat(timespec="seconds"),
                )
                return PinAnswer(None, locked=locked)
            if name is not None:
                return PinAnswer(name)
            tries = volunteers.tries_left()
            log.info("a wrong volunteer PIN was refused (%d tries left before the lock)", tries)
            return PinAnswer(None, tries_left=tries)

        self.submit(
            check,
            on_done=lambda answer: self._pin_checked(answer, then),
            on_error=self._pin_failed,
        )

    def _pin_checked(self, answer: PinAnswer, then: str) -> None:
        pin_screen: PinScreen = self.screen("pin")
        if answer.locked is not None:
            pin_screen.result(self._locked_words(answer.locked), error=True, locked=True)
            return
        name = answer.name
        if not name:
            pin_screen.result(
                ngettext(
                    "That PIN isn't right. {n} try left before volunteer mode locks.",
                    "That PIN isn't right. {n} tries left before volunteer mode locks.",
                    answer.tries_left,
                ).format(n=answer.tries_left),
                error=True,
            )
            return
        pin_screen.result("", error=False)
        self.app.volunteer_name = name
        self.app.languages.volunteer_unlocked()
        self.app.last_touch = self.monotonic()
        self._after_unlock(then)

    def _locked_words(self, exc: LockedOut) -> str:
        minutes = math.ceil(exc.remaining(self.now()).total_seconds() / 60)
        if minutes <= 0:
            message = _(
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                "Please try again in a moment."
            )
        else:
            message = ngettext(
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                "Please try again in {n} minute.",
                "Too many wrong PINs, so volunteer mode is locked for a while. "
                "Please try again in {n} minutes.",
                minutes,
            ).format(n=minutes)
        return _("{locked} The kiosk's admin can unlock it sooner.").format(locked=message)

    def _pin_failed(self, exc: BaseException) -> None:
        pin_screen: PinScreen = self.screen("pin")
        if isinstance(exc, LockedOut):
            pin_screen.result(self._locked_words(exc), error=True, locked=True)
            return
        message = _("The PIN could not be checked. Please try again, or restart the kiosk.")
        pin_screen.result(message, error=True)

    def recheck_pin_lock(self) -> None:
        """(The PIN screen, while locked.) Read the lock again: an admin may have lifted it
        (``kiosk-admin volunteer unlock``) or it may have run out."""
        at = self.now()
        volunteers = self.app.volunteers

        def still_locked() -> bool:
            return volunteers.lockout().is_locked(at)

        def show(locked: bool) -> None:
            if not locked:
                log.info("volunteer mode's PIN lock has been lifted")
                self.screen("pin").unlocked()

        self.submit(still_locked, on_done=show, on_error=lambda exc: None)

    def _after_unlock(self, then: str) -> None:
        if then == "assign_card" and self.app.last_unknown_card:
            self.app.search.open("assign_card")
        else:
            self.go_to("volunteer_home")

    def cancel_unlock(self) -> None:
        """Cancel on the PIN screen: back to the door."""
        self.screen("pin").reset()
        self.app.languages.show(self.app.languages.resting())
        self.go("tap")

    # -- locking -------------------------------------------------------------------------------
    def lock(self) -> None:
        app = self.app
        app.volunteer_name = ""
        app.languages.volunteer_locked()
        app.door.return_to = "tap"
        # The registration draft is kept (see ``UiTimings.registration_draft``).
        assert app.sm is not None
        for screen in app.sm.screens:
            if not screen.door_screen:
                screen.reset()
        if not self.current.door_screen:
            self.go("tap")

    def lock_if_idle(self) -> None:
        """Volunteer mode locks itself after ``UiTimings.volunteer_idle`` without a touch."""
        app = self.app
        idle = app.timings.volunteer_idle
        if app.volunteer_name and self.monotonic() - app.last_touch > idle:
            log.info("volunteer mode locked after %.0f s idle", idle)
            self.lock()

    # -- its screens ---------------------------------------------------------------------------
    def go_to(self, name: str) -> None:
        """Go to a volunteer screen; without volunteer mode unlocked, to the PIN first."""
        if not self.app.volunteer_name:
            self.open(then=name)
            return
        self.go(name)

    def message(self, title: str, body: str, **kwargs: Any) -> None:
        """The volunteer message screen: what happened, and buttons for what to do next."""
        self.screen("volunteer_message").prepare(title, body, **kwargs)
        self.go_to("volunteer_message")

    def error(self, exc: BaseException) -> None:
        """Something the worker did for volunteer mode failed: say so, in plain words."""
        otherwise = _("Something went wrong saving that. Please try again in a moment.")
        body = words.problem(exc, otherwise) if isinstance(exc, KioskError) else otherwise
        self.message(_("That didn't work"), body, error=True)
