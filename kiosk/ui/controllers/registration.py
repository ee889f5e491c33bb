"""Registering a new family: the draft the steps fill in, the card check and the save."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk.domain.errors import KioskError
from kiosk.domain.families import Family
from kiosk.i18n import _, isolate
from kiosk.ui import words
from kiosk.ui.controllers.base import Controller
from kiosk.ui.draft import RegistrationDraft
from kiosk.ui.screens.registration import STEPS

if TYPE_CHECKING:
    from kiosk.ui.kioskapp import KioskApp

log = logging.getLogger(__name__)


class Registration(Controller):
    """``draft`` holds the answers so far; it survives volunteer mode locking (a volunteer
    called away) until ``UiTimings.registration_draft`` after it was last on screen."""

    def __init__(self, app: KioskApp) -> None:
        super().__init__(app)
        self.draft = RegistrationDraft()
        self._draft_seen = app.monotonic()

    def start(self) -> None:
        """ "New family": a fresh draft, or the one not finished yet, from step 1."""
        resuming = not self.draft.is_empty()
        if not resuming:
            self.draft = RegistrationDraft()
        self.app.volunteer.go_to("reg_name")
        if resuming and self.current.name == "reg_name":
            self.current.say(_("Carrying on where you left off. Press Cancel to start again."))

    def discard(self) -> None:
        self.draft = RegistrationDraft()

    def forget_if_left(self) -> None:
        """A registration left unfinished for too long is forgotten."""
        now = self.monotonic()
        if self.current.name in STEPS:
            self._draft_seen = now
        elif now - self._draft_seen >= self.app.timings.registration_draft and not (
            self.draft.is_empty()
        ):
            log.info(
                "an unfinished registration was forgotten after %.0f s", now - self._draft_seen
            )
            self.discard()

    def check_card_is_new(self, uid: str, show: Callable[[str, bool], None]) -> None:
        """Whether a card tapped for a new family belongs to nobody yet."""
        store = self.store

        def is_new() -> bool:
            card = store.card(uid)
            return card is None or not card.active

        self.submit(is_new, on_done=lambda new: show(uid, new), on_error=self.app.volunteer.error)

    def register(self) -> None:
        """Save the draft as a new family (its card too, if one was tapped)."""
        d = self.draft
        volunteer, at = self.app.volunteer_name, self.now()
        desk = self.desk

        def register() -> tuple[Family, bool]:
            family = desk.register_family(
                d.greeting_name,
                d.postcode,
                [(name, None) for name in d.children],
                at,
                criteria=sorted(d.criteria),
                consent=d.consent,
                heard_from=d.heard_from,
                adults=d.adults,
                card_uid=d.card_uid,
                volunteer=volunteer,
            )
            return family, desk.session_now(at) is not None

        def failed(exc: BaseException) -> None:
            otherwise = _("The family could not be saved. Please try again.")
            message = words.problem(exc, otherwise) if isinstance(exc, KioskError) else otherwise
            self.screen("reg_card").failed(message)

        self.submit(register, on_done=lambda done: self._registered(*done), on_error=failed)

    def _registered(self, family: Family, session_on: bool) -> None:
        """The family is saved. With a session on, signing them in is the next thing to do, so
        it is the main button (all the children typed in: they are the ones who came)."""
        card = self.draft.card_uid
        self.draft = RegistrationDraft()
        name = isolate(family.greeting_name)
        kids = words.join_names([c.first_name for c in family.children])
        if kids:
            body = _("{name}'s family is saved with {children}.").format(name=name, children=kids)
        else:
            body = _("{name}'s family is saved.").format(name=name)
        if card:
            ready = _("Their card is ready: {name} can tap it from now on.").format(name=name)
            body = _("{saved} {card_ready}").format(saved=body, card_ready=ready)
        self.app.volunteer.message(
            _("Welcome to the family, {name}!").format(name=name)
            if len(family.greeting_name) < 16
            else _("Family registered"),
            body,
            action_text=_("Sign them in now"),
            action=lambda: self.app.signin.sign_in(family, [c.child_id for c in family.children]),
            action_is_main=session_on,
        )
