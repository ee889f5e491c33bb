"""`kiosk-admin reader test`: 0 for a tap, 1 for no card in time, 2 for a broken reader."""

from __future__ import annotations

import io

from kiosk.hardware.base import BadCardData, ReaderUnavailable
from kiosk.hardware.fake import FakeReader
from kiosk.hardware.readertest import (
    EXIT_READER_BROKEN,
    EXIT_TAP_READ,
    EXIT_TIMED_OUT,
    reader_test,
)
from kiosk.hardware.select import ReaderConfig

from .fake_mfrc522 import FakeMFRC522


def run(reader_or_error, clock, timeout=5.0, config=None):
    out = io.StringIO()

    def opener(config):
        if isinstance(reader_or_error, Exception):
            raise reader_or_error
        return reader_or_error

    status = reader_test(
        config or ReaderConfig(), timeout, out, opener=opener, clock=clock, sleep=clock.sleep
    )
    return status, out.getvalue()


def test_a_tap_prints_the_uid_and_the_reader_and_exits_0(clock):
    reader = FakeReader(clock=clock)
    reader.present("04:a2:3b:1c")
    status, text = run(reader, clock)
    assert status == EXIT_TAP_READ
    assert "Waiting up to 5 s for a card on the fake reader" in text
    assert "Card 04A23B1C read by the fake reader." in text
    assert reader.closed


def test_no_card_in_time_exits_1_after_the_timeout_without_spinning(clock):
    reader = FakeReader(clock=clock)
    started = clock()
    status, text = run(reader, clock, timeout=3.0)
    assert status == EXIT_TIMED_OUT
    assert "No card was read in 3 s" in text
    assert clock() - started >= 3.0
    assert len(reader.history) <= 31  # about ten polls a second


def test_missing_library_exits_2_with_the_plain_reason(clock):
    status, text = run(
        ReaderUnavailable("The RC522 card reader needs the spidev library"),
        clock,
        config=ReaderConfig(kind="rc522"),
    )
    assert status == EXIT_READER_BROKEN
    assert "RC522 on /dev/spidev0.0" in text and "needs the spidev library" in text


def test_broken_reader_is_retried_once_then_exits_2(clock):
    reader = FakeReader(clock=clock)
    reader.break_("RC522 not answering on the SPI bus")
    status, text = run(reader, clock)
    assert status == EXIT_READER_BROKEN
    assert "The card reader is not working: RC522 not answering" in text
    assert reader.resets == 1


def test_one_failed_poll_is_forgiven_after_a_reset(clock):
    reader = FakeReader(clock=clock)
    reader.fail(1)
    reader.present("04A23B1C")
    status, _ = run(reader, clock)
    assert status == EXIT_TAP_READ
    assert reader.resets == 1


def test_garbage_is_reported_and_the_wait_goes_on(clock):
    class GarbageOnce(FakeReader):
        def read_uid(self, timeout):
            if not self.history:
                self.history.append(None)
                raise BadCardData("The USB card reader typed '??'")
            return "04A23B1C"

    status, text = run(GarbageOnce(clock=clock), clock)
    assert status == EXIT_TAP_READ
    assert "not a card number: The USB card reader typed '??'" in text


def test_reader_test_over_an_rc522_with_a_card(clock):
    from kiosk.hardware.rc522 import RC522Reader

    chip = FakeMFRC522()
    chip.place("045E213AB16C80")
    status, text = run(
        RC522Reader(chip.transfer, clock=clock, sleep=clock.sleep),
        clock,
        config=ReaderConfig(kind="rc522"),
    )
    assert status == EXIT_TAP_READ
    assert "Card 045E213AB16C80 read by the rc522 reader." in text


def test_reader_test_over_an_rc522_that_is_not_wired(clock):
    from kiosk.hardware.rc522 import RC522Reader

    chip = FakeMFRC522()
    chip.silent_bus = 0x00
    status, text = run(RC522Reader(chip.transfer, clock=clock, sleep=clock.sleep), clock)
    assert status == EXIT_READER_BROKEN
    assert "check its 3.3 V, GND, MISO, MOSI, SCK and SDA wires" in text
