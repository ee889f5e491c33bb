"""The criteria step is asked discreetly.

Before the family agrees, the options are on screen at full contrast, each with a letter, for
the volunteer to read out quietly (or for the family to read): nothing greyed out. Once the
family agrees, only the letters are on screen to tick, in an order shuffled for each
registration, so someone in the queue glancing over a shoulder learns nothing about the family.
"""

from __future__ import annotations

import pytest

from kiosk.domain.families import THEMATIC_CRITERIA
from kiosk.i18n import LANGUAGES, translate
from kiosk.ui import theme
from kiosk.ui.draft import RegistrationDraft
from kiosk.ui.screens.registration import CriterionLine
from kiosk.ui.words import CRITERIA_WORDS
from tests.ui.driver import make_kiosk, walk

pytestmark = pytest.mark.ui

CODES = [lang.code for lang in LANGUAGES]


def to_consent_step(kiosk, name: str = "Dee") -> None:
    kiosk.unlock("2468")
    kiosk.press(kiosk.current().ids.register_family)
    kiosk.type(name)
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.type("WS13 6YY")
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.press(kiosk.current().ids.header.ids.action)  # no children come
    kiosk.press(kiosk.current().ids.header.ids.action)  # grown-ups, how they heard
    assert kiosk.screen == "reg_consent"


def meanings_on_screen(kiosk, code: str = "en") -> list[str]:
    """The criteria's words that can be read on the screen now."""
    shown = kiosk.text()
    return [
        translate(code, words)
        for words in CRITERIA_WORDS.values()
        if translate(code, words) in shown
    ]


def lines(kiosk) -> list[CriterionLine]:
    from tests.ui.driver import shown

    found = [w for w in walk(kiosk.current()) if isinstance(w, CriterionLine) and shown(w)]
    return sorted(found, key=lambda w: -w.to_window(*w.pos)[1])  # top to bottom


def test_the_options_are_read_at_full_contrast_then_only_letters_are_ticked(kiosk):
    to_consent_step(kiosk)
    screen = kiosk.current()
    letters = screen.draft.criteria_letters()

    # Before consent: every option readable, dark on white, each with its letter; no tick boxes.
    assert sorted(meanings_on_screen(kiosk)) == sorted(CRITERIA_WORDS.values())
    for line in lines(kiosk):
        assert tuple(line.color) == tuple(theme.INK) and not line.disabled
        assert line.opacity == 1
        assert line.text.startswith(f"[b]{letters[line.value]}[/b]")
    assert [line.value for line in lines(kiosk)] == sorted(THEMATIC_CRITERIA, key=letters.get)
    assert not any(chip in kiosk.buttons() for chip in screen.ids.criteria.children)
    assert "answer with the letter" in screen.message
    assert kiosk.clipped() == []
    kiosk.shot("consent/01-options-read-out-before-consent")

    # The family agrees and says a letter: only letters on screen now.
    kiosk.press(screen.ids.consent)
    assert meanings_on_screen(kiosk) == []
    chips = [c for c in screen.ids.criteria.children if c in kiosk.buttons()]
    assert sorted(c.text for c in chips) == ["A", "B", "C"]
    kiosk.press(screen.criterion_chip("young_parent"))
    assert screen.criterion_chip("young_parent").selected
    assert meanings_on_screen(kiosk) == []
    assert kiosk.clipped() == []
    kiosk.shot("consent/02-only-letters-after-consent")

    # The list again, for the volunteer: the meanings, with the ticks out of sight.
    kiosk.press(screen.ids.list_again)
    assert sorted(meanings_on_screen(kiosk)) == sorted(CRITERIA_WORDS.values())
    assert not any(chip in kiosk.buttons() for chip in screen.ids.criteria.children)
    kiosk.shot("consent/03-the-list-again")
    kiosk.press(screen.ids.list_again)
    assert screen.criterion_chip("young_parent").selected  # the tick was kept

    kiosk.press(screen.ids.header.ids.action)
    kiosk.press(kiosk.current().ids.register)
    family = next(f for f in kiosk.store.families() if f.greeting_name == "Dee")
    assert family.criteria == {"young_parent"} and family.consent_date is not None


def test_the_letters_stand_for_other_criteria_in_other_registrations():
    seen = set()
    for _ in range(40):
        draft = RegistrationDraft()
        mapping = draft.criteria_letters()
        assert sorted(mapping.values()) == ["A", "B", "C"]
        assert draft.criteria_letters() == mapping  # the same all through one registration
        seen.add(tuple(sorted(mapping.items())))
    assert len(seen) > 1


@pytest.mark.parametrize("code", CODES)
def test_the_consent_step_fits_and_hides_the_meanings_in_each_language(code, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        kiosk.press(kiosk.current().ids.languages.button(code))
        to_consent_step(kiosk, name="Eve")
        assert len(meanings_on_screen(kiosk, code)) == len(THEMATIC_CRITERIA)
        problems = kiosk.clipped()
        kiosk.shot(f"{code}/11a-register-consent-before")
        kiosk.press(kiosk.current().ids.consent)
        assert meanings_on_screen(kiosk, code) == []
        problems += kiosk.clipped()
        kiosk.shot(f"{code}/11b-register-consent-letters")
        kiosk.press(kiosk.current().ids.list_again)
        problems += kiosk.clipped()
        assert not problems, "\n".join(problems)
    finally:
        kiosk.close()
