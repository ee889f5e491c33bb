"""Today's register can be put right: any session of today can be shown (the
one on now, else the latest, by default), a sign-in made by mistake can be undone and a family
signed out, each as an ``attendance.amended`` event."""

from __future__ import annotations

from datetime import time

import pytest

from kiosk.domain.timetable import SessionSlot

pytestmark = pytest.mark.ui


def open_register(kiosk) -> None:
    if not kiosk.app.volunteer_name:
        kiosk.unlock("2468")
    kiosk.press_text("Today's register")
    assert kiosk.screen == "today"


def counts(kiosk) -> tuple[int, int, int]:
    screen = kiosk.current()
    return screen.families_count, screen.adults_count, screen.children_count


def names_on_register(kiosk) -> list[str]:
    return [row.line.greeting_name for row in kiosk.current().rows]


def press_on_row(kiosk, name: str, button: str) -> None:
    row = kiosk.current().row_of(name)
    kiosk.press(next(b for b in row.children if getattr(b, "text", "") == button))


def amendments(kiosk) -> list[dict]:
    return [dict(e.data) for e in kiosk.store.events() if e.type == "attendance.amended"]


def add_afternoon_session(kiosk) -> None:
    """Messy Play, 13:30 to 15:00 today, besides the demo's Stay and Play (09:15 to 12:00)."""
    day = kiosk.clock.now().date()
    slot = SessionSlot("messy", "Messy Play", time(13, 30), time(15, 0), on_date=day)
    kiosk.store.save_timetable(kiosk.store.timetable().add(slot))


def test_a_few_minutes_after_the_end_the_register_still_shows_the_session(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    kiosk.press(kiosk.current().ids.done)
    kiosk.tap(kiosk.card_of("Tom"))
    kiosk.press(kiosk.current().ids.done)
    kiosk.clock.advance(2 * 3600)  # 12:15: Stay and Play ended at 12:00
    open_register(kiosk)

    assert counts(kiosk) == (2, 2, 4)
    assert names_on_register(kiosk) == ["Sarah", "Tom"]
    assert "Stay and Play, 09:00 to 12:00 (not on now)" in kiosk.text()
    assert kiosk.current().ids.header.action_text == "Start a session"
    kiosk.shot("register/01-after-the-end")


def test_any_session_of_today_can_be_chosen_and_the_one_on_now_comes_first(kiosk):
    add_afternoon_session(kiosk)
    kiosk.tap(kiosk.card_of("Sarah"))  # 10:15, Stay and Play
    kiosk.press(kiosk.current().ids.done)
    kiosk.clock.advance(4 * 3600)  # 14:15, Messy Play
    kiosk.tap(kiosk.card_of("Aisha"))
    kiosk.press(kiosk.current().ids.done)
    open_register(kiosk)

    assert "Messy Play, 13:30 to 15:00" in kiosk.text()
    assert names_on_register(kiosk) == ["Aisha"]
    sessions = [b.text for b in kiosk.current().ids.sessions.children][::-1]
    assert sessions == ["09:00 Stay and Play", "13:30 Messy Play"]
    kiosk.shot("register/02-two-sessions-today")

    kiosk.press_text("09:00 Stay and Play")
    assert "Stay and Play, 09:00 to 12:00 (not on now)" in kiosk.text()
    assert names_on_register(kiosk) == ["Sarah"]
    assert counts(kiosk) == (1, 1, 2)
    kiosk.shot("register/03-the-morning-chosen")

    kiosk.press(kiosk.current().ids.header.ids.back)
    kiosk.press_text("Today's register")  # from volunteer home: the one on now again
    assert names_on_register(kiosk) == ["Aisha"]


def test_a_sign_in_made_by_mistake_is_undone_after_a_question(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    kiosk.press(kiosk.current().ids.done)
    open_register(kiosk)
    kiosk.press(kiosk.current().ids.header.ids.back)
    kiosk.press_text("Sign a family in")
    kiosk.press_text("Magda")  # meant Sarah's neighbour; Magda isn't here
    kiosk.press(kiosk.current().ids.sign_in)
    kiosk.press_text("Done")
    kiosk.press_text("Today's register")
    assert counts(kiosk) == (2, 2, 3)

    press_on_row(kiosk, "Magda", "Undo sign-in")
    assert kiosk.screen == "volunteer_message"
    assert "Take Magda off the register?" in kiosk.texts()
    kiosk.shot("register/04-undo-sign-in-asked")
    kiosk.press_text("Cancel")
    assert kiosk.screen == "today" and names_on_register(kiosk) == ["Sarah", "Magda"]
    assert amendments(kiosk) == []

    press_on_row(kiosk, "Magda", "Undo sign-in")
    kiosk.press_text("Yes, take them off")
    assert kiosk.screen == "today"
    assert names_on_register(kiosk) == ["Sarah"]
    assert counts(kiosk) == (1, 1, 2)
    assert "Magda is off the register." in kiosk.texts()
    kiosk.shot("register/05-sign-in-undone")
    [undo] = amendments(kiosk)
    assert undo["children"] == [] and undo["undone"] is True
    assert undo["volunteer"] == "Jo"

    # She turns up after all: her card puts the same attendance back, with her child.
    kiosk.tap(kiosk.card_of("Magda"))
    assert "Welcome, Magda!" in kiosk.texts()
    kiosk.press(kiosk.current().ids.done)
    assert kiosk.screen == "today"
    assert names_on_register(kiosk) == ["Sarah", "Magda"]
    assert counts(kiosk) == (2, 2, 3)
    recorded = [e for e in kiosk.store.events() if e.type == "attendance.recorded"]
    assert len(recorded) == 2  # one attendance per family per session


def test_a_family_is_signed_out_and_a_mistaken_sign_out_is_undone(kiosk):
    kiosk.tap(kiosk.card_of("Tom"))
    kiosk.press(kiosk.current().ids.done)
    kiosk.clock.advance(50 * 60)  # 11:05
    open_register(kiosk)

    press_on_row(kiosk, "Tom", "Sign out")
    assert kiosk.screen == "today"
    assert "Tom is signed out." in kiosk.texts()
    assert any("signed out at 11:05" in t for t in kiosk.texts())
    assert counts(kiosk) == (1, 1, 2)  # they came: still counted
    kiosk.shot("register/06-signed-out")
    [out] = amendments(kiosk)
    assert out["signed_out_at"] == "2026-11-23T11:05:00Z"
    assert len(out["children"]) == 2 and out["undone"] is False

    press_on_row(kiosk, "Tom", "Undo sign-out")
    assert "Tom is signed in again." in kiosk.texts()
    assert not any("signed out" in t for t in kiosk.texts())
    assert amendments(kiosk)[-1]["signed_out_at"] is None
    kiosk.shot("register/07-sign-out-undone")


def test_signing_out_after_the_session_records_its_end_not_the_afternoon(kiosk):
    kiosk.tap(kiosk.card_of("Tom"))
    kiosk.press(kiosk.current().ids.done)
    kiosk.clock.advance(3 * 3600)  # 13:15
    open_register(kiosk)
    press_on_row(kiosk, "Tom", "Sign out")
    assert any("signed out at 12:00" in t for t in kiosk.texts())


def test_a_family_signed_out_who_comes_back_taps_in_again(kiosk):
    kiosk.tap(kiosk.card_of("Tom"))
    kiosk.press(kiosk.current().ids.done)
    open_register(kiosk)
    press_on_row(kiosk, "Tom", "Sign out")
    kiosk.tap(kiosk.card_of("Tom"))
    assert "Welcome, Tom!" in kiosk.texts()
    kiosk.press(kiosk.current().ids.done)
    assert not any("signed out" in t for t in kiosk.texts())
