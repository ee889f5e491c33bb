"""Choosing the hardware: validated configuration and the functions that open it.

Like gpiozero's pin factories, the kind of reader is picked at run time from configuration,
and each kind's library (spidev, gpiozero, evdev) is imported only when that kind is opened::

    >>> reader = open_reader(ReaderConfig(kind="fake"))
    >>> reader.name
    'fake'
    >>> feedback = open_feedback(FeedbackConfig(enabled=False))
    >>> type(feedback).__name__
    'NullFeedback'

Pins are BCM GPIO numbers (``GPIO25``), not physical header pin numbers; the firmware notes
have the table from one to the other.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from kiosk.hardware.base import CardReader
from kiosk.hardware.feedback import Feedback, GpioFeedback, NullFeedback

ReaderKind = Literal["rc522", "usb", "fake"]
READER_KINDS: tuple[str, ...] = get_args(ReaderKind)
#: How a USB reader types the card number, and in which byte order (``kiosk.hardware.usb``).
UidFormat = Literal["auto", "hex", "decimal"]
UID_FORMATS: tuple[str, ...] = get_args(UidFormat)
ByteOrder = Literal["little", "big"]
BYTE_ORDERS: tuple[str, ...] = get_args(ByteOrder)
#: The command line's ``--feedback``: the LED and buzzer on their GPIO pins, or none.
FEEDBACK_SWITCHES = ("gpio", "none")

#: BCM GPIO numbers on the 40-pin header.
GPIO_PINS = range(2, 28)
#: SPI0's pins: not available for the reset pin, the LED or the buzzer while SPI is on.
SPI0_PINS = {7, 8, 9, 10, 11}


def _check_pin(field: str, pin: int) -> None:
    if isinstance(pin, bool) or not isinstance(pin, int) or pin not in GPIO_PINS:
        raise ValueError(
            f"{field} must be a BCM GPIO number from 2 to 27 (e.g. 25 for GPIO25), got {pin!r}"
        )
    if pin in SPI0_PINS:
        raise ValueError(f"{field}: GPIO{pin} is one of the SPI pins the RC522 uses")


def _one_of(values: tuple[str, ...]) -> str:
    """``auto, hex or decimal``."""
    return " or ".join([", ".join(values[:-1]), values[-1]] if len(values) > 1 else values)


def _from_mapping(cls: type, data: Mapping[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(
            f"Unknown {cls.__name__} setting(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    values = dict(data)
    if "fake_script" in values:
        values["fake_script"] = tuple((float(d), str(u)) for d, u in values["fake_script"])
    return cls(**values)


@dataclass(frozen=True)
class ReaderConfig:
    """Which card reader the kiosk uses, and how it is wired.

    - ``kind``: ``"rc522"`` (SPI module), ``"usb"`` (keyboard-style USB reader) or ``"fake"``
      (demo mode: ``fake_script`` taps, or card numbers typed on the terminal when
      ``fake_keyboard`` is set, or driven by the app through ``FakeReader``).
    - RC522: ``spi_bus``/``spi_device`` select ``/dev/spidevB.D`` (0.0 = CE0, header pin 24);
      ``reset_pin`` is the BCM GPIO wired to RST (GPIO25 = header pin 22), ``None`` if not
      wired; ``spi_speed_hz`` 1 MHz is safe with jumper wires.
    - USB: ``usb_device`` is the input device's path or part of its name (``None``: the only
      keyboard-like device found); ``usb_uid_format`` and ``usb_byte_order`` say how the
      reader types the card number (see :mod:`kiosk.hardware.usb`).
    - Polling: ``poll_interval`` between polls, ``hold_window`` for a held card,
      ``failures_before_reset`` before the reader is reported as not answering and reset.
    """

    kind: ReaderKind = "fake"
    spi_bus: int = 0
    spi_device: int = 0
    spi_speed_hz: int = 1_000_000
    reset_pin: int | None = 25
    usb_device: str | None = None
    usb_uid_format: UidFormat = "auto"
    usb_byte_order: ByteOrder = "little"
    fake_script: tuple[tuple[float, str], ...] = ()
    fake_keyboard: bool = False
    poll_interval: float = 0.1
    hold_window: float = 1.0
    failures_before_reset: int = 3

    def __post_init__(self) -> None:
        if self.kind not in READER_KINDS:
            raise ValueError(
                f"Unknown card reader kind {self.kind!r}; use one of {', '.join(READER_KINDS)}"
            )
        for name in ("spi_bus", "spi_device"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number from 0, got {value!r}")
        if not 10_000 <= self.spi_speed_hz <= 10_000_000:
            raise ValueError(
                f"spi_speed_hz must be between 10 kHz and 10 MHz (the RC522's limit), "
                f"got {self.spi_speed_hz}"
            )
        if self.reset_pin is not None:
            _check_pin("reset_pin", self.reset_pin)
        for name, allowed in (("usb_uid_format", UID_FORMATS), ("usb_byte_order", BYTE_ORDERS)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be {_one_of(allowed)}, got {value!r}")
        if not 0.01 <= self.poll_interval <= 5:
            raise ValueError(
                f"poll_interval must be between 0.01 and 5 seconds, got {self.poll_interval!r}"
            )
        if not 0 <= self.hold_window <= 60:
            raise ValueError(
                f"hold_window must be between 0 and 60 seconds, got {self.hold_window!r}"
            )
        if not isinstance(self.failures_before_reset, int) or self.failures_before_reset < 1:
            raise ValueError(
                f"failures_before_reset must be at least 1, got {self.failures_before_reset!r}"
            )

    @property
    def loop_options(self) -> dict[str, Any]:
        """Keyword arguments for ``ReaderLoop``: ``ReaderLoop(reader, on_tap, **options)``."""
        return {
            "poll_interval": self.poll_interval,
            "hold_window": self.hold_window,
            "failures_before_reset": self.failures_before_reset,
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ReaderConfig:
        """Build from a config file's section; unknown keys are an error (typos show)."""
        return _from_mapping(cls, data)


@dataclass(frozen=True)
class FeedbackConfig:
    """The LED and buzzer: BCM GPIO numbers (GPIO17 = header pin 11, GPIO27 = pin 13).

    ``buzzer_active_high`` is False for buzzer modules that sound when their input is low.
    """

    enabled: bool = False
    led_pin: int = 17
    buzzer_pin: int = 27
    buzzer_active_high: bool = True

    def __post_init__(self) -> None:
        _check_pin("led_pin", self.led_pin)
        _check_pin("buzzer_pin", self.buzzer_pin)
        if self.led_pin == self.buzzer_pin:
            raise ValueError(f"The LED and the buzzer cannot share GPIO{self.led_pin}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FeedbackConfig:
        return _from_mapping(cls, data)


def open_reader(config: ReaderConfig) -> CardReader:
    """Open the card reader *config* describes, importing its hardware library only now.

    Raises :class:`~kiosk.hardware.base.ReaderUnavailable` (an ``ImportError``) with a plain
    message when the library or the hardware is missing.
    """
    if config.kind == "rc522":
        from kiosk.hardware.rc522 import open_rc522

        return open_rc522(config)
    if config.kind == "usb":
        from kiosk.hardware.usb import open_usb_reader

        return open_usb_reader(config)
    from kiosk.hardware.fake import FakeReader, KeyboardReader, ScriptedReader

    if config.fake_script:
        return ScriptedReader(config.fake_script)
    if config.fake_keyboard:
        return KeyboardReader(sys.stdin)
    return FakeReader()


def open_feedback(config: FeedbackConfig, pin_factory: Any = None) -> Feedback:
    """The LED and buzzer when enabled, else a :class:`NullFeedback`.

    Raises :class:`~kiosk.hardware.base.FeedbackUnavailable` when gpiozero or a pin backend
    is missing.
    """
    if not config.enabled:
        return NullFeedback()
    return GpioFeedback(
        config.led_pin,
        config.buzzer_pin,
        pin_factory=pin_factory,
        buzzer_active_high=config.buzzer_active_high,
    )


def describe_reader(config: ReaderConfig) -> str:
    """A short description of the configured reader, for messages to a person."""
    if config.kind == "rc522":
        return f"RC522 on /dev/spidev{config.spi_bus}.{config.spi_device}" + (
            f", reset GPIO{config.reset_pin}" if config.reset_pin is not None else ""
        )
    if config.kind == "usb":
        return f"USB reader {config.usb_device or '(found automatically)'}"
    if config.fake_script:
        return "fake reader playing a script"
    if config.fake_keyboard:
        return "fake reader: type a card number (or 1-9) and press Enter"
    return "fake reader"
