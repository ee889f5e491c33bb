"""In every language at 800x480: the PIN screen's warnings, the
register of any session of today with its undo buttons, and giving a card with a confirm step
and an undo. Nothing cut off; pictures under ``artifacts/screenshots/<lang>/``."""

from __future__ import annotations

import pytest

from kiosk.i18n import LANGUAGES
from tests.i18n.test_screens_fit import Tour
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui

CODES = [lang.code for lang in LANGUAGES]


@pytest.mark.parametrize("code", CODES)
def test_the_pin_screens_warnings_fit(code, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    tour = Tour(kiosk, code)
    try:
        tour.choose_language()
        kiosk.press(kiosk.current().ids.volunteer)
        for _ in range(4):
            kiosk.enter_pin("1111")
        tour.check("40-pin-one-try-left")
        kiosk.enter_pin("1111")
        assert kiosk.current().locked
        tour.check("41-pin-locked")
        kiosk.book.unlock()
        kiosk.advance(2.5)
        assert not kiosk.current().locked
        tour.check("42-pin-unlocked")
    finally:
        kiosk.close()
    assert not tour.problems, "\n".join(tour.problems)


@pytest.mark.parametrize("code", CODES)
def test_giving_a_card_with_its_confirm_and_undo_fits(code, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    tour = Tour(kiosk, code)
    try:
        kiosk.tap("04C0FFEE")
        kiosk.press(kiosk.current().ids.ok)
        tour.choose_language()
        kiosk.press(kiosk.current().ids.volunteer)
        kiosk.enter_pin("2468")
        kiosk.press(kiosk.current().ids.assign_card)
        kiosk.press(kiosk.current().family_buttons[0])
        assert kiosk.current().ids.action.text
        tour.check("43-give-card-confirm")
        kiosk.press(kiosk.current().ids.action)
        tour.check("44-give-card-given")
        kiosk.press(kiosk.current().ids.action)  # Undo
        assert kiosk.app.last_unknown_card == "04C0FFEE"
        tour.check("45-give-card-undone")
    finally:
        kiosk.close()
    assert not tour.problems, "\n".join(tour.problems)


@pytest.mark.parametrize("code", CODES)
def test_the_register_of_any_session_with_its_undo_buttons_fits(code, kivy_window, tmp_path):
    from datetime import time

    from kiosk.domain.timetable import SessionSlot

    kiosk = make_kiosk(tmp_path)
    tour = Tour(kiosk, code)
    try:
        day = kiosk.clock.now().date()
        slot = SessionSlot("messy", "Messy Play", time(13, 30), time(15, 0), on_date=day)
        kiosk.store.save_timetable(kiosk.store.timetable().add(slot))
        for name in ("Priya", "Tom"):
            kiosk.tap(kiosk.card_of(name))
            kiosk.press(kiosk.current().ids.done)
        kiosk.clock.advance(2 * 3600)  # 12:15: between the sessions
        tour.choose_language()
        kiosk.press(kiosk.current().ids.volunteer)
        kiosk.enter_pin("2468")
        kiosk.press(kiosk.current().ids.today)
        assert kiosk.current().choosing
        tour.check("46-register-between-sessions")
        tom = kiosk.current().row_of("Tom")
        kiosk.press(tom.children[1])  # sign out (the row's children run last to first)
        tour.check("47-register-signed-out")
        kiosk.press(kiosk.current().row_of("Priya").children[0])  # undo sign-in
        tour.check("48-register-undo-asked")
        kiosk.press(kiosk.current().ids.action)
        assert [r.line.greeting_name for r in kiosk.current().rows] == ["Tom"]
        tour.check("49-register-undone")
    finally:
        kiosk.close()
    assert not tour.problems, "\n".join(tour.problems)
