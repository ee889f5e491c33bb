"""The family picker: finding a family by name or postcode, to sign in or to give a card."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.domain.picker import FamilyChoice, family_choices
from kiosk.ui.controllers.base import Controller


class FamilySearch(Controller):
    def open(self, purpose: str) -> None:
        """The picker, for ``purpose``: ``sign_in`` or ``assign_card``."""
        self.screen("family_picker").prepare(purpose)
        self.app.volunteer.go_to("family_picker")

    def find(self, text: str, show: Callable[[list[FamilyChoice]], None]) -> None:
        """The picker's rows (name, postcode district, children, already in) off the UI thread."""
        at = self.now()
        self.submit(
            lambda: family_choices(self.desk, text, at),
            on_done=show,
            on_error=self.app.volunteer.error,
        )
