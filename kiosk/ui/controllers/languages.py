"""The language on screen: the kiosk's own, a family's (chosen at the door, saved with them),
or a volunteer's for volunteer mode."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk import i18n
from kiosk.domain.desk import Outcome
from kiosk.ui.controllers.base import Controller
from kiosk.ui.timers import Countdown

if TYPE_CHECKING:
    from kiosk.ui.kioskapp import KioskApp

log = logging.getLogger(__name__)


class Languages(Controller):
    """The kiosk speaks ``home`` (its default) to whoever comes. A family can choose another on
    the tap screen before tapping; their choice is saved with them (``Family.language``), and
    every later tap greets them in it. A volunteer can switch volunteer mode to another
    language; locking it goes back to the kiosk's language."""

    def __init__(self, app: KioskApp, home: str) -> None:
        super().__init__(app)
        #: The kiosk's own language: what the door speaks when nobody has chosen another.
        self.home = i18n.language(home).code
        #: Chosen on the tap screen for the next card (a family), or for volunteer mode.
        self._door_choice: str | None = None
        self._volunteer_language: str | None = None
        self._choice_countdown = Countdown(app.timings.language_choice, app.monotonic)

    def choose(self, code: str) -> None:
        """A language button: for the next family's card on the tap screen, else for volunteer
        mode (a family's choice is saved with them when their card is read)."""
        code = i18n.language(code).code
        if self.current.door_screen:
            self._door_choice = code
            self._choice_countdown.restart()
        elif self.app.volunteer_name:
            self._volunteer_language = code
        self.show(code)

    def show(self, code: str) -> None:
        """Speak ``code`` on screen from now on (the status lines and the screen showing too)."""
        app = self.app
        if code == app.language and i18n.current_language().code == code:
            return
        app.speak(code)
        app.status.say()
        if app.sm is not None:
            self.current.retranslate()

    def resting(self) -> str:
        """The language of the screens between families: the volunteer's, or the kiosk's."""
        if self.app.volunteer_name and self._volunteer_language:
            return self._volunteer_language
        return self._door_choice or self.home

    def take_door_choice(self) -> str | None:
        """The language chosen on the tap screen for this card (then forgotten), if any."""
        chosen = self._door_choice
        self.forget_door_choice()
        return chosen

    def forget_door_choice(self) -> None:
        self._door_choice = None
        self._choice_countdown.stop()

    def check_choice(self) -> None:
        """A language chosen on the tap screen and no card since: back to the kiosk's own."""
        if self._door_choice and self._choice_countdown.expired():
            self.forget_door_choice()
            if self.current.name == "tap":
                self.show(self.resting())

    def volunteer_unlocked(self) -> None:
        """A language chosen on the tap screen before "Volunteer" was the volunteer's choice."""
        if self.app.language != self.home:
            self._volunteer_language = self.app.language
        self.forget_door_choice()

    def volunteer_locked(self) -> None:
        """Volunteer mode locked: the volunteer's choice goes, the kiosk speaks its own."""
        self._volunteer_language = None
        self.forget_door_choice()
        self.show(self.home)

    def family_language(self, outcome: Outcome, chosen: str | None, at: datetime) -> str | None:
        """(Worker thread.) The language to greet a family in; a new choice is saved with them."""
        if outcome.family_id is None:
            return chosen
        family = self.store.family(outcome.family_id)
        if family is None:
            return chosen
        if chosen is None:
            return i18n.known_language(family.language)
        if family.language != chosen:
            try:
                self.desk.update_family(replace(family, language=chosen), at)
            except Exception:  # noqa: BLE001 - the visit is recorded; the language can wait
                log.exception("could not save language %r for %s", chosen, family.family_id)
        return chosen
