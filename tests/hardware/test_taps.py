"""Sightings become taps; the reader loop reports health and recovers by itself."""

from __future__ import annotations

import logging
import threading

import pytest

from kiosk.hardware.base import BadCardData, ReaderError, ReaderState
from kiosk.hardware.fake import FakeReader
from kiosk.hardware.taps import ReaderLoop, TapDebouncer, backoff_delay

CARD_A = "04A23B1C"
CARD_B = "DE400111"


# -- TapDebouncer ---------------------------------------------------------------------------


def feed_all(debouncer, sightings):
    return [tap for uid, t in sightings if (tap := debouncer.feed(uid, t)) is not None]


def test_a_card_put_on_the_reader_is_one_tap():
    assert feed_all(TapDebouncer(1.0), [(None, 0.0), (CARD_A, 0.1), (None, 0.2)]) == [CARD_A]


def test_card_held_on_reader_for_ten_seconds_counts_once():
    sightings = [(CARD_A, i / 10) for i in range(100)]
    assert feed_all(TapDebouncer(1.0), sightings) == [CARD_A]


def test_missed_reads_between_sightings_of_a_held_card_still_count_as_held():
    # FIELD-NOTES: with a tag left on the reader, reads alternate between success and failure,
    # and some readers fail one read in every 16-20.
    alternating = [(CARD_A if i % 2 == 0 else None, i / 10) for i in range(100)]
    one_in_sixteen = [(None if i % 16 == 15 else CARD_A, i / 10) for i in range(100)]
    assert feed_all(TapDebouncer(1.0), alternating) == [CARD_A]
    assert feed_all(TapDebouncer(1.0), one_in_sixteen) == [CARD_A]


def test_two_different_cards_in_a_row_are_two_taps():
    sightings = [(CARD_A, 0.0), (CARD_A, 0.1), (CARD_B, 0.2), (CARD_B, 0.3)]
    assert feed_all(TapDebouncer(1.0), sightings) == [CARD_A, CARD_B]


def test_same_card_taps_again_only_after_being_away_longer_than_the_window():
    debouncer = TapDebouncer(1.0)
    assert debouncer.feed(CARD_A, 0.0) == CARD_A
    assert debouncer.feed(None, 0.5) is None
    assert debouncer.feed(CARD_A, 1.0) is None  # away exactly the window: still the same tap
    assert debouncer.feed(None, 1.5) is None
    assert debouncer.feed(CARD_A, 2.1) == CARD_A  # away 1.1 s: a new tap
    assert debouncer.held_uid == CARD_A


def test_forget_lets_the_held_card_tap_again():
    debouncer = TapDebouncer(1.0)
    debouncer.feed(CARD_A, 0.0)
    debouncer.forget()
    assert debouncer.feed(CARD_A, 0.1) == CARD_A


def test_negative_hold_window_is_refused():
    with pytest.raises(ValueError, match="hold_window"):
        TapDebouncer(-1)


# -- backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_from_half_a_second_up_to_a_cap():
    assert [backoff_delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0]
    assert backoff_delay(0) == 0.0


# -- ReaderLoop, driven one poll at a time on a fake clock ---------------------------------------


class Recorder:
    def __init__(self):
        self.taps: list[str] = []
        self.health: list = []


@pytest.fixture
def rig(clock):
    reader = FakeReader(clock=clock)
    seen = Recorder()
    loop = ReaderLoop(
        reader,
        on_tap=seen.taps.append,
        on_health=seen.health.append,
        clock=clock,
        wall_clock=lambda: 1_700_000_000.0 + clock(),
        sleep=clock.sleep,
    )
    return reader, loop, seen


def run_for(loop, clock, seconds):
    end = clock() + seconds
    while clock() < end:
        clock.advance(loop.poll_once())


def test_loop_reports_a_tap(rig, clock):
    reader, loop, seen = rig
    run_for(loop, clock, 0.5)
    reader.present(CARD_A)
    run_for(loop, clock, 0.3)
    assert seen.taps == [CARD_A]


def test_loop_reports_one_tap_for_a_card_held_ten_seconds(rig, clock):
    reader, loop, seen = rig
    reader.present(CARD_A)
    run_for(loop, clock, 10.0)
    assert seen.taps == [CARD_A]
    assert len(reader.history) >= 95  # it really was polled all that time


def test_loop_reports_two_different_cards_in_a_row(rig, clock):
    reader, loop, seen = rig
    reader.tap(CARD_A, hold=0.3)
    run_for(loop, clock, 0.5)
    reader.tap(CARD_B, hold=0.3)
    run_for(loop, clock, 0.5)
    assert seen.taps == [CARD_A, CARD_B]


def test_loop_polls_about_ten_times_a_second_not_in_a_busy_loop(rig, clock):
    reader, loop, _ = rig
    run_for(loop, clock, 5.0)
    assert 45 <= len(reader.history) <= 51
    assert all(d >= loop.poll_interval - 1e-9 for d in [loop.poll_once()])


def test_a_single_failed_poll_is_not_reported(rig, clock):
    reader, loop, seen = rig
    reader.fail(1)
    run_for(loop, clock, 1.0)
    assert seen.health == []
    assert loop.health.is_ok
    assert reader.resets == 0


def test_reader_that_stops_answering_is_reported_reset_with_backoff_and_recovers(
    rig, clock, caplog
):
    reader, loop, seen = rig
    reader.break_("RC522 not answering on the SPI bus")
    with caplog.at_level(logging.INFO, logger="kiosk.hardware.taps"):
        delays = [loop.poll_once() for _ in range(6)]
    # three failures (at the poll interval), then a reset after each with growing pauses
    assert delays[:2] == [0.1, 0.1]
    assert delays[2:] == [0.5, 1.0, 2.0, 4.0]
    assert reader.resets == 4
    assert [h.state for h in seen.health] == [ReaderState.NOT_ANSWERING]
    assert seen.health[0].last_error == "RC522 not answering on the SPI bus"
    assert seen.health[0].plain_words == "Card reader not answering — check its cable"
    assert "not answering" in caplog.text

    reader.repair()
    reader.present(CARD_A)
    loop.poll_once()
    assert [h.state for h in seen.health] == [ReaderState.NOT_ANSWERING, ReaderState.OK]
    assert seen.taps == [CARD_A]
    assert reader.resets == 4  # no more resets once it answers


def test_reader_that_times_out_for_a_while_recovers_without_a_restart(rig, clock):
    reader, loop, seen = rig
    reader.fail(6, "fake reader: timed out")  # about 8 s of failing polls
    run_for(loop, clock, 20.0)
    reader.present(CARD_B)
    run_for(loop, clock, 1.0)
    assert [h.state for h in seen.health] == [ReaderState.NOT_ANSWERING, ReaderState.OK]
    assert seen.taps == [CARD_B]


def test_since_is_when_the_reader_stopped_answering(rig, clock):
    reader, loop, seen = rig
    reader.break_()
    clock.advance(0.0)
    for _ in range(5):
        clock.advance(loop.poll_once())
    first = seen.health[0]
    assert first.since == pytest.approx(1_700_000_000.0 + 1000.0 + 0.2)
    assert all(h.since == first.since for h in seen.health)


class GarbageThenCard:
    name = "usb"

    def __init__(self):
        self.results = [BadCardData("The USB card reader typed '04A?'"), CARD_A]

    def read_uid(self, timeout):
        result = self.results.pop(0) if self.results else None
        if isinstance(result, Exception):
            raise result
        return result

    def reset(self):
        raise AssertionError("a bad read must not reset the reader")

    def close(self):
        pass


def test_garbage_read_is_logged_and_skipped_without_counting_as_a_failure(clock, caplog):
    taps, health = [], []
    loop = ReaderLoop(
        GarbageThenCard(), taps.append, health.append, clock=clock, failures_before_reset=1
    )
    with caplog.at_level(logging.WARNING, logger="kiosk.hardware.taps"):
        loop.poll_once()
        loop.poll_once()
    assert taps == [CARD_A]
    assert health == []
    assert "04A?" in caplog.text


def test_a_failing_tap_handler_does_not_stop_the_loop(rig, clock):
    reader, loop, _ = rig
    calls = []

    def explode(uid):
        calls.append(uid)
        raise RuntimeError("UI fell over")

    loop.on_tap = explode
    reader.tap(CARD_A, hold=0.2)
    run_for(loop, clock, 0.5)
    reader.tap(CARD_B, hold=0.2)
    run_for(loop, clock, 0.5)
    assert calls == [CARD_A, CARD_B]


def test_unexpected_exception_from_a_reader_counts_as_a_failure_not_a_crash(clock):
    class Exploding(FakeReader):
        def read_uid(self, timeout):
            raise OSError(5, "Input/output error")

    health = []
    loop = ReaderLoop(Exploding(clock=clock), lambda uid: None, health.append, clock=clock)
    for _ in range(3):
        loop.poll_once()
    assert health[0].state is ReaderState.NOT_ANSWERING
    assert "Input/output error" in health[0].last_error


def test_loop_settings_are_checked():
    with pytest.raises(ValueError, match="poll_interval"):
        ReaderLoop(FakeReader(), print, poll_interval=0)
    with pytest.raises(ValueError, match="failures_before_reset"):
        ReaderLoop(FakeReader(), print, failures_before_reset=0)


# -- ReaderLoop in its thread (real time, kept short) -------------------------------------------


def test_loop_thread_delivers_taps_and_stops_when_asked():
    reader = FakeReader()
    tapped = threading.Event()
    taps = []

    def on_tap(uid):
        taps.append(uid)
        tapped.set()

    loop = ReaderLoop(reader, on_tap, poll_interval=0.01)
    with loop:
        assert loop.running
        reader.present(CARD_A)
        assert tapped.wait(2.0)
    assert not loop.running
    assert taps == [CARD_A]
    loop.stop()  # twice is fine


def test_loop_thread_sleeps_between_polls(clock):
    reader = FakeReader(clock=clock)
    slept: list[float] = []
    stopped = threading.Event()

    def sleep(seconds: float) -> None:  # the loop's own thread: the fifth wait ends the loop
        slept.append(seconds)
        clock.sleep(seconds)
        if len(slept) == 5:
            loop.stop()
            stopped.set()

    loop = ReaderLoop(reader, lambda uid: None, poll_interval=0.05, clock=clock, sleep=sleep)
    loop.start()
    assert stopped.wait(60), "the loop never waited five times"
    assert slept == [0.05] * 5  # one poll interval between polls, not a busy loop
    assert len(reader.history) == 5


def test_reader_errors_are_reader_errors(rig):
    reader, _, _ = rig
    reader.fail(1)
    with pytest.raises(ReaderError):
        reader.read_uid(0.1)
