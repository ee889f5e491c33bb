"""Configuration is validated in one place; opening hardware imports its library only then."""

from __future__ import annotations

import sys

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.hardware.base import FeedbackUnavailable, ReaderUnavailable
from kiosk.hardware.fake import FakeReader, KeyboardReader, ScriptedReader
from kiosk.hardware.feedback import GpioFeedback, NullFeedback
from kiosk.hardware.select import (
    FeedbackConfig,
    ReaderConfig,
    describe_reader,
    open_feedback,
    open_reader,
)


def test_defaults_are_the_fake_reader_and_the_documented_pins():
    config = ReaderConfig()
    assert (config.kind, config.spi_bus, config.spi_device, config.reset_pin) == ("fake", 0, 0, 25)
    assert FeedbackConfig() == FeedbackConfig(enabled=False, led_pin=17, buzzer_pin=27)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"kind": "nfc"}, "Unknown card reader kind 'nfc'"),
        ({"reset_pin": 40}, "BCM GPIO number from 2 to 27"),
        ({"reset_pin": 8}, "SPI pins"),
        ({"spi_speed_hz": 20_000_000}, "10 MHz"),
        ({"usb_uid_format": "octal"}, "auto, hex or decimal"),
        ({"usb_byte_order": "middle"}, "little or big"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"hold_window": -1}, "hold_window"),
        ({"failures_before_reset": 0}, "failures_before_reset"),
        ({"spi_bus": -1}, "spi_bus"),
    ],
)
def test_bad_reader_settings_are_refused_with_a_plain_message(settings, words):
    with pytest.raises(ValueError, match=words):
        ReaderConfig(**settings)


def test_bad_feedback_pins_are_refused():
    with pytest.raises(ValueError, match="cannot share GPIO17"):
        FeedbackConfig(led_pin=17, buzzer_pin=17)
    with pytest.raises(ValueError, match="led_pin"):
        FeedbackConfig(led_pin=True)


def test_config_from_a_mapping_names_unknown_keys():
    config = ReaderConfig.from_mapping(
        {"kind": "usb", "usb_device": "rfid", "fake_script": [[1, "04A23B1C"]]}
    )
    assert config.kind == "usb" and config.fake_script == ((1.0, "04A23B1C"),)
    with pytest.raises(ValueError, match="Unknown ReaderConfig setting.*reset_pn"):
        ReaderConfig.from_mapping({"reset_pn": 25})
    assert FeedbackConfig.from_mapping({"enabled": True}).enabled


def test_fake_kinds_open_without_any_hardware_library(monkeypatch):
    for module in ("spidev", "evdev", "gpiozero"):
        monkeypatch.setitem(sys.modules, module, None)
    assert type(open_reader(ReaderConfig())) is FakeReader
    assert type(open_reader(ReaderConfig(fake_script=((1.0, "04A23B1C"),)))) is ScriptedReader
    assert type(open_reader(ReaderConfig(fake_keyboard=True))) is KeyboardReader
    assert type(open_feedback(FeedbackConfig(enabled=False))) is NullFeedback


def test_real_kinds_without_their_libraries_are_reader_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "spidev", None)
    monkeypatch.setitem(sys.modules, "evdev", None)
    with pytest.raises(ReaderUnavailable, match="spidev"):
        open_reader(ReaderConfig(kind="rc522"))
    with pytest.raises(ReaderUnavailable, match="evdev"):
        open_reader(ReaderConfig(kind="usb"))


def test_enabled_feedback_opens_the_gpio_pins():
    feedback = open_feedback(
        FeedbackConfig(enabled=True, led_pin=5, buzzer_pin=6), pin_factory=MockFactory()
    )
    assert isinstance(feedback, GpioFeedback)
    feedback.close()


def test_enabled_feedback_without_gpiozero_is_feedback_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    with pytest.raises(FeedbackUnavailable):
        open_feedback(FeedbackConfig(enabled=True))


def test_reader_descriptions_name_the_wiring():
    assert describe_reader(ReaderConfig(kind="rc522")) == ("RC522 on /dev/spidev0.0, reset GPIO25")
    assert describe_reader(ReaderConfig(kind="usb", usb_device="rfid")) == "USB reader rfid"
    assert "type a card number" in describe_reader(ReaderConfig(fake_keyboard=True))


def test_polling_settings_feed_the_reader_loop():
    from kiosk.hardware.taps import ReaderLoop

    config = ReaderConfig(poll_interval=0.2, hold_window=2.0, failures_before_reset=5)
    loop = ReaderLoop(FakeReader(), print, **config.loop_options)
    assert (loop.poll_interval, loop.debouncer.hold_window, loop.failures_before_reset) == (
        0.2,
        2.0,
        5,
    )


def test_the_command_lines_offer_exactly_the_kinds_the_configuration_accepts():
    import argparse

    from kiosk.admin_parser import build_parser as admin_parser
    from kiosk.app import build_parser as kiosk_parser
    from kiosk.hardware.select import FEEDBACK_SWITCHES, READER_KINDS

    def choices(parser: argparse.ArgumentParser, *path: str) -> dict[str, tuple[str, ...]]:
        for name in path:
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            parser = sub.choices[name]
        return {a.dest: tuple(a.choices) for a in parser._actions if a.choices is not None}

    assert choices(kiosk_parser())["reader"] == READER_KINDS
    assert choices(kiosk_parser())["feedback"] == FEEDBACK_SWITCHES
    assert choices(admin_parser(), "reader", "test")["reader"] == READER_KINDS
    for kind in READER_KINDS:
        assert ReaderConfig(kind=kind).kind == kind
