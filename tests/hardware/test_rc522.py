"""The RC522's SPI conversation, against a fake chip with a fake card in its field."""

from __future__ import annotations

import logging
import sys
import types

import pytest

from kiosk.hardware.base import ReaderError, ReaderState, ReaderUnavailable
from kiosk.hardware.rc522 import (
    PICC_HLTA,
    PICC_WUPA,
    ChipNotAnswering,
    RC522Reader,
    block_check_character,
    crc_a,
    open_rc522,
)
from kiosk.hardware.select import ReaderConfig
from kiosk.hardware.taps import ReaderLoop

from .conftest import clocked_mock_factory
from .fake_mfrc522 import HALT, FakeMFRC522

CARD_4 = "04A23B1C"
CARD_7 = "045E213AB16C80"
CARD_10 = "0102030405060708090A"


@pytest.fixture
def chip():
    return FakeMFRC522()


@pytest.fixture
def reader(chip, clock):
    return RC522Reader(chip.transfer, clock=clock, sleep=clock.sleep)


def command_bytes(chip):
    """The first byte of every frame the reader sent to the card."""
    return [frame[0] for frame in chip.frames]


# -- check bytes --------------------------------------------------------------------------------


def test_crc_a_matches_the_iso_14443_examples():
    assert crc_a([0x00, 0x00]) == bytes([0xA0, 0x1E])
    assert crc_a([0x12, 0x34]) == bytes([0x26, 0xCF])
    assert crc_a([PICC_HLTA, 0x00]) == bytes([0x57, 0xCD])


def test_bcc_is_the_xor_of_the_four_uid_bytes():
    assert block_check_character(bytes.fromhex(CARD_4)) == 0x04 ^ 0xA2 ^ 0x3B ^ 0x1C


# -- reading cards ------------------------------------------------------------------------------


def test_a_card_on_the_reader_reads_as_its_normalised_uid(chip, reader):
    chip.place(CARD_4)
    assert reader.read_uid(0.1) == CARD_4
    # wake, anticollision, select, then halt so the next poll finds it the same way
    assert command_bytes(chip) == [PICC_WUPA, 0x93, 0x93, PICC_HLTA]
    assert chip.card.state == HALT


def test_seven_byte_uid_is_read_through_two_cascade_levels(chip, reader):
    chip.place(CARD_7, sak=0x00)
    assert reader.read_uid(0.1) == CARD_7
    assert command_bytes(chip) == [PICC_WUPA, 0x93, 0x93, 0x95, 0x95, PICC_HLTA]


def test_ten_byte_uid_is_read_through_three_cascade_levels(chip, reader):
    chip.place(CARD_10)
    assert reader.read_uid(0.1) == CARD_10


def test_no_card_is_none_after_one_bounded_request(chip, reader, clock):
    reader.reset()
    transfers_before = chip.transfers
    assert reader.read_uid(0.1) is None
    assert command_bytes(chip) == [PICC_WUPA]
    # a handful of register accesses, not a spin of thousands (FIELD-NOTES: >100% CPU)
    assert chip.transfers - transfers_before < 20


def test_held_card_reads_the_same_on_every_poll(chip, reader):
    chip.place(CARD_4)
    assert [reader.read_uid(0.1) for _ in range(40)] == [CARD_4] * 40


def test_corrupt_bcc_is_a_missed_read_not_a_wrong_uid(chip, reader, caplog):
    chip.place(CARD_4, corrupt_bcc=True)
    with caplog.at_level(logging.DEBUG, logger="kiosk.hardware.rc522"):
        assert reader.read_uid(0.1) is None
    assert reader.glitches == 1
    assert "BCC" in caplog.text


def test_two_cards_at_once_is_a_missed_read(chip, reader):
    chip.place(CARD_4)
    chip.second_card = True
    assert reader.read_uid(0.1) is None
    assert reader.glitches == 1


def test_card_pulled_away_mid_read_is_a_missed_read(chip, reader):
    chip.place(CARD_4)
    original = chip.card.answer

    def vanish_after_wake(frame, bits):
        answer = original(frame, bits)
        if frame[0] == PICC_WUPA:
            chip.take_away()
        return answer

    chip.card.answer = vanish_after_wake
    assert reader.read_uid(0.1) is None


# -- the chip failing ---------------------------------------------------------------------------


@pytest.mark.parametrize("stuck_at", [0x00, 0xFF])
def test_chip_not_answering_on_the_bus_raises_a_reader_error(chip, reader, stuck_at):
    chip.silent_bus = stuck_at
    with pytest.raises(ChipNotAnswering, match="check its 3.3 V, GND, MISO"):
        reader.read_uid(0.1)
    assert issubclass(ChipNotAnswering, ReaderError)


def test_chip_that_never_finishes_a_request_is_reported_within_a_bounded_time(chip, reader, clock):
    reader.reset()
    chip.stuck = True
    started = clock()
    with pytest.raises(ChipNotAnswering, match="did not finish"):
        reader.read_uid(0.1)
    assert clock() - started <= 0.2
    assert all(s <= 0.01 for s in clock.sleeps)  # waits in small steps, sleeping


def test_chip_that_ignores_writes_is_reported_as_a_wiring_fault(chip, reader):
    chip.deaf = True
    with pytest.raises(ChipNotAnswering, match="MOSI"):
        reader.reset()


def test_chip_that_lost_its_settings_raises_and_works_again_after_reset(chip, reader):
    chip.place(CARD_4)
    assert reader.read_uid(0.1) == CARD_4
    chip.lose_settings()  # a power dip: antenna off, timer unset
    with pytest.raises(ReaderError, match="lost its settings"):
        reader.read_uid(0.1)
    assert reader.read_uid(0.1) == CARD_4  # re-initialised on the next poll


def test_unknown_chip_version_is_logged_and_used(chip, reader, caplog):
    chip.VERSION = 0xB2
    chip.lose_settings()
    chip.place(CARD_4)
    with caplog.at_level(logging.WARNING, logger="kiosk.hardware.rc522"):
        assert reader.read_uid(0.1) == CARD_4
    assert "0xB2" in caplog.text


def test_reset_pulses_the_rst_pin_and_soft_resets_the_chip(chip, clock):
    from gpiozero import DigitalOutputDevice

    factory = clocked_mock_factory(clock)
    rst = DigitalOutputDevice(25, initial_value=True, pin_factory=factory)
    factory.pin(25).clear_states()
    reader = RC522Reader(chip.transfer, reset_line=rst, clock=clock, sleep=clock.sleep)
    reader.reset()
    states = [(s.timestamp, s.state) for s in factory.pin(25).states]
    assert states == [(0.0, True), (0.0, False), (0.001, True)]
    assert chip.soft_resets == 1
    reader.close()
    reader.close()  # twice is fine


# -- the reader loop over the RC522 -------------------------------------------------------------


def rc522_loop(chip, clock):
    reader = RC522Reader(chip.transfer, clock=clock, sleep=lambda s: None)
    taps, health = [], []
    loop = ReaderLoop(
        reader, taps.append, health.append, clock=clock, sleep=clock.sleep, wall_clock=clock
    )
    return reader, loop, taps, health


def poll_for(loop, clock, seconds):
    end = clock() + seconds
    while clock() < end:
        clock.advance(loop.poll_once())


def test_rc522_card_held_for_ten_seconds_is_one_tap_even_with_rf_glitches(chip, clock):
    _, loop, taps, _ = rc522_loop(chip, clock)
    chip.place(CARD_4)
    for second in range(10):
        chip.dropped_answers = 2 if second % 2 else 0  # some polls lose the card's answer
        poll_for(loop, clock, 1.0)
    assert taps == [CARD_4]


def test_rc522_two_different_cards_in_a_row_are_two_taps(chip, clock):
    _, loop, taps, _ = rc522_loop(chip, clock)
    chip.place(CARD_4)
    poll_for(loop, clock, 0.5)
    chip.place(CARD_7)
    poll_for(loop, clock, 0.5)
    assert taps == [CARD_4, CARD_7]


def test_rc522_that_stops_answering_is_reported_and_recovers_by_itself(chip, clock):
    reader, loop, taps, health = rc522_loop(chip, clock)
    poll_for(loop, clock, 0.5)
    chip.silent_bus = 0x00  # e.g. a loose MISO wire
    poll_for(loop, clock, 3.0)
    assert [h.state for h in health] == [ReaderState.NOT_ANSWERING]
    assert "not answering" in health[0].last_error
    chip.silent_bus = None  # wire pushed back
    chip.place(CARD_4)
    poll_for(loop, clock, 5.0)
    assert [h.state for h in health] == [ReaderState.NOT_ANSWERING, ReaderState.OK]
    assert taps == [CARD_4]


# -- opening the real thing -----------------------------------------------------------------------


def test_opening_without_spidev_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "spidev", None)
    with pytest.raises(ReaderUnavailable, match="spidev"):
        open_rc522(ReaderConfig(kind="rc522"))


class FakeSpiDev:
    chip: FakeMFRC522

    def __init__(self):
        self.opened = None
        self.closed = False
        self.max_speed_hz = 0
        self.mode = None

    def open(self, bus, device):
        self.opened = (bus, device)

    def xfer2(self, data):
        return self.chip.transfer(list(data))

    def close(self):
        self.closed = True


@pytest.fixture
def fake_spidev(monkeypatch, chip):
    module = types.ModuleType("spidev")
    made = []

    def spidev_factory():
        spi = FakeSpiDev()
        spi.chip = chip
        made.append(spi)
        return spi

    module.SpiDev = spidev_factory
    monkeypatch.setitem(sys.modules, "spidev", module)
    return made


def test_opening_with_spi_switched_off_says_how_to_turn_it_on(fake_spidev):
    with pytest.raises(ReaderUnavailable, match="raspi-config"):
        open_rc522(ReaderConfig(kind="rc522"), device_exists=lambda path: False)


def test_opened_reader_talks_over_spidev_and_releases_it_on_close(fake_spidev, chip, clock):
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    config = ReaderConfig(kind="rc522", spi_bus=0, spi_device=1, reset_pin=25)
    reader = open_rc522(config, pin_factory=factory, device_exists=lambda path: True)
    chip.place(CARD_4)
    with reader:
        assert reader.read_uid(0.1) == CARD_4
    (spi,) = fake_spidev
    assert spi.opened == (0, 1)
    assert spi.max_speed_hz == 1_000_000 and spi.mode == 0
    assert spi.closed
    assert reader.closed
