"""The keyboard-style USB reader, with the evdev layer replaced by a scripted event source."""

from __future__ import annotations

import errno
import sys
import types

import pytest

from kiosk.hardware.base import BadCardData, ReaderError, ReaderState, ReaderUnavailable
from kiosk.hardware.select import ReaderConfig
from kiosk.hardware.taps import ReaderLoop
from kiosk.hardware.usb import (
    EV_KEY,
    KEY_ENTER,
    KEY_LEFTSHIFT,
    EvdevSource,
    UsbKeyboardReader,
    decimal_to_uid,
    find_input_device,
    open_usb_reader,
    typed_text_to_uid,
)

CODES = {
    "1": 2,
    "2": 3,
    "3": 4,
    "4": 5,
    "5": 6,
    "6": 7,
    "7": 8,
    "8": 9,
    "9": 10,
    "0": 11,
    "A": 30,
    "B": 48,
    "C": 46,
    "D": 32,
    "E": 18,
    "F": 33,
    "!": 2,
    "Q": 16,
    "-": 12,
    "Z": 44,
}
EV_SYN = 0


def keystrokes(text: str, enter: bool = True) -> list[tuple[int, int, int]]:
    """The events a keyboard-style reader sends for *text*: down/up per key, SYN between."""
    events = []
    for char in text:
        shifted = char.isalpha() or char == "!"
        if shifted:
            events.append((EV_KEY, KEY_LEFTSHIFT, 1))
        code = CODES[char.upper()]
        events += [(EV_KEY, code, 1), (EV_SYN, 0, 0), (EV_KEY, code, 0)]
        if shifted:
            events.append((EV_KEY, KEY_LEFTSHIFT, 0))
    if enter:
        events += [(EV_KEY, KEY_ENTER, 1), (EV_KEY, KEY_ENTER, 0)]
    return events


class ScriptedSource:
    """Delivers one batch of events per read; an empty read waits out the timeout."""

    def __init__(self, clock, batches=()):
        self.clock = clock
        self.batches = list(batches)
        self.closed = False
        self.unplugged = False

    def read_events(self, timeout):
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        if self.batches:
            return self.batches.pop(0)
        self.clock.advance(timeout)
        return []

    def close(self):
        self.closed = True


@pytest.fixture
def source(clock):
    return ScriptedSource(clock)


@pytest.fixture
def reader(source, clock):
    return UsbKeyboardReader(lambda: source, clock=clock)


def test_typed_hex_uid_is_read_and_normalised(reader, source):
    source.batches = [keystrokes("04a23b1c")]
    assert reader.read_uid(0.1) == "04A23B1C"


def test_uid_split_over_several_reads_is_put_back_together(reader, source):
    events = keystrokes("045E213AB16C80")
    source.batches = [events[:10], events[10:30], events[30:]]
    assert reader.read_uid(0.1) == "045E213AB16C80"


def test_ten_digit_decimal_uid_is_turned_into_the_same_hex_the_rc522_reads(reader, source):
    # The card an RC522 reads as 04A23B1C, typed by a reader that sends the UID little-endian.
    source.batches = [keystrokes("0473670148")]
    assert reader.read_uid(0.1) == "04A23B1C"


def test_big_endian_decimal_readers_are_configurable(source, clock):
    reader = UsbKeyboardReader(lambda: source, byte_order="big", clock=clock)
    source.batches = [keystrokes("0077740828")]
    assert reader.read_uid(0.1) == "04A23B1C"


def test_decimal_conversion_covers_longer_uids_when_decimal_is_forced():
    assert typed_text_to_uid("0077740828", "hex") == "0077740828"
    seven_bytes = str(int.from_bytes(bytes.fromhex("045E213AB16C80"), "big"))
    assert typed_text_to_uid(seven_bytes, "decimal", "big") == "045E213AB16C80"
    with pytest.raises(BadCardData, match="too large"):
        decimal_to_uid("9" * 40)


def test_no_card_is_none_after_the_timeout(reader, clock):
    started = clock()
    assert reader.read_uid(0.1) is None
    assert clock() - started == pytest.approx(0.1)


def test_two_cards_in_a_row_are_read_in_order(reader, source):
    source.batches = [keystrokes("04A23B1C") + keystrokes("DE400111")]
    assert reader.read_uid(0.1) == "04A23B1C"
    # the second card's keys came in the same batch: they are kept for the next poll
    assert reader.read_uid(0.1) == "DE400111"
    assert reader.read_uid(0.1) is None


def test_garbage_from_the_reader_is_a_clear_error_and_the_next_card_still_reads(reader, source):
    source.batches = [keystrokes("04A!Q-1C")]
    with pytest.raises(BadCardData) as caught:
        reader.read_uid(0.1)
    # shift+1 is "!", not "1": every key that is not part of a card number shows as "?"
    assert "'04A???1C'" in str(caught.value)
    assert "not a card number" in str(caught.value)
    source.batches = [keystrokes("04A23B1C")]
    assert reader.read_uid(0.1) == "04A23B1C"


def test_odd_length_typing_is_a_clear_error(reader, source):
    source.batches = [keystrokes("04A23B1")]
    with pytest.raises(BadCardData, match="odd number of hex digits"):
        reader.read_uid(0.1)


def test_half_typed_uid_without_enter_is_dropped_as_incomplete(reader, source, clock):
    source.batches = [keystrokes("04A2", enter=False)]
    assert reader.read_uid(0.1) is None
    clock.advance(2.0)
    source.batches = [[]]
    with pytest.raises(BadCardData, match="stopped before the end"):
        reader.read_uid(0.1)
    source.batches = [keystrokes("DE400111")]
    assert reader.read_uid(0.1) == "DE400111"


def test_endless_typing_without_enter_is_garbage(reader, source):
    source.batches = [keystrokes("0" * 40, enter=False)]
    with pytest.raises(BadCardData, match="without pressing Enter"):
        reader.read_uid(0.1)


def test_unplugged_reader_raises_reader_error_and_reset_reopens_it(clock):
    sources = [ScriptedSource(clock), ScriptedSource(clock, [keystrokes("04A23B1C")])]
    opened = []

    def open_source():
        opened.append(sources[len(opened)])
        return opened[-1]

    reader = UsbKeyboardReader(open_source, clock=clock)
    assert reader.read_uid(0.1) is None
    sources[0].unplugged = True
    with pytest.raises(ReaderError, match="unplugged"):
        reader.read_uid(0.1)
    assert sources[0].closed
    reader.reset()
    assert reader.read_uid(0.1) == "04A23B1C"


def test_usb_reader_in_the_loop_survives_garbage_and_an_unplug(clock):
    state = {"plugged": True}
    batches = [[], keystrokes("ZZ"), [], keystrokes("04A23B1C")]
    opened: list[ScriptedSource] = []

    def open_source():
        if not state["plugged"]:
            raise ReaderError("No USB card reader that types digits was found")
        source = ScriptedSource(clock)
        source.batches = batches  # shared: a re-opened reader carries on where it was
        opened.append(source)
        return source

    reader = UsbKeyboardReader(open_source, clock=clock)
    taps, health = [], []
    loop = ReaderLoop(reader, taps.append, health.append, clock=clock, wall_clock=clock)
    for _ in range(6):
        clock.advance(loop.poll_once())
    assert taps == ["04A23B1C"]
    assert health == []

    opened[-1].unplugged = True  # the one the reader has open
    state["plugged"] = False
    for _ in range(5):
        clock.advance(loop.poll_once())
    assert health[-1].state is ReaderState.NOT_ANSWERING
    assert health[-1].plain_words == "Card reader not answering — check it is plugged in"
    state["plugged"] = True
    batches.append(keystrokes("DE400111"))
    for _ in range(10):
        clock.advance(loop.poll_once())
    assert health[-1].state is ReaderState.OK
    assert taps == ["04A23B1C", "DE400111"]


# -- the evdev side, with a fake evdev module -------------------------------------------------


class FakeDevice:
    def __init__(self, path, name, keys):
        self.path, self.name, self.keys = path, name, keys
        self.grabbed = self.closed = False

    def capabilities(self):
        return {EV_KEY: self.keys}

    def grab(self):
        self.grabbed = True

    def ungrab(self):
        self.grabbed = False

    def close(self):
        self.closed = True


def fake_evdev(devices):
    module = types.SimpleNamespace()
    by_path = {d.path: d for d in devices}
    module.list_devices = lambda: list(by_path)

    def input_device(path):
        if path not in by_path:
            raise FileNotFoundError(path)
        return by_path[path]

    module.InputDevice = input_device
    return module


READER_KEYS = [2, 3, 11, 28, 30]
TOUCHSCREEN_KEYS = [330]


def test_the_only_device_that_types_digits_is_found_and_grabbed():
    reader_dev = FakeDevice("/dev/input/event3", "Sycreader RFID Technology", READER_KEYS)
    touch = FakeDevice("/dev/input/event1", "ft5x06 touchscreen", TOUCHSCREEN_KEYS)
    found = find_input_device(fake_evdev([touch, reader_dev]), None)
    assert found is reader_dev
    assert touch.closed
    source = EvdevSource(found)
    assert reader_dev.grabbed  # keystrokes never reach the UI
    source.close()
    assert not reader_dev.grabbed and reader_dev.closed


def test_device_is_found_by_part_of_its_name_or_by_path():
    reader_dev = FakeDevice("/dev/input/event3", "Sycreader RFID Technology", READER_KEYS)
    keyboard = FakeDevice("/dev/input/event4", "Logitech keyboard", READER_KEYS)
    evdev = fake_evdev([reader_dev, keyboard])
    assert find_input_device(evdev, "rfid") is reader_dev
    assert find_input_device(evdev, "/dev/input/event4") is keyboard


def test_two_candidate_devices_is_an_error_naming_both():
    evdev = fake_evdev(
        [
            FakeDevice("/dev/input/event3", "Sycreader RFID Technology", READER_KEYS),
            FakeDevice("/dev/input/event4", "Logitech keyboard", READER_KEYS),
        ]
    )
    with pytest.raises(ReaderError, match="Sycreader.*Logitech.*usb_device"):
        find_input_device(evdev, None)


def test_missing_device_says_to_plug_it_in():
    with pytest.raises(ReaderError, match="plugged in"):
        find_input_device(fake_evdev([]), None)
    with pytest.raises(ReaderError, match="plugged in"):
        find_input_device(fake_evdev([]), "/dev/input/by-id/usb-reader-event-kbd")


def test_a_device_grabbed_by_another_program_is_a_reader_error():
    device = FakeDevice("/dev/input/event3", "RFID", READER_KEYS)

    def busy():
        raise OSError(errno.EBUSY, "Device or resource busy")

    device.grab = busy
    with pytest.raises(ReaderError, match="grabbed"):
        EvdevSource(device)
    assert device.closed


def test_opening_without_evdev_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "evdev", None)
    with pytest.raises(ReaderUnavailable, match="evdev"):
        open_usb_reader(ReaderConfig(kind="usb"))


def test_opening_with_evdev_defers_finding_the_device_to_the_first_poll(monkeypatch):
    monkeypatch.setitem(sys.modules, "evdev", fake_evdev([]))
    reader = open_usb_reader(ReaderConfig(kind="usb", usb_device="rfid"))
    with pytest.raises(ReaderError, match="named like 'rfid'"):
        reader.read_uid(0.01)
    reader.close()
    reader.close()
