"""Registering a family at the door: the obvious tap signs them in, and nothing typed is lost."""

from __future__ import annotations

import pytest

from kiosk.ui import theme

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
