"""A USB card reader that "types" the card number like a keyboard, read through evdev.

Cheap USB readers show up as a keyboard: on each tap they type the card number and press
Enter. Reading their key presses from the input device (``/dev/input/event*``) and *grabbing*
it means the typed digits never reach the touchscreen app or a text box.

Card numbers come in two forms:

- hex, e.g. ``04A23B1C`` (``usb_uid_format="hex"``);
- a 10-digit decimal number, the 4-byte UID read as one 32-bit number
  (``usb_uid_format="decimal"``). Many cheap readers do this, and many of them take the UID's
  bytes last-first (*little-endian*): the card an RC522 reads as ``04A23B1C`` is typed as
  ``0473670148`` (``0x1C3BA204``). Others type ``0077740828`` (big-endian, ``0x04A23B1C``).
  ``usb_byte_order`` says which; the firmware notes say how to check a reader.

With ``"auto"`` (the default) exactly 10 decimal digits are taken as decimal, anything else as
hex. Either way the UID comes out normalised (upper-case hex), the same as the RC522 gives.

The evdev library is imported only by :func:`open_usb_reader`; the reader itself works on any
:class:`KeyEventSource`, which tests fake.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from kiosk.hardware.base import (
    BadCardData,
    ReaderBase,
    ReaderError,
    ReaderUnavailable,
    normalise_uid,
)
from kiosk.hardware.select import ByteOrder, ReaderConfig, UidFormat

log = logging.getLogger(__name__)


#: Linux input event type and key codes (linux/input-event-codes.h, a stable kernel ABI).
EV_KEY = 1
KEY_DOWN = 1
KEY_ENTER = 28
KEY_KPENTER = 96
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
KEY_CHARACTERS: dict[int, str] = {
    2: "1",
    3: "2",
    4: "3",
    5: "4",
    6: "5",
    7: "6",
    8: "7",
    9: "8",
    10: "9",
    11: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
    82: "0",
    30: "A",
    48: "B",
    46: "C",
    32: "D",
    18: "E",
    33: "F",
}
SHIFT_KEYS = {KEY_LEFTSHIFT, KEY_RIGHTSHIFT}
#: Shown for a key that cannot be part of a card number, so the error shows the garbage.
UNKNOWN_KEY = "?"

#: A card number typed without Enter for this long is dropped as incomplete.
STALE_AFTER = 1.0
#: More characters than this without an Enter is garbage, not a card number.
MAX_TYPED = 32
DECIMAL_DIGITS_4_BYTES = 10

InputEvent = tuple[int, int, int]  # (type, code, value)


class KeyEventSource(Protocol):
    """Where key events come from: an evdev device on the Pi, a list in tests."""

    def read_events(self, timeout: float) -> Iterable[InputEvent]:
        """Events available within *timeout* seconds (empty if none); OSError if unplugged."""
        ...

    def close(self) -> None: ...


def decimal_to_uid(text: str, byte_order: ByteOrder = "little") -> str:
    """Turn a decimal card number typed by a USB reader into a normalised hex UID.

    The number is the UID's bytes read as one integer; *byte_order* says whether the reader
    put the UID's first byte last (``"little"``, most cheap readers) or first (``"big"``).

    >>> decimal_to_uid("0473670148", "little")
    '04A23B1C'
    >>> decimal_to_uid("0077740828", "big")
    '04A23B1C'
    """
    if not text.isdigit():
        raise BadCardData(f"{text!r} is not a decimal card number.")
    value = int(text)
    for size in (4, 7, 10):
        if value < 1 << (8 * size):
            return normalise_uid(value.to_bytes(size, byte_order))
    raise BadCardData(f"{text!r} is too large to be a card number.")


def typed_text_to_uid(
    text: str, uid_format: UidFormat = "auto", byte_order: ByteOrder = "little"
) -> str:
    """The normalised UID for what a USB reader typed, or :class:`BadCardData`."""
    if UNKNOWN_KEY in text:
        raise BadCardData(
            f"The USB card reader typed {text!r}, which is not a card number "
            "('?' marks keys that are not 0-9 or A-F). Check the reader's output setting."
        )
    decimal = uid_format == "decimal" or (
        uid_format == "auto" and text.isdigit() and len(text) == DECIMAL_DIGITS_4_BYTES
    )
    try:
        return decimal_to_uid(text, byte_order) if decimal else normalise_uid(text)
    except BadCardData as exc:
        raise BadCardData(f"The USB card reader typed {text!r}: {exc}") from exc


class UsbKeyboardReader(ReaderBase):
    """A :class:`~kiosk.hardware.base.CardReader` over key events from a keyboard-style reader.

    *open_source* opens (or re-opens, on :meth:`reset`) the event source; it raises
    :class:`ReaderError` when the reader is not there, so an unplugged reader is reported and
    retried by the reader loop. Events are read with a timeout: no busy loop.
    """

    name = "usb"

    def __init__(
        self,
        open_source: Callable[[], KeyEventSource],
        *,
        uid_format: UidFormat = "auto",
        byte_order: ByteOrder = "little",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open_source = open_source
        self._source: KeyEventSource | None = None
        self.uid_format = uid_format
        self.byte_order = byte_order
        self._clock = clock
        self._typed: list[str] = []
        self._typed_since = 0.0
        self._pending: deque[InputEvent] = deque()
        self._shifted = False

    def reset(self) -> None:
        self._check_open()
        self._drop_source()
        self._typed.clear()
        self._pending.clear()
        self._shifted = False
        self._source = self._open_source()

    def read_uid(self, timeout: float) -> str | None:
        self._check_open()
        if self._source is None:
            self.reset()
        assert self._source is not None
        deadline = self._clock() + max(0.0, timeout)
        while True:
            text = self._take_typed_line()
            if text is not None:
                return typed_text_to_uid(text, self.uid_format, self.byte_order)
            self._check_stale()
            try:
                events = list(self._source.read_events(max(0.0, deadline - self._clock())))
            except OSError as exc:
                self._drop_source()
                if exc.errno == errno.ENODEV:
                    raise ReaderError("The USB card reader was unplugged.") from exc
                raise ReaderError(f"The USB card reader stopped answering: {exc}") from exc
            if not events:
                self._check_stale()
                return None
            self._pending.extend(events)

    def _take_typed_line(self) -> str | None:
        """Consume pending key events up to and including an Enter; return what was typed.

        Keys after the Enter stay pending for the next poll (two cards in one batch).
        """
        while self._pending:
            event_type, code, value = self._pending.popleft()
            if event_type != EV_KEY:
                continue
            if code in SHIFT_KEYS:
                self._shifted = value != 0
                continue
            if value != KEY_DOWN:
                continue
            text = self._key(code)
            if text is not None:
                return text
        return None

    def _key(self, code: int) -> str | None:
        """Add one key press; return the typed text when it was Enter."""
        if code in (KEY_ENTER, KEY_KPENTER):
            text, self._typed = "".join(self._typed), []
            return text if text else None
        if not self._typed:
            self._typed_since = self._clock()
        char = KEY_CHARACTERS.get(code, UNKNOWN_KEY)
        if self._shifted and char.isdigit():
            char = UNKNOWN_KEY  # shift + digit is a symbol, not a digit
        self._typed.append(char)
        if len(self._typed) > MAX_TYPED:
            text, self._typed = "".join(self._typed), []
            self._pending.clear()
            raise BadCardData(
                f"The USB card reader typed {len(text)} characters without pressing Enter "
                f"({text[:12]}...): that is not a card number."
            )
        return None

    def _check_stale(self) -> None:
        if self._typed and self._clock() - self._typed_since > STALE_AFTER:
            text, self._typed = "".join(self._typed), []
            raise BadCardData(
                f"The USB card reader typed {text!r} and stopped before the end of the card "
                "number; the read was dropped."
            )

    def _drop_source(self) -> None:
        source, self._source = self._source, None
        if source is not None:
            with contextlib.suppress(OSError):
                source.close()

    def _release(self) -> None:
        self._drop_source()


class EvdevSource:
    """Key events from an evdev ``InputDevice``, grabbed so they reach nothing else."""

    def __init__(self, device: object) -> None:
        self.device = device
        try:
            device.grab()  # type: ignore[attr-defined]
        except OSError as exc:
            device.close()  # type: ignore[attr-defined]
            raise ReaderError(
                f"Cannot take the USB card reader for the kiosk alone ({exc}): another "
                "program has grabbed it."
            ) from exc

    def read_events(self, timeout: float) -> list[InputEvent]:
        device = self.device
        ready, _, _ = select.select([device], [], [], timeout)
        if not ready:
            return []
        try:
            return [(e.type, e.code, e.value) for e in device.read()]  # type: ignore[attr-defined]
        except BlockingIOError:
            return []

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.device.ungrab()  # type: ignore[attr-defined]
        self.device.close()  # type: ignore[attr-defined]


def find_input_device(evdev: object, wanted: str | None) -> object:
    """Open the reader's input device: *wanted* is a path, or part of the device's name.

    With *wanted* ``None`` the only keyboard-like device with digit keys and Enter is used;
    if there are several, the error lists their names so one can be set in the config.
    """
    if wanted and wanted.startswith("/"):
        try:
            return evdev.InputDevice(wanted)  # type: ignore[attr-defined]
        except FileNotFoundError as exc:
            raise ReaderError(
                f"The USB card reader {wanted} is not there: is it plugged in?"
            ) from exc
        except PermissionError as exc:
            raise ReaderError(
                f"No permission to read {wanted}: add the kiosk's user to the 'input' group."
            ) from exc
    candidates = []
    for path in evdev.list_devices():  # type: ignore[attr-defined]
        try:
            device = evdev.InputDevice(path)  # type: ignore[attr-defined]
        except OSError:
            continue
        keys = set(device.capabilities().get(EV_KEY, ()))
        matches = wanted.lower() in device.name.lower() if wanted else {KEY_ENTER, 2, 11} <= keys
        if matches:
            candidates.append(device)
        else:
            device.close()
    if len(candidates) == 1:
        return candidates[0]
    names = ", ".join(f"{d.name!r} ({d.path})" for d in candidates)
    for device in candidates:
        device.close()
    if not candidates:
        what = f"named like {wanted!r}" if wanted else "that types digits"
        raise ReaderError(
            f"No USB card reader {what} was found: is it plugged in? (If it is, the kiosk's "
            "user may need to be in the 'input' group.)"
        )
    raise ReaderError(
        f"Several input devices could be the card reader: {names}. Set usb_device to the "
        "path (e.g. /dev/input/by-id/...-event-kbd) or the name of the reader."
    )


def open_usb_reader(config: ReaderConfig) -> UsbKeyboardReader:
    """The USB reader described by *config*, reading through evdev (imported here only).

    Raises :class:`ReaderUnavailable` if evdev is not installed. The device itself is opened
    on the first poll, so a reader plugged in later is picked up by the reader loop's retries.
    """
    try:
        import evdev  # lazy on purpose: not on laptops, CI or macOS
    except ImportError as exc:
        raise ReaderUnavailable(
            "The USB card reader needs the evdev library (Linux only), which is not installed "
            "here. On the kiosk: pip install 'doorstep-kiosk[pi]'."
        ) from exc

    def open_source() -> KeyEventSource:
        return EvdevSource(find_input_device(evdev, config.usb_device))

    return UsbKeyboardReader(
        open_source, uid_format=config.usb_uid_format, byte_order=config.usb_byte_order
    )
