"""Signing a family in by hand (a volunteer, with the children who came)."""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.domain.desk import Outcome
from kiosk.domain.families import Family
from kiosk.i18n import _, isolate
from kiosk.ui import words
from kiosk.ui.controllers.base import Controller


class SignIn(Controller):
    def choose_children(self, family: Family) -> None:
        """A family picked to sign in: which of their children came."""
        self.screen("choose_children").prepare(family)
        self.app.volunteer.go_to("choose_children")

    def sign_in(self, family: Family, children: Sequence[str]) -> None:
        volunteer, at = self.app.volunteer_name, self.now()
        self.submit(
            lambda: self.desk.sign_in(family.family_id, list(children), volunteer, at),
            on_done=self._signed_in,
            on_error=self.app.volunteer.error,
        )

    def _signed_in(self, outcome: Outcome) -> None:
        volunteer = self.app.volunteer
        name = isolate(outcome.greeting_name or "")
        kids = words.join_names([c.first_name for c in outcome.children_present])
        session = isolate(outcome.session.name) if outcome.session else ""
        if outcome.kind == "welcome":
            if kids and session:
                body = _("{name} with {children} is on today's register for {session}.")
            elif session:
                body = _("{name} is on today's register for {session}.")
            else:
                body = _("{name} is signed in.")
            volunteer.message(
                _("{name} is signed in").format(name=name),
                body.format(name=name, children=kids, session=session),
            )
        elif outcome.kind == "already_in":
            if kids:
                body = _(
                    "{name} with {children} is already on today's register. Nothing was changed."
                )
            else:
                body = _("{name} is already on today's register. Nothing was changed.")
            volunteer.message(
                _("{name} was already signed in").format(name=name),
                body.format(name=name, children=kids),
            )
        else:
            volunteer.message(
                _("No session is on right now"),
                _("{name} was not signed in. Start a session first, then sign them in.").format(
                    name=name
                ),
                error=True,
                action_text=_("Start a session"),
                action=lambda: volunteer.go_to("start_session"),
            )
