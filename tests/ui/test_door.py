"""The door: a family taps, is welcomed by name, and can untick or add a child.

Each test starts the real Kivy app (headless), hands it card taps from another thread as the
reader loop does, and presses the actual widgets with a simulated finger.
"""

from __future__ import annotations

import threading

import pytest
from kivy.clock import Clock

from kiosk.hardware.fake import FakeReader
from kiosk.hardware.taps import ReaderLoop
from kiosk.ui.kioskapp import UiTimings
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui


def attendances(kiosk):
    return kiosk.store.attendances()


def test_the_tap_screen_invites_a_tap_and_names_the_session(kiosk):
    assert kiosk.screen == "tap"
    assert "Tap your card" in kiosk.texts()
    assert "Stay and Play, 09:00 to 12:00" in kiosk.texts()
    assert "10:15" in kiosk.texts()
    kiosk.shot("01-tap")


def test_a_card_tap_welcomes_the_parent_by_name_with_every_child_ticked(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))

    assert kiosk.screen == "welcome"
    assert "Welcome, Sarah!" in kiosk.texts()
    chips = kiosk.current().chips
    assert [(c.text, c.selected) for c in chips] == [("Mia", True), ("Leo", True)]
    # Recorded before "Welcome" was shown, with all the children.
    [attendance] = attendances(kiosk)
    assert len(attendance.children) == 2
    assert attendance.method == "card"
    assert kiosk.feedback.signals == ["welcome"]
    kiosk.shot("02-welcome")


def test_the_welcome_confirms_by_itself_and_returns_to_the_tap_screen(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    kiosk.advance(5)
    assert kiosk.screen == "welcome"  # still time to untick
    kiosk.advance(4)
    assert kiosk.screen == "tap"
    [attendance] = attendances(kiosk)
    assert len(attendance.children) == 2
    assert [e.type for e in kiosk.store.events()].count("attendance.amended") == 0


def test_unticking_a_child_who_stayed_home_amends_the_attendance(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    leo = next(c for c in kiosk.current().chips if c.text == "Leo")
    kiosk.press(leo)
    assert not leo.selected
    assert "Not here today" in kiosk.texts()
    kiosk.shot("03-welcome-unticked")

    kiosk.press(kiosk.current().ids.done)

    assert kiosk.screen == "tap"
    [attendance] = attendances(kiosk)
    family = kiosk.store.family(attendance.family_id)
    assert [c.first_name for c in family.children if c.child_id in attendance.children] == ["Mia"]


def test_unticking_restarts_the_countdown_so_the_parent_can_finish(kiosk):
    kiosk.tap(kiosk.card_of("Priya"))
    kiosk.advance(7)
    kiosk.press(kiosk.current().chips[0])
    kiosk.advance(7)
    assert kiosk.screen == "welcome"
    kiosk.advance(2)
    assert kiosk.screen == "tap"
    [attendance] = attendances(kiosk)
    assert len(attendance.children) == 2  # Arjun unticked, Maya and Dev stayed


def test_tapping_again_says_already_signed_in_and_never_records_twice(kiosk):
    uid = kiosk.card_of("Sarah")
    kiosk.tap(uid)
    kiosk.press(kiosk.current().ids.done)
    kiosk.tap(uid)

    assert kiosk.screen == "welcome"
    assert "You're already signed in, Sarah" in kiosk.texts()
    assert len(attendances(kiosk)) == 1
    assert kiosk.feedback.signals == ["welcome", "already_in"]
    kiosk.shot("04-already-in")


def test_a_child_who_arrives_later_can_be_added_on_a_second_tap(kiosk):
    uid = kiosk.card_of("Sarah")
    kiosk.tap(uid)
    kiosk.press(next(c for c in kiosk.current().chips if c.text == "Leo"))
    kiosk.press(kiosk.current().ids.done)
    [attendance] = attendances(kiosk)
    assert len(attendance.children) == 1

    kiosk.tap(uid)  # Leo has arrived with Grandma
    chips = {c.text: c for c in kiosk.current().chips}
    assert chips["Mia"].selected and not chips["Leo"].selected
    kiosk.press(chips["Leo"])
    kiosk.press(kiosk.current().ids.done)

    [attendance] = attendances(kiosk)
    assert len(attendance.children) == 2
    assert len(kiosk.store.attendances()) == 1


def test_the_next_familys_tap_keeps_what_the_last_family_chose(kiosk):
    kiosk.tap(kiosk.card_of("Sarah"))
    kiosk.press(next(c for c in kiosk.current().chips if c.text == "Mia"))
    kiosk.tap(kiosk.card_of("Tom"))  # Tom taps before Sarah's screen has closed
    assert "Welcome, Tom!" in kiosk.texts()
    by_family = {
        kiosk.store.family(a.family_id).greeting_name: len(a.children) for a in attendances(kiosk)
    }
    assert by_family == {"Sarah": 1, "Tom": 2}


def test_an_unknown_card_asks_the_family_to_see_a_volunteer(kiosk):
    kiosk.tap("04FFEE01")

    assert kiosk.screen == "door_message"
    assert "We don't know this card yet" in kiosk.texts()
    assert any("Please see a volunteer" in t for t in kiosk.texts())
    assert kiosk.feedback.signals == ["unknown_card"]
    assert attendances(kiosk) == []
    kiosk.shot("05-unknown-card")
    kiosk.advance(13)
    assert kiosk.screen == "tap"


def test_no_session_on_says_so_and_records_nothing(kiosk):
    kiosk.clock.advance(4 * 3600)  # 14:15, after Stay and Play
    kiosk.tap(kiosk.card_of("Tom"))

    assert kiosk.screen == "door_message"
    assert "Hello, Tom. There's no session on right now" in kiosk.texts()
    assert any("Nothing has been recorded" in t for t in kiosk.texts())
    assert kiosk.feedback.signals == ["no_session"]
    assert attendances(kiosk) == []
    kiosk.shot("06-no-session")
    kiosk.press(kiosk.current().ids.ok)
    assert kiosk.screen == "tap"


def test_a_store_failure_is_told_in_plain_words(tmp_path, kivy_window):
    from tests.fakes.store import MemoryStore

    store = MemoryStore(tmp_path / "data")
    kiosk = make_kiosk(tmp_path, store=store)
    try:
        store.fail_next = OSError(28, "No space left on device")
        kiosk.tap(kiosk.card_of("Sarah"))

        assert kiosk.screen == "door_message"
        assert "Sorry, that didn't work" in kiosk.texts()
        assert any("Please tap your card again" in t for t in kiosk.texts())
        assert not any("space" in t or "Errno" in t for t in kiosk.texts())
        assert kiosk.feedback.signals == ["error"]
        assert store.attendances() == []
        kiosk.shot("07-error")
        kiosk.tap(kiosk.card_of("Sarah"))  # tapping again works once the store is back
        assert "Welcome, Sarah!" in kiosk.texts()
    finally:
        kiosk.close()


def test_the_screen_keeps_working_while_the_store_is_slow(tmp_path, kivy_window):
    from tests.fakes.store import MemoryStore

    store = MemoryStore(tmp_path / "data")
    kiosk = make_kiosk(tmp_path, store=store)
    try:
        store.gate.clear()  # the SD card stalls
        kiosk.tap(kiosk.card_of("Sarah"), answered=False)
        ticks = []
        event = Clock.schedule_interval(lambda dt: ticks.append(dt), 0)
        kiosk.pump(10)  # would hang if the tap waited for the store on the UI's thread
        event.cancel()
        assert len(ticks) >= 10  # the UI keeps drawing frames...
        kiosk.press(kiosk.current().ids.volunteer, settle=False)  # ...and answers touches
        assert kiosk.screen == "pin"
        assert kiosk.app.taps_answered == 0

        kiosk.advance(2, settle=False)  # the family is still waiting: tell them
        assert kiosk.screen == "door_message"
        assert "Just a moment..." in kiosk.texts()
        kiosk.shot("07b-just-a-moment", settle=False)

        store.gate.set()
        kiosk.wait_until(lambda: kiosk.app.taps_answered == 1, what="the slow tap")
        kiosk.settle()
        assert "Welcome, Sarah!" in kiosk.texts()
    finally:
        store.gate.set()
        kiosk.close()


def test_taps_from_the_fake_reader_go_through_the_reader_loop_thread(tmp_path, kivy_window):
    reader = FakeReader()
    threads: set[str] = set()

    def loop_factory(reader, on_tap, on_health):
        def on_tap_noting_thread(uid):
            threads.add(threading.current_thread().name)
            on_tap(uid)

        return ReaderLoop(
            reader, on_tap_noting_thread, on_health, poll_interval=0.02, hold_window=1.5
        )

    kiosk = make_kiosk(tmp_path, reader=reader, reader_loop_factory=loop_factory)
    try:
        reader.present(kiosk.card_of("Aisha"))
        kiosk.wait_until(lambda: kiosk.app.taps_answered == 1, what="the reader's tap")
        kiosk.settle()
        assert "Welcome, Aisha!" in kiosk.texts()
        assert threads and threading.current_thread().name not in threads
        polls = len(reader.history)  # the card stays on the reader: still one tap
        kiosk.wait_until(lambda: len(reader.history) >= polls + 10, what="ten more polls")
        kiosk.settle()
        assert kiosk.app.taps_answered == 1
        reader.remove()
    finally:
        kiosk.close()
    assert not kiosk.app.reader_loop  # stopped with the app


def test_a_broken_reader_is_shown_in_plain_words_at_the_door(tmp_path, kivy_window):
    reader = FakeReader()

    def loop_factory(reader, on_tap, on_health):
        return ReaderLoop(
            reader,
            on_tap,
            on_health,
            poll_interval=0.02,
            failures_before_reset=2,
            backoff=lambda n: 0.02,
        )

    kiosk = make_kiosk(tmp_path, reader=reader, reader_loop_factory=loop_factory)
    try:
        reader.break_()
        kiosk.wait_until(lambda: not kiosk.app.reader_ok, what="the reader to be reported")
        kiosk.settle()
        assert "The card reader isn't working. Please see a volunteer." in kiosk.texts()
        kiosk.shot("08-reader-down")
        reader.repair()
        kiosk.wait_until(lambda: kiosk.app.reader_ok, what="the reader to recover")
        kiosk.settle()
        assert "The card reader isn't working. Please see a volunteer." not in kiosk.texts()
    finally:
        kiosk.close()


def test_demo_keys_tap_the_sample_cards(tmp_path, kivy_window):
    kiosk = make_kiosk(tmp_path, demo=True, timings=UiTimings())
    try:
        assert any(t.startswith("Demo: press keys 1\u00a0Sarah") for t in kiosk.texts())
        kiosk.shot("09-demo-tap")
        kivy_window.dispatch("on_key_down", 50, 0, "2", [])
        kiosk.wait_until(lambda: kiosk.app.taps_answered == 1, what="the demo tap")
        kiosk.settle()
        assert "Welcome, Aisha!" in kiosk.texts()
    finally:
        kiosk.close()


def test_a_second_finger_or_a_doubled_touch_is_ignored(kiosk):
    from tests.ui.driver import Finger

    kiosk.tap(kiosk.card_of("Sarah"))
    mia, leo = kiosk.current().chips
    first = Finger(*mia.to_window(*mia.center))
    doubled = Finger(*mia.to_window(*mia.center))  # the same touch from a second input device
    other = Finger(*leo.to_window(*leo.center))
    first.down()
    doubled.down()
    other.down()
    first.up()
    doubled.up()
    other.up()
    kiosk.pump(3)
    kiosk.settle()
    assert (mia.selected, leo.selected) == (False, True)  # Mia unticked once, Leo untouched
