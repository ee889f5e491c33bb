"""Choosing a language: at the door for a family (and remembered with them), in volunteer mode
for the volunteer, and the kiosk's own language the rest of the time."""

from __future__ import annotations

import pytest

from kiosk.i18n import LANGUAGES, translate
from kiosk.ui import words
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui


def choose(kiosk, code: str) -> None:
    kiosk.press(kiosk.current().ids.languages.button(code))


def saved_language(kiosk, name: str) -> str | None:
    return next(f.language for f in kiosk.store.families() if f.greeting_name == name)


def title(kiosk) -> str:
    return kiosk.current().ids.title.text


def test_the_tap_screen_offers_each_language_in_its_own_name(kiosk):
    bar = kiosk.current().ids.languages
    assert [b.text for b in reversed(bar.children)] == ["English", "اردو", "Polski", "Română"]
    assert all(min(b.size) >= 64 for b in bar.children), "big enough for a finger"
    assert bar.button("en").style == "primary"  # the language on screen is lit


def test_a_familys_choice_greets_them_and_is_remembered_for_next_time(kiosk):
    choose(kiosk, "pl")
    assert title(kiosk) == "Przyłóż kartę"
    kiosk.tap(kiosk.card_of("Sarah"))

    assert kiosk.current().title == "Witaj, Sarah!"
    assert saved_language(kiosk, "Sarah") == "pl"
    updates = [e for e in kiosk.store.events() if e.type == "member.updated"]
    assert updates[-1].data["family"]["language"] == "pl"
    kiosk.press(kiosk.current().ids.done)
    assert kiosk.screen == "tap" and title(kiosk) == "Tap your card"  # back to the kiosk's

    kiosk.tap(kiosk.card_of("Sarah"))  # next time, no choosing
    assert kiosk.current().title == "Sarah, obecność jest już zapisana"
    kiosk.press(kiosk.current().ids.done)
    kiosk.tap(kiosk.card_of("Tom"))  # another family: the kiosk's language
    assert kiosk.current().title == "Welcome, Tom!"


def test_choosing_again_changes_the_remembered_language(kiosk):
    choose(kiosk, "ro")
    kiosk.tap(kiosk.card_of("Aisha"))
    kiosk.press(kiosk.current().ids.done)
    choose(kiosk, "ur")
    kiosk.tap(kiosk.card_of("Aisha"))
    assert kiosk.app.language == "ur"
    assert kiosk.current().title == words.already_in_title("Aisha")
    assert saved_language(kiosk, "Aisha") == "ur"
    kiosk.press(kiosk.current().ids.done)
    choose(kiosk, "en")  # English is a choice too
    kiosk.tap(kiosk.card_of("Aisha"))
    assert saved_language(kiosk, "Aisha") == "en"
    updates = [e for e in kiosk.store.events() if e.type == "member.updated"]
    assert len(updates) == 3  # one event per change, none when nothing changed


def test_a_choice_nobody_taps_for_goes_back_to_the_kiosks_language(kiosk):
    choose(kiosk, "ro")
    kiosk.advance(30)
    assert title(kiosk) == "Atingeți cardul"  # still waiting for the card
    kiosk.advance(31)
    assert title(kiosk) == "Tap your card"
    kiosk.tap(kiosk.card_of("Priya"))
    assert kiosk.current().title == "Welcome, Priya!"
    assert saved_language(kiosk, "Priya") is None  # nothing was chosen for her


def test_an_unknown_card_is_told_in_the_chosen_language(kiosk):
    choose(kiosk, "pl")
    kiosk.tap("04FFEE01")
    assert kiosk.current().title == "Nie znamy jeszcze tej karty"
    assert kiosk.current().ids.volunteer.text == "Dla wolontariusza: ustaw tę kartę"


def test_a_volunteer_works_in_their_language_and_locking_goes_back(kiosk):
    kiosk.unlock("2468")
    choose(kiosk, "pl")
    assert kiosk.current().ids.header.title == "Tryb wolontariusza: Jo"
    assert kiosk.current().ids.sign_in.text == "Zapisz obecność rodziny"
    assert "Czytnik kart działa" in kiosk.text()

    kiosk.tap(kiosk.card_of("Aisha"))  # a family taps meanwhile: the kiosk's language for them
    assert kiosk.current().title == "Welcome, Aisha!"
    kiosk.press(kiosk.current().ids.done)
    assert kiosk.screen == "volunteer_home"
    assert kiosk.current().ids.sign_in.text == "Zapisz obecność rodziny"  # and back to Polish

    kiosk.press(kiosk.current().ids.today)
    assert kiosk.current().ids.header.title == "Dzisiejsza lista obecności"
    assert kiosk.current().ids.adults.what == "dorosły"
    kiosk.press(kiosk.current().ids.header.ids.back)
    kiosk.press(kiosk.current().ids.header.ids.back)  # lock
    assert kiosk.screen == "tap" and title(kiosk) == "Tap your card"


def test_a_language_chosen_before_volunteer_carries_into_volunteer_mode(kiosk):
    choose(kiosk, "ro")
    kiosk.press(kiosk.current().ids.volunteer)
    assert kiosk.current().ids.header.title == "Mod voluntar"
    assert kiosk.current().message == "Introduceți PIN-ul de voluntar, apoi apăsați OK."
    kiosk.enter_pin("2468")
    assert kiosk.current().ids.header.title == "Mod voluntar: Jo"
    kiosk.tap(kiosk.card_of("Tom"))
    assert kiosk.current().title == "Welcome, Tom!"  # Tom chose nothing; the door's is English
    assert saved_language(kiosk, "Tom") is None


def test_urdu_mirrors_the_layout(kiosk):
    choose(kiosk, "ur")
    screen = kiosk.current()
    assert screen.ids.title.halign == "right"
    assert screen.ids.clock.center_x < 400 < screen.ids.session.center_x  # swapped sides
    assert screen.ids.volunteer.center_x < 400
    bar = screen.ids.languages
    assert bar.button("en").x > bar.button("ro").x  # the first language at the right
    kiosk.tap(kiosk.card_of("Priya"))
    chips = kiosk.current().chips
    assert chips[0].x > chips[-1].x  # children from right to left
    assert kiosk.current().ids.done.center_x < 400
    kiosk.shot("ur/mirrored-welcome")


def test_the_kiosk_can_speak_another_language_by_default(kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path, language="ro")
    try:
        assert title(kiosk) == "Atingeți cardul"
        kiosk.tap(kiosk.card_of("Tom"))
        assert kiosk.current().title == "Bun venit, Tom!"
        kiosk.press(kiosk.current().ids.done)
        assert title(kiosk) == "Atingeți cardul"
    finally:
        kiosk.close()


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_each_language_button_speaks_that_language(code, kiosk):
    choose(kiosk, code)
    assert title(kiosk) == translate(code, "Tap your card")
    assert kiosk.current().ids.languages.button(code).style == "primary"
