"""The door: a card tapped, and the welcome or message screen that answers it.

Every family gets the same screen, sound and light for the same kind of answer (the stigma
rule): nothing here looks at whether a family qualifies for anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kiosk.domain.desk import Outcome
from kiosk.domain.errors import ValidationError
from kiosk.domain.uids import normalise_uid
from kiosk.ui import words
from kiosk.ui.controllers.base import Controller
from kiosk.ui.timers import Countdown

if TYPE_CHECKING:
    from kiosk.ui.kioskapp import KioskApp
    from kiosk.ui.screens.door import DoorMessageScreen, WelcomeScreen

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TapResult:
    """A tap's outcome and the language to greet the family in (theirs, or just chosen)."""

    outcome: Outcome
    language: str | None


class Door(Controller):
    """``card_tapped(uid)`` is the door. Volunteer screens that want a card get it instead."""

    def __init__(self, app: KioskApp) -> None:
        super().__init__(app)
        #: Where the door screens go back to: the tap screen, or the volunteer screen a
        #: family's tap interrupted (volunteer mode stays as it was).
        self.return_to = "tap"
        self._taps_pending = 0
        self._tap_waiting_since: float | None = None

    def card_tapped(self, uid: str) -> None:
        """A card was tapped (UI thread). Volunteer screens that want a card get it instead."""
        app = self.app
        current = self.current
        if app.volunteer_name and current.captures_cards:
            try:
                current.card_captured(normalise_uid(uid))
            except ValidationError as exc:
                log.warning("ignored an unreadable card %r: %s", uid, exc)
            app.last_touch = self.monotonic()
            return
        if current.name == "welcome":
            self._confirm_children()  # the next family is here: keep what the last one chose
        elif not current.door_screen:
            self.return_to = current.name if app.volunteer_name else "tap"
        at = self.now()
        chosen = app.languages.take_door_choice()
        if self._taps_pending == 0:
            self._tap_waiting_since = self.monotonic()
        self._taps_pending += 1

        def tap() -> TapResult:
            outcome = self.desk.tap(uid, at)
            return TapResult(outcome, app.languages.family_language(outcome, chosen, at))

        self.submit(tap, on_done=self._tap_done, on_error=self._tap_failed)

    def _tap_done(self, result: TapResult) -> None:
        # The family's language (saved, or just chosen), else the kiosk's own: never the
        # volunteer's, who may be working in another at the time.
        languages = self.app.languages
        languages.show(result.language or languages.home)
        self.show_outcome(result.outcome)

    def _tap_answered(self) -> None:
        self._taps_pending = max(self._taps_pending - 1, 0)
        self._tap_waiting_since = None if self._taps_pending == 0 else self.monotonic()
        self.app.taps_answered += 1

    def check_patience(self) -> None:
        """A tap not answered for a while shows "Just a moment" (a slow or busy SD card)."""
        since = self._tap_waiting_since
        if since is None or self.monotonic() - since < self.app.timings.tap_patience:
            return
        screen: DoorMessageScreen = self.screen("door_message")
        if self.current is screen and screen.kind == "waiting":
            return
        if not self.current.door_screen:
            self.return_to = self.current.name if self.app.volunteer_name else "tap"
        self.message("waiting", words.waiting_title, words.waiting_body, False)

    def show_outcome(self, outcome: Outcome) -> None:
        """Show what a tap (or a sign-in) means to the family at the door."""
        app = self.app
        app.last_unknown_card = self.desk.last_unknown_card or ""
        self.signal(outcome.kind)
        if outcome.kind in ("welcome", "already_in"):
            self.screen("welcome").show(outcome, Countdown(app.timings.welcome, app.monotonic))
            self.go("welcome")
        elif outcome.kind == "unknown_card":
            self.message("unknown_card", words.unknown_card_title, words.unknown_card_body, True)
        else:
            self.message(
                "no_session",
                lambda: words.no_session_title(outcome.greeting_name),
                words.no_session_body,
                False,
            )
        self._tap_answered()

    def _tap_failed(self, exc: BaseException) -> None:
        self.signal("error")
        # e.g. a card number the desk refuses
        body = words.unreadable_card_body if isinstance(exc, ValidationError) else words.error_body
        self.message("error", words.error_title, body, False)
        self._tap_answered()

    def message(
        self,
        kind: str,
        title: Callable[[], str],
        body: Callable[[], str],
        volunteer_button: bool,
    ) -> None:
        """The door's message screen (unknown card, no session, waiting, an error)."""
        screen: DoorMessageScreen = self.screen("door_message")
        countdown = Countdown(self.app.timings.door_message, self.app.monotonic)
        screen.show(kind, title, body, countdown, volunteer_button)
        self.go("door_message")

    def signal(self, kind: str) -> None:
        """Sound and light: the same for every family (the stigma rule)."""
        feedback = self.app.feedback
        if feedback is None:
            return
        try:
            feedback.signal(kind)
        except Exception:  # noqa: BLE001 - a broken buzzer must not stop a check-in
            log.exception("feedback.signal(%r) failed", kind)

    def finish_welcome(self) -> None:
        """Done pressed or time up on the welcome screen: keep the choice and go back."""
        self._confirm_children()
        self.leave()

    def _confirm_children(self) -> None:
        screen: WelcomeScreen = self.screen("welcome")
        outcome = screen.outcome
        if screen.countdown is not None:
            screen.countdown.stop()
        if outcome is None or not screen.changed():
            screen.outcome = None
            return
        chosen, at = screen.chosen_ids(), self.now()
        screen.outcome = None
        self.submit(
            lambda: self.desk.set_children(outcome.family_id, chosen, at),
            on_error=lambda exc: self.message(
                "error",
                words.children_not_saved_title,
                lambda: words.children_not_saved_body(outcome.greeting_name or ""),
                False,
            ),
        )

    def leave(self) -> None:
        """Off the door screens: back to the tap screen, or the volunteer screen interrupted."""
        target = self.return_to if self.app.volunteer_name else "tap"
        self.return_to = "tap"
        self.app.languages.show(self.app.languages.resting())
        self.go(target)
