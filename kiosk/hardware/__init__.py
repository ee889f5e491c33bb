"""Hardware seams: card readers and door feedback, each with a real and a fake side.

Importing this package never touches GPIO, SPI or input devices, and needs none of their
libraries: the RC522 (spidev, gpiozero), the USB reader (evdev) and the LED/buzzer (gpiozero)
import them only when :func:`open_reader` / :func:`open_feedback` open that kind.

- :mod:`kiosk.hardware.base`: the ``CardReader`` interface, errors, ``normalise_uid``,
  ``ReaderHealth``.
- :mod:`kiosk.hardware.taps`: ``TapDebouncer`` (one tap per card put on the reader) and
  ``ReaderLoop`` (background polling, health, reset with backoff).
- :mod:`kiosk.hardware.rc522`, :mod:`kiosk.hardware.usb`, :mod:`kiosk.hardware.fake`: readers.
- :mod:`kiosk.hardware.feedback`: ``GpioFeedback`` (LED + buzzer), ``NullFeedback``.
- :mod:`kiosk.hardware.select`: ``ReaderConfig``, ``FeedbackConfig``, ``open_reader``,
  ``open_feedback``.
- :mod:`kiosk.hardware.readertest`: ``reader_test`` for ``kiosk-admin reader test``.
"""

from kiosk.hardware.base import (
    BadCardData,
    CardReader,
    FeedbackUnavailable,
    HardwareError,
    ReaderError,
    ReaderHealth,
    ReaderState,
    ReaderUnavailable,
    normalise_uid,
)
from kiosk.hardware.feedback import Feedback, GpioFeedback, NullFeedback
from kiosk.hardware.select import FeedbackConfig, ReaderConfig, open_feedback, open_reader
from kiosk.hardware.taps import ReaderLoop, TapDebouncer

__all__ = [
    "BadCardData",
    "CardReader",
    "Feedback",
    "FeedbackConfig",
    "FeedbackUnavailable",
    "GpioFeedback",
    "HardwareError",
    "NullFeedback",
    "ReaderConfig",
    "ReaderError",
    "ReaderHealth",
    "ReaderLoop",
    "ReaderState",
    "ReaderUnavailable",
    "TapDebouncer",
    "normalise_uid",
    "open_feedback",
    "open_reader",
]
