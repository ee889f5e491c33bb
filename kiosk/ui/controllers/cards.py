"""Giving a new card (the one just tapped) to a family, with an "Undo" for a few seconds."""

from __future__ import annotations

from typing import Any

from kiosk.domain.families import Family
from kiosk.i18n import _, isolate
from kiosk.ui.controllers.base import Controller


class Cards(Controller):
    def give(self, family: Family) -> None:
        """A family picked for the card just tapped: ask first (one tap is easily the wrong
        family), then give it, with an "Undo" for a few seconds."""
        uid = self.app.last_unknown_card
        volunteer = self.app.volunteer
        if not uid:
            volunteer.message(
                _("No card to give"),
                _("Ask the family to tap their new card on the reader first."),
                error=True,
            )
            return
        name = isolate(family.greeting_name)
        volunteer.message(
            _("Give this card to {name}?").format(name=name),
            _("Check with the family that they are {name}. The card will sign them in.").format(
                name=name
            ),
            action_text=_("Yes, give it to {name}").format(name=name),
            action=lambda: self._hand_over(uid, family),
            action_is_main=True,
            done_text=_("Cancel"),
            done=lambda: self.app.search.open("assign_card"),
        )

    def _hand_over(self, uid: str, family: Family) -> None:
        app = self.app
        volunteer, at = app.volunteer_name, self.now()

        def done(_card: Any) -> None:
            app.last_unknown_card = self.desk.last_unknown_card or ""
            name = isolate(family.greeting_name)
            app.volunteer.message(
                _("The card is now {name}'s").format(name=name),
                _("{name} can tap it on the reader now to sign in.").format(name=name),
                action_text=_("Undo"),
                action=lambda: self._take_back(uid, family),
                action_for=app.timings.card_undo,
            )

        self.submit(
            lambda: self.desk.assign_card(uid, family.family_id, at, volunteer),
            on_done=done,
            on_error=app.volunteer.error,
        )

    def _take_back(self, uid: str, family: Family) -> None:
        """Undo a card just given: the card belongs to nobody again and can be given at once."""
        app = self.app
        volunteer, at = app.volunteer_name, self.now()

        def done(_card: Any) -> None:
            app.last_unknown_card = self.desk.last_unknown_card or ""
            app.volunteer.message(
                _("Undone: the card is not {name}'s").format(name=isolate(family.greeting_name)),
                _("The card belongs to no family again. Give it to the right family now."),
                action_text=_("Give it to a family"),
                action=lambda: app.search.open("assign_card"),
                action_is_main=True,
            )

        self.submit(
            lambda: self.desk.undo_card_assignment(uid, family.family_id, at, volunteer),
            on_done=done,
            on_error=app.volunteer.error,
        )
