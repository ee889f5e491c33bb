"""Registering a new family at the door, one question per screen.

1. the name to greet them by, 2. the postcode (checked as it is entered), 3. the children,
4. how many grown-ups and how they heard of us, 5. extra-support criteria, only with the
family's agreement, 6. an optional new card, tapped on the reader. The answers build a
``RegistrationDraft``; ``DoorDesk.register_family`` saves it in one durable write.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp, sp
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.label import Label
from kivy.utils import escape_markup as escape

from kiosk.domain.errors import ValidationError
from kiosk.domain.families import HEARD_FROM, THEMATIC_CRITERIA
from kiosk.i18n import _, isolate
from kiosk.ui import theme, words
from kiosk.ui.draft import DraftProblem, RegistrationDraft
from kiosk.ui.screens.base import KioskScreen
from kiosk.ui.widgets import ChoiceChip, KioskButton


class CriterionLine(Label):
    """One option of the consent step, before consent: "A   Young parent" at full contrast."""

    value = StringProperty("")


#: The steps in order (screen names).
STEPS = ("reg_name", "reg_postcode", "reg_children", "reg_about", "reg_consent", "reg_card")


class RegStepScreen(KioskScreen):
    """One step of registration: a title with the step number, a message line, back and next."""

    message = StringProperty("")
    error = BooleanProperty(False)
    question = StringProperty("")
    header_title = StringProperty("")

    @property
    def step(self) -> int:
        return STEPS.index(self.name) + 1

    @property
    def draft(self) -> RegistrationDraft:
        return self.app.registration.draft

    def say(self, message: str, error: bool = False) -> None:
        self.message, self.error = message, error

    def load(self) -> None:
        """Show what the draft holds (coming back to a step keeps the answers)."""
        self.header_title = _("New family: step {step} of {steps}").format(
            step=self.step, steps=len(STEPS)
        )
        self.say(self.question)

    def on_pre_enter(self, *args) -> None:
        self.draft.step = self.name
        self.load()

    def back(self) -> None:
        i = STEPS.index(self.name)
        self.app.volunteer.go_to(STEPS[i - 1] if i else "volunteer_home")

    def forward(self) -> None:
        i = STEPS.index(self.name)
        self.app.volunteer.go_to(STEPS[i + 1])

    def next_pressed(self) -> None:
        try:
            self.save()
        except ValidationError as exc:
            self.say(words.problem(exc, self.wrong_answer()), error=True)
            return
        self.forward()

    def wrong_answer(self) -> str:
        """What to say when the domain refuses the answer (its own reason is in English)."""
        return _("That answer can't be used. Please check it and try again.")

    def save(self) -> None:
        """Check this step's answer and keep it in the draft (raise ValidationError if wrong)."""


class RegTextScreen(RegStepScreen):
    """A step that is one typed answer: the greeting name or the postcode."""

    field = OptionProperty("greeting_name", options=["greeting_name", "postcode"])
    layout = StringProperty("name")
    placeholder = StringProperty("")

    def load(self) -> None:
        self.ids.entry.text = self.draft.typed.get(self.field, getattr(self.draft, self.field))
        if self.field == "greeting_name":
            self.question = _("What name should the screen greet them by?")
            self.placeholder = _("Name to greet them by, like Sarah")
        else:
            self.question = _("What is their postcode?")
            self.placeholder = _("Postcode, like WS7 1AA")
        super().load()

    def keep_typed(self, text: str) -> None:
        """Each key as it is typed: into the draft, so an interruption does not lose it."""
        self.draft.keep_typed(self.field, text)

    def back(self) -> None:
        if self.step == 1:
            self.app.registration.discard()  # Cancel: the volunteer chose to start again
        super().back()

    def wrong_answer(self) -> str:
        if self.field == "postcode":
            return _("That postcode doesn't look right. Please check it (like WS7 1AA).")
        return _("That name can't be used. Please use letters only, up to 40 of them.")

    def save(self) -> None:
        text = self.ids.entry.text
        if self.field == "greeting_name":
            self.draft.set_greeting_name(text)
        else:
            if not text.strip():
                raise DraftProblem(
                    _("Type the family's postcode (like WS7 1AA): it is needed for the funding.")
                )
            self.ids.entry.text = self.draft.set_postcode(text)


class RegChildrenScreen(RegStepScreen):
    """Type each child's first name and press Add; in the list, tap a name to take it off."""

    typing = BooleanProperty(True)

    def load(self) -> None:
        pending = self.draft.typed.get("child", "")
        self.ids.entry.text = pending
        self.typing = bool(pending.strip()) or not self.draft.children
        self._show_children()
        super().load()

    def _show_children(self) -> None:
        box = self.ids.kids
        box.clear_widgets()
        for name in self.draft.children:
            chip = KioskButton(
                text=f"{name}   {theme.CROSS}",
                font_name=theme.SYMBOL_FONT,
                style="key",
                size_hint=(None, None),
                height=dp(theme.TOUCH_MIN + 8),
                width=dp(236),
            )
            chip.child_name = name
            chip.bind(on_release=lambda b: self.remove_child(b.child_name))
            box.add_widget(chip)
        names = words.join_names(self.draft.children)
        if self.typing:
            self.question = (
                _("Added: {names}. Type the next child's first name, or press Next.").format(
                    names=names
                )
                if names
                else _("Type each child's first name and press Add (or press Next if none come).")
            )
        elif names:
            self.question = _("Tap a name to take it off the list. Press Next when it's right.")
        else:
            self.question = _("No children yet. Press Add a child, or Next if none come.")

    def keep_typed(self, text: str) -> None:
        self.draft.keep_typed("child", text)

    def start_typing(self) -> None:
        self.typing = True
        self._show_children()
        self.say(self.question)

    def child_chip(self, name: str) -> KioskButton:
        return next(c for c in self.ids.kids.children if c.child_name == name)

    def add_child(self, text: str) -> None:
        if not text.strip():
            self.say(_("Type the child's first name first, then press Add."), error=True)
            return
        try:
            self.draft.add_child(text)
        except ValidationError as exc:
            self.say(words.problem(exc, self.wrong_answer()), error=True)
            return
        self.ids.entry.text = ""
        self._show_children()
        self.say(self.question)

    def remove_child(self, name: str) -> None:
        self.draft.remove_child(name)
        self._show_children()
        self.say(self.question)

    def back(self) -> None:
        if self.typing and self.draft.children:
            self.typing = False  # back from typing shows the list first
            self._show_children()
            self.say(self.question)
            return
        super().back()

    def save(self) -> None:
        pending = self.ids.entry.text.strip()
        if pending:  # a name typed but not added: add it rather than lose it
            self.draft.add_child(pending)
            self.ids.entry.text = ""
            self._show_children()


class RegAboutScreen(RegStepScreen):
    """How many grown-ups, and how they heard of the organisation (one answer, optional)."""

    adults = NumericProperty(1)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._built = False

    def load(self) -> None:
        grid = self.ids.heard
        if not self._built:
            for code in HEARD_FROM:
                chip = ChoiceChip(
                    value=code,
                    toggles=False,
                    font_size=sp(theme.FONT_SMALL + 1),
                )
                chip.bind(on_release=self.heard_pressed)
                grid.add_widget(chip)
            self._built = True
        for chip in grid.children:
            chip.text = words.heard_from(chip.value)
            chip.selected = chip.value == self.draft.heard_from
        self.adults = self.draft.adults
        self.question = _("How did they hear about us? (optional)")
        super().load()

    def heard_pressed(self, chip: ChoiceChip) -> None:
        self.draft.heard_from = None if chip.selected else chip.value
        for other in self.ids.heard.children:
            other.selected = other.value == self.draft.heard_from

    def heard_chip(self, code: str) -> ChoiceChip:
        return next(c for c in self.ids.heard.children if c.value == code)

    def change_adults(self, delta: int) -> None:
        self.adults = self.draft.set_adults(self.draft.adults + delta)


class RegConsentScreen(RegStepScreen):
    """Extra-support criteria, asked discreetly and recorded only when the family agrees.

    Before consent the options are listed at full contrast, each with a letter, for the volunteer
    to read out quietly (or to let the family read): "may we record any of these? You can
    answer with the letter." Once the family agrees, the list goes and only the letters are on
    screen to tick, in an order shuffled for each registration (``RegistrationDraft.
    criteria_letters``): someone in the queue glancing at the screen sees "B ticked", which
    says nothing about the family. "Show the list again" brings the meanings back, with the
    ticks out of sight.
    """

    consent = BooleanProperty(False)
    #: The list of meanings on screen after consent (the letters' ticks are hidden meanwhile).
    list_again = BooleanProperty(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._built = False

    def load(self) -> None:
        letters = self.draft.criteria_letters()
        grid = self.ids.criteria
        if not self._built:
            for code in THEMATIC_CRITERIA:
                chip = ChoiceChip(value=code, toggles=False, font_size=sp(theme.FONT_TITLE))
                chip.bind(on_release=self.criterion_pressed)
                grid.add_widget(chip)
            self._built = True
        # The chips in letter order (A first, reading order), whatever each one stands for.
        chips = sorted(grid.children, key=lambda c: letters[c.value])
        grid.clear_widgets()
        for chip in chips:
            chip.text = letters[chip.value]
            grid.add_widget(chip)
        box = self.ids.meanings
        box.clear_widgets()
        for code in sorted(THEMATIC_CRITERIA, key=letters.__getitem__):
            box.add_widget(
                CriterionLine(
                    value=code,
                    text=f"[b]{letters[code]}[/b]    {escape(words.criterion(code))}",
                )
            )
        self.consent = self.draft.consent
        self.list_again = False
        self._show()
        super().load()

    def _show(self) -> None:
        self.ids.consent.selected = self.draft.consent
        for chip in self.ids.criteria.children:
            chip.selected = chip.value in self.draft.criteria
        if self.draft.consent:
            self.question = _(
                "Tick the letters the family chose. Only the letters are on the screen, so "
                "nobody nearby can tell what they mean."
            )
        else:
            self.question = _(
                "Ask the family quietly, or let them read this: may we record any of these? "
                "It helps us get funding. They can answer with the letter, or skip it."
            )

    def consent_pressed(self) -> None:
        self.draft.set_consent(not self.draft.consent)
        self.consent = self.draft.consent
        self.list_again = False
        self._show()
        self.say(self.question)

    def toggle_list(self) -> None:
        self.list_again = not self.list_again

    def criterion_pressed(self, chip: ChoiceChip) -> None:
        try:
            self.draft.toggle_criterion(chip.value)
        except ValidationError as exc:
            self.say(words.problem(exc, self.wrong_answer()), error=True)
        self._show()

    def criterion_chip(self, code: str) -> ChoiceChip:
        return next(c for c in self.ids.criteria.children if c.value == code)

    def letter_of(self, code: str) -> str:
        return self.draft.criteria_letters()[code]


class RegCardScreen(RegStepScreen):
    """Tap a new card to give it to the family (optional), then register."""

    captures_cards = BooleanProperty(True)
    card_text = StringProperty("")
    has_card = BooleanProperty(False)
    summary = StringProperty("")
    saving = BooleanProperty(False)

    def load(self) -> None:
        d = self.draft
        self.summary = _("Registering: {name}, {postcode}, {children}").format(
            name=isolate(d.greeting_name),
            postcode=isolate(d.postcode),
            children=words.kids_or_none(d.children),
        )
        self._show_card()
        self.saving = False
        self.question = _("Tap a new card on the reader to give it to them. You can skip this.")
        super().load()

    def _show_card(self) -> None:
        uid = self.draft.card_uid
        self.has_card = uid is not None
        self.card_text = (
            _("Card ready: {card}").format(card=isolate(uid)) if uid else _("No card yet")
        )

    def card_captured(self, uid: str) -> None:
        self.say(_("Checking the card..."))
        self.app.registration.check_card_is_new(uid, self._card_checked)

    def _card_checked(self, uid: str, is_new: bool) -> None:
        if not is_new:
            self.say(
                _(
                    "That card already belongs to another family. Please use a new card, or "
                    "register them without one."
                ),
                error=True,
            )
            return
        self.draft.card_uid = uid
        self._show_card()
        self.say(_("Card ready. Press Register to save the family."))

    def forget_card(self) -> None:
        self.draft.card_uid = None
        self._show_card()
        self.say(self.question)

    def next_pressed(self) -> None:
        if not self.saving:
            self.saving = True
            self.say(_("Saving..."))
            self.app.registration.register()

    def failed(self, message: str) -> None:
        self.saving = False
        self.say(message, error=True)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
