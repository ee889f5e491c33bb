"""A family registration being filled in at the door, one step at a time (pure Python).

Each step checks its own field as the volunteer leaves it (the postcode is validated on entry,
with the domain's message), and ``DoorDesk.register_family`` checks everything again when the
draft is saved, so nothing invalid is ever recorded.

What is typed but not yet checked is kept too (``typed``, key by key), with the step on screen
(``step``), so an interruption loses nothing: a family's card tapped mid-registration, or volunteer
mode locking itself. The app keeps a draft for ``UiTimings.registration_draft`` after it was last
on screen, then forgets it; it is also forgotten once the family is saved, or on Cancel at step 1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kiosk.domain.errors import ValidationError
from kiosk.domain.families import THEMATIC_CRITERIA, clean_name
from kiosk.domain.postcodes import normalise_postcode
from kiosk.i18n import _, ngettext

MAX_CHILDREN = 8
MAX_ADULTS = 6
#: The neutral codes the consent step shows for the thematic criteria, so that nobody nearby
#: can tell what a family chose.
CRITERIA_LETTERS = "ABCDEFGH"


class DraftProblem(ValidationError):
    """A wrong answer, told in the language on screen (the domain's own messages are English)."""


@dataclass
class RegistrationDraft:
    greeting_name: str = ""
    postcode: str = ""
    children: list[str] = field(default_factory=list)
    adults: int = 1
    heard_from: str | None = None
    consent: bool = False
    criteria: set[str] = field(default_factory=set)
    card_uid: str | None = None
    #: Text typed on a step and not checked yet, by field (``greeting_name``, ``postcode``,
    #: ``child``): what the screen shows again when the volunteer comes back.
    typed: dict[str, str] = field(default_factory=dict)
    #: The step last shown (a screen name).
    step: str = "reg_name"
    #: Which letter stands for which criterion in this registration (``criteria_letters``).
    letters: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Nothing typed or chosen yet: there is nothing to carry on with."""
        return not (
            self.greeting_name
            or self.postcode
            or self.children
            or self.card_uid
            or any(t.strip() for t in self.typed.values())
        )

    def keep_typed(self, name: str, text: str) -> None:
        self.typed[name] = text

    def set_greeting_name(self, text: str) -> str:
        if not text.strip():
            raise DraftProblem(
                _("Greeting name is empty: type the name the family likes to be greeted by.")
            )
        self.greeting_name = clean_name(text, "greeting name")
        return self.greeting_name

    def set_postcode(self, text: str) -> str:
        """Normalise and keep the postcode, or raise ``PostcodeError`` saying what is wrong."""
        self.postcode = normalise_postcode(text)
        return self.postcode

    def add_child(self, text: str) -> str:
        name = clean_name(text, "child's name")
        if len(self.children) >= MAX_CHILDREN:
            raise DraftProblem(
                ngettext(
                    "A family can have up to {n} child here.",
                    "A family can have up to {n} children here.",
                    MAX_CHILDREN,
                ).format(n=MAX_CHILDREN)
            )
        same = next((c for c in self.children if c.casefold() == name.casefold()), None)
        if same is not None:
            raise DraftProblem(_("{name} is already on the list.").format(name=same))
        self.children.append(name)
        return name

    def remove_child(self, name: str) -> None:
        self.children = [c for c in self.children if c != name]

    def set_adults(self, n: int) -> int:
        self.adults = min(max(int(n), 1), MAX_ADULTS)
        return self.adults

    def set_consent(self, consent: bool) -> None:
        """Without consent no criteria are kept: withdrawing it clears them."""
        self.consent = consent
        if not consent:
            self.criteria.clear()

    def criteria_letters(self) -> dict[str, str]:
        """Criterion code -> the letter the screen shows for it, shuffled once per family.

        The volunteer reads the meanings out (or lets the family read them) before consent;
        once the family agrees, only letters are on screen to tick. Shuffled for each
        registration, so that someone in the queue who has seen it before cannot tell from a
        tick over a shoulder which criterion a family has (the stigma rule).
        """
        if set(self.letters) != set(THEMATIC_CRITERIA):
            codes = random.SystemRandom().sample(THEMATIC_CRITERIA, len(THEMATIC_CRITERIA))
            self.letters = {code: CRITERIA_LETTERS[i] for i, code in enumerate(codes)}
        return dict(self.letters)

    def toggle_criterion(self, code: str) -> bool:
        if code not in THEMATIC_CRITERIA:
            raise ValidationError(f"unknown criterion {code!r}")
        if not self.consent:
            raise DraftProblem(
                _("Ask the family first: these can only be recorded with their agreement.")
            )
        if code in self.criteria:
            self.criteria.discard(code)
            return False
        self.criteria.add(code)
        return True
