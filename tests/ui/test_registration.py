"""Registering a family at the door: the obvious tap signs them in, and nothing typed is lost."""

from __future__ import annotations

import pytest

from kiosk.i18n import LANGUAGES, translate
from kiosk.ui import theme
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui


def register_on_the_screen(kiosk, name: str, postcode: str, children: list[str]) -> None:
    """From volunteer home, through the six steps, as a volunteer does it."""
    kiosk.press_text("New family")
    kiosk.type(name)
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.type(postcode)
    kiosk.press(kiosk.current().ids.header.ids.action)
    for child in children:
        kiosk.type(child)
        kiosk.press_key("\n")
    for _ in range(3):  # children, grown-ups, consent
        kiosk.press(kiosk.current().ids.header.ids.action)
    assert kiosk.screen == "reg_card"
    kiosk.press(kiosk.current().ids.register)
    assert kiosk.screen == "volunteer_message"


def main_button(kiosk):
    """The one highlighted button on the screen (there must be exactly one)."""
    main = [b for b in kiosk.buttons() if getattr(b, "style", "") == "primary"]
    assert len(main) == 1, [(b.text, b.style) for b in kiosk.buttons()]
    return main[0]


def test_the_main_button_after_registering_signs_the_family_in_during_a_session(kiosk):
    kiosk.unlock("2468")
    register_on_the_screen(kiosk, "nadia", "ws71aa", ["omar", "lina"])

    main = main_button(kiosk)
    assert main.text == "Sign them in now"
    assert tuple(main.bg) == tuple(theme.PRIMARY)
    assert kiosk.current().ids.done.style == "secondary"
    kiosk.shot("registration/31-registered-sign-in-is-main")

    kiosk.press(main)

    nadia = next(f for f in kiosk.store.families() if f.greeting_name == "Nadia")
    [attendance] = [a for a in kiosk.store.attendances() if a.family_id == nadia.family_id]
    assert attendance.method == "manual" and attendance.volunteer == "Jo"
    assert sorted(attendance.children) == sorted(c.child_id for c in nadia.children)
    assert "Nadia is signed in" in kiosk.texts()
    assert any("Nadia with Omar and Lina is on today's register" in t for t in kiosk.texts())
    kiosk.shot("registration/32-registered-and-signed-in")
    assert not kiosk.clipped()


def test_with_no_session_on_done_stays_the_main_button_after_registering(kiosk):
    kiosk.clock.advance(4 * 3600)  # 14:15: Stay and Play is over
    kiosk.unlock("2468")
    register_on_the_screen(kiosk, "nadia", "ws71aa", [])
    assert main_button(kiosk).text == "Done"
    assert kiosk.current().ids.action.style == "secondary"
    kiosk.press(main_button(kiosk))
    assert kiosk.screen == "volunteer_home"
    assert kiosk.store.attendances() == []


def test_a_card_tapped_mid_registration_keeps_what_was_typed(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    kiosk.type("chloe")  # typed, Next not pressed yet
    kiosk.tap(kiosk.card_of("Sarah"))  # a family arrives and taps in
    assert "Welcome, Sarah!" in kiosk.texts()
    kiosk.press(kiosk.current().ids.done)

    assert kiosk.screen == "reg_name"
    assert kiosk.current().ids.entry.text == "Chloe"
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.type("ws7 1a")
    kiosk.tap(kiosk.card_of("Tom"))
    kiosk.advance(kiosk.app.timings.welcome)  # the welcome closes by itself

    assert kiosk.screen == "reg_postcode"
    assert kiosk.current().ids.entry.text == "WS7 1A"
    kiosk.shot("registration/33-draft-after-a-card-tap")
    kiosk.press(kiosk.current().ids.header.ids.back)
    assert kiosk.screen == "reg_name"
    assert kiosk.current().ids.entry.text == "Chloe"


def test_a_registration_survives_volunteer_mode_locking_itself(kiosk):
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    kiosk.type("chloe")
    kiosk.press(kiosk.current().ids.header.ids.action)
    kiosk.type("ws71aa")
    kiosk.advance(kiosk.app.timings.volunteer_idle + 5)  # called away: volunteer mode locks
    assert kiosk.screen == "tap"
    assert kiosk.app.volunteer_name == ""

    kiosk.unlock("2468")
    kiosk.press_text("New family")
    assert kiosk.screen == "reg_name"
    assert kiosk.current().ids.entry.text == "Chloe"
    assert "Carrying on where you left off" in kiosk.current().message
    kiosk.shot("registration/34-draft-after-the-lock")
    assert not kiosk.clipped()
    kiosk.press(kiosk.current().ids.header.ids.action)
    assert kiosk.current().ids.entry.text == "WS71AA"
    kiosk.press(kiosk.current().ids.header.ids.action)
    assert kiosk.screen == "reg_children"


def test_an_unfinished_registration_is_forgotten_after_a_quarter_of_an_hour(kiosk):
    assert kiosk.app.timings.registration_draft == 15 * 60
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    kiosk.type("chloe")
    kiosk.press(kiosk.current().ids.header.ids.back)  # Cancel: starts again
    kiosk.press_text("New family")
    assert kiosk.current().ids.entry.text == ""

    kiosk.type("dee")
    kiosk.advance(kiosk.app.timings.volunteer_idle + 5)
    kiosk.advance(14 * 60)
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    assert kiosk.current().ids.entry.text == "Dee"  # still within the quarter of an hour

    kiosk.advance(kiosk.app.timings.volunteer_idle + 5)
    kiosk.advance(15 * 60)
    assert kiosk.app.draft.is_empty()
    kiosk.unlock("2468")
    kiosk.press_text("New family")
    assert kiosk.current().ids.entry.text == ""
    assert "Carrying on" not in kiosk.current().message


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES])
def test_carrying_on_a_registration_fits_in_each_language(code, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        kiosk.press(kiosk.current().ids.languages.button(code))
        kiosk.unlock("2468")
        kiosk.press(kiosk.current().ids.register_family)
        kiosk.type("chloe")
        kiosk.advance(kiosk.app.timings.volunteer_idle + 5)
        kiosk.press(kiosk.current().ids.languages.button(code))
        kiosk.unlock("2468")
        kiosk.press(kiosk.current().ids.register_family)
        assert kiosk.current().message == translate(
            code, "Carrying on where you left off. Press Cancel to start again."
        )
        assert kiosk.current().ids.entry.text == "Chloe"
        kiosk.shot(f"registration/{code}/34-draft-after-the-lock")
        assert not kiosk.clipped()
    finally:
        kiosk.close()
