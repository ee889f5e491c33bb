"""A family with up to eight children sees every child on the welcome screen,
whole, and has the time to untick the ones who are not there (a finger on the screen holds it).
"""

from __future__ import annotations

import pytest
from kivy.base import EventLoop

from tests.ui.driver import TOUCH_MIN_PX, Finger, make_kiosk

pytestmark = pytest.mark.ui

CHILDREN = ["Amira", "Bogdán", "Zoë", "Łucja", "Ștefan", "Yusuf", "Hannah", "Maximilian"]


def register(kiosk, uid: str, n: int) -> list[str]:
    kiosk.desk.register_family(
        "Oana",
        "WS7 1AA",
        [(name, None) for name in CHILDREN[:n]],
        kiosk.clock.now(),
        card_uid=uid,
    )
    return CHILDREN[:n]


def window_box(widget) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def assert_whole_and_clear(kiosk) -> None:
    """Every child's tile lies inside the part of the screen that shows them, whole, big enough
    to touch, and clear of the countdown bar and the Done row."""
    screen = kiosk.current()
    sx, sy, sr, st = window_box(screen.ids.scroll)
    bar_top = window_box(screen.ids.countdown)[3]
    assert sy >= bar_top
    for chip in screen.chips:
        x, y, r, t = window_box(chip)
        assert sx <= x and r <= sr and sy <= y and t <= st, (chip.text, (x, y, r, t))
        assert min(chip.width, chip.height) >= TOUCH_MIN_PX, chip.text
        window = EventLoop.window
        assert x >= 0 and y >= 0 and r <= window.width and t <= window.height


@pytest.mark.parametrize("n", [4, 6, 7, 8])
def test_every_child_of_a_big_family_is_shown_whole(n, kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        names = register(kiosk, "04BB0001", n)
        kiosk.tap("04BB0001")
        assert kiosk.screen == "welcome"
        assert [chip.text for chip in kiosk.current().chips] == names
        assert_whole_and_clear(kiosk)
        assert not kiosk.clipped() and not kiosk.small_text()
        kiosk.shot(f"big-families/{n}-children")
    finally:
        kiosk.close()


def test_a_parent_of_seven_unticks_three_while_a_finger_holds_the_countdown(kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path)
    try:
        names = register(kiosk, "04BB0007", 7)
        kiosk.tap("04BB0007")
        screen = kiosk.current()
        welcome = kiosk.app.timings.welcome

        # Reading the names with a finger resting on the screen: the time does not run out.
        finger = Finger(*screen.ids.hint.to_window(*screen.ids.hint.center))
        finger.down()
        kiosk.advance(welcome + 5)
        assert kiosk.screen == "welcome"
        assert screen.time_left == 1.0
        finger.up()
        kiosk.pump()

        # Then unticking three, each a few seconds after the last: each touch gives time again.
        for name in ("Zoë", "Yusuf", "Hannah"):
            kiosk.advance(welcome - 1)
            assert kiosk.screen == "welcome", f"closed before {name} could be unticked"
            kiosk.press(next(c for c in screen.chips if c.text == name))
        kiosk.shot("big-families/7-children-three-unticked")
        assert_whole_and_clear(kiosk)

        kiosk.advance(welcome + 1)  # nobody touches it: it closes by itself and keeps the choice
        assert kiosk.screen == "tap"
        family = next(f for f in kiosk.store.families() if f.greeting_name == "Oana")
        [visit] = [a for a in kiosk.store.attendances() if a.family_id == family.family_id]
        here = {c.child_id: c.first_name for c in family.children}
        assert sorted(here[c] for c in visit.children) == sorted(
            set(names) - {"Zoë", "Yusuf", "Hannah"}
        )
    finally:
        kiosk.close()
