"""The PIN screen: it times out, warns before the lock, and an admin can lift
the lock over SSH while the app runs. A refused PIN is a plain log line, never a traceback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from kiosk.ui.kioskapp import UiTimings
from kiosk.ui.screens.pin import DOT_EMPTY, DOT_FULL
from tests.ui.driver import make_kiosk

pytestmark = pytest.mark.ui


def open_pin(kiosk) -> None:
    kiosk.press(kiosk.current().ids.volunteer)
    assert kiosk.screen == "pin"


def type_digits(kiosk, digits: str) -> None:
    """Digits on the pad, without OK."""
    pad = kiosk.current().ids.pad
    for digit in digits:
        kiosk.press(next(b for b in pad.children if b.text == digit))


def test_a_half_typed_pin_is_forgotten_after_30_seconds_without_a_touch(kiosk):
    open_pin(kiosk)
    type_digits(kiosk, "24")
    assert kiosk.current().dots.count(DOT_FULL) == 2
    kiosk.shot("pin/01-half-typed")

    kiosk.advance(20)
    type_digits(kiosk, "6")  # a touch: the 30 seconds start again
    kiosk.advance(25)
    assert kiosk.screen == "pin"
    assert kiosk.current().dots.count(DOT_FULL) == 3

    kiosk.advance(6)  # 31 s since the last touch
    assert kiosk.screen == "tap"
    kiosk.shot("pin/02-back-at-the-door")
    open_pin(kiosk)
    pin = kiosk.current()
    assert pin.entered == "" and DOT_FULL not in pin.dots and DOT_EMPTY in pin.dots
    assert "Enter your volunteer PIN, then press OK." in kiosk.texts()


def test_the_pin_screen_does_not_time_out_while_a_pin_is_being_checked(kiosk):
    open_pin(kiosk)
    kiosk.current().checking = True  # as between OK and the answer from the worker
    kiosk.advance(45)
    assert kiosk.screen == "pin"


def test_each_wrong_pin_says_how_many_tries_are_left_before_the_lock(kiosk):
    open_pin(kiosk)
    said = []
    for _ in range(4):
        kiosk.enter_pin("1111")
        said.append(kiosk.current().message)
    assert said == [
        "That PIN isn't right. 4 tries left before volunteer mode locks.",
        "That PIN isn't right. 3 tries left before volunteer mode locks.",
        "That PIN isn't right. 2 tries left before volunteer mode locks.",
        "That PIN isn't right. 1 try left before volunteer mode locks.",
    ]
    kiosk.shot("pin/03-one-try-left")
    kiosk.enter_pin("1111")
    message = kiosk.current().message
    assert "try again in 5 minutes" in message
    assert "The kiosk's admin can unlock it sooner." in message
    kiosk.shot("pin/04-locked")


def test_when_the_lock_runs_out_the_pin_screen_says_so_without_a_touch(kivy_window, tmp_path):
    kiosk = make_kiosk(tmp_path, timings=UiTimings(pin_idle=3600))
    try:
        open_pin(kiosk)
        for _ in range(5):
            kiosk.enter_pin("1111")
        assert kiosk.current().locked
        kiosk.advance(4 * 60)
        assert "Too many wrong PINs" in kiosk.current().message
        kiosk.advance(61)
        assert kiosk.current().message == (
            "Volunteer mode is no longer locked. Enter your PIN, then press OK."
        )
    finally:
        kiosk.close()


def test_a_right_pin_after_wrong_ones_gives_a_fresh_set_of_tries(kiosk):
    open_pin(kiosk)
    kiosk.enter_pin("1111")
    kiosk.enter_pin("2468")
    assert kiosk.screen == "volunteer_home"
    assert kiosk.book.tries_left() == 5


def test_a_refused_pin_is_one_plain_log_line_without_a_traceback(kiosk, caplog):
    caplog.set_level(logging.INFO)
    open_pin(kiosk)
    for _ in range(6):  # four refused, the fifth locks, the sixth meets the lock
        kiosk.enter_pin("1111")
    mine = [r for r in caplog.records if r.name.startswith("kiosk")]
    assert not [r for r in mine if r.exc_info], [r.getMessage() for r in mine if r.exc_info]
    lines = [r.getMessage() for r in mine]
    assert lines.count("a wrong volunteer PIN was refused (4 tries left before the lock)") == 1
    locked = [line for line in lines if "volunteer mode is locked until" in line]
    assert len(locked) == 2, lines


def kiosk_admin(data_dir, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "USER": "admin-over-ssh"}
    return subprocess.run(
        [sys.executable, "-m", "kiosk.admin", "--data", str(data_dir), *argv],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def test_kiosk_admin_volunteer_unlock_lifts_the_lock_while_the_app_runs(kiosk):
    open_pin(kiosk)
    for _ in range(5):
        kiosk.enter_pin("1111")
    assert "Too many wrong PINs" in kiosk.current().message
    kiosk.enter_pin("2468")  # the right PIN waits too
    assert kiosk.screen == "pin"

    done = kiosk_admin(kiosk.store.data_dir, "volunteer", "unlock")
    assert done.returncode == 0, done.stderr
    assert "volunteer mode unlocked (the lock was set until" in done.stdout

    kiosk.advance(2.5)  # the app reads the lock again while it shows it
    assert kiosk.current().message == (
        "Volunteer mode is no longer locked. Enter your PIN, then press OK."
    )
    kiosk.shot("pin/05-unlocked-by-admin")
    kiosk.enter_pin("2468")
    assert kiosk.screen == "volunteer_home"

    audit = [
        json.loads(line)
        for line in (kiosk.store.data_dir / "audit.jsonl").read_text("utf-8").splitlines()
    ]
    unlocks = [e for e in audit if e["action"] == "volunteer.unlock"]
    assert [e["actor"] for e in unlocks] == ["admin-over-ssh"]

    again = kiosk_admin(kiosk.store.data_dir, "volunteer", "unlock")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "volunteer mode was not locked: nothing to do"


def test_kiosk_admin_volunteer_unlock_forgets_wrong_pins_short_of_the_lock(kiosk):
    open_pin(kiosk)
    kiosk.enter_pin("1111")
    kiosk.enter_pin("1111")
    done = kiosk_admin(kiosk.store.data_dir, "volunteer", "unlock")
    assert done.returncode == 0, done.stderr
    assert "its 2 wrong PIN(s) in a row are forgotten" in done.stdout
    kiosk.enter_pin("1111")
    assert kiosk.current().message.startswith("That PIN isn't right. 4 tries left")
