"""The reader seam: what every card reader looks like to the rest of the kiosk.

A card reader is anything that can answer "is there a card, and what is its UID?" within a
bounded time. The real ones (an RC522 on the SPI bus, a USB reader that types like a keyboard)
and the fake one (for tests and demo mode) all fit :class:`CardReader`, and every UID they hand
out has passed through :func:`normalise_uid`, so the same card reads the same whichever reader
read it::

    >>> normalise_uid("04:a2:3b:1c")
    '04A23B1C'
    >>> normalise_uid([0x04, 0xA2, 0x3B, 0x1C])
    '04A23B1C'

Nothing here imports a hardware library: importing this module is safe on a laptop or in CI.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from kiosk.domain.uids import UidError
from kiosk.domain.uids import normalise_uid as domain_normalise_uid


class HardwareError(Exception):
    """Root of every error raised by the kiosk's hardware seams."""


class ReaderError(HardwareError):
    """The card reader failed: it is not answering, was unplugged, or sent something wrong."""


class ReaderUnavailable(ReaderError, ImportError):
    """This kind of reader cannot be used here: its library is missing or this is not a Pi.

    Like gpiozero's ``BadPinFactory`` it is also an :class:`ImportError`, so code that treats
    "not on a Pi" as a missing import keeps working.
    """


class BadCardData(ReaderError, ValueError):
    """A reader produced something that is not a card number (garbage, a half-typed UID).

    This is a bad *read*, not a broken *reader*: the reader loop logs it and carries on.
    """


class FeedbackUnavailable(HardwareError, ImportError):
    """The LED and buzzer cannot be driven here: gpiozero or its pin backend is missing."""


def normalise_uid(raw: str | bytes | Sequence[int]) -> str:
    """Return a card UID as upper-case hex with no separators, e.g. ``"04A23B1C"``.

    The rule itself lives in :mod:`kiosk.domain.uids` (the admin's typed UIDs follow it too);
    here a bad value becomes :class:`BadCardData`, a bad *read* that the reader loop logs and
    carries on from. Decimal numbers typed by some USB readers are *not* guessed here
    (``"12345678"`` is valid hex too); the USB reader converts them explicitly, see
    :mod:`kiosk.hardware.usb`.

    >>> normalise_uid("04-a2-3b-1c-5d-6e-80")
    '04A23B1C5D6E80'
    """
    try:
        return domain_normalise_uid(raw)
    except UidError as exc:
        raise BadCardData(str(exc)) from exc


class ReaderState(enum.Enum):
    """Whether the card reader is doing its job."""

    OK = "ok"
    NOT_ANSWERING = "not_answering"


@dataclass(frozen=True)
class ReaderHealth:
    """How the card reader is doing, in a form the UI can show a volunteer.

    ``since`` is a wall-clock timestamp (seconds since the epoch) of when the state began;
    ``last_error`` is the developer-facing text of the error that caused it.

    >>> ReaderHealth.ok("rc522").plain_words
    'Card reader working'
    """

    state: ReaderState
    reader: str = ""
    last_error: str | None = None
    since: float | None = None

    @classmethod
    def ok(cls, reader: str = "", since: float | None = None) -> ReaderHealth:
        return cls(ReaderState.OK, reader, None, since)

    @classmethod
    def not_answering(cls, reader: str, last_error: str, since: float) -> ReaderHealth:
        return cls(ReaderState.NOT_ANSWERING, reader, last_error, since)

    @property
    def is_ok(self) -> bool:
        return self.state is ReaderState.OK

    @property
    def plain_words(self) -> str:
        """One short sentence for the volunteer at the door."""
        if self.is_ok:
            return "Card reader working"
        if self.reader == "usb":
            return "Card reader not answering — check it is plugged in"
        return "Card reader not answering — check its cable"


@runtime_checkable
class CardReader(Protocol):
    """One card reader. Implementations: RC522 (SPI), USB keyboard-style reader, fake.

    - ``read_uid(timeout)`` is one poll: it returns a normalised UID when a card is on the
      reader, ``None`` when none was seen within *timeout* seconds, and raises
      :class:`ReaderError` when the reader itself fails (:class:`BadCardData` for a bad read).
      A card left on the reader is seen by every poll; turning sightings into taps is the
      job of :class:`kiosk.hardware.taps.TapDebouncer`.
    - ``reset()`` re-initialises the reader (reopen, re-probe); it raises ReaderError if the
      reader still does not answer.
    - ``close()`` releases it; safe to call twice. Readers are context managers.
    """

    name: str

    def read_uid(self, timeout: float) -> str | None: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class ReaderBase:
    """Shared plumbing for readers: context manager and idempotent close."""

    name: str = "reader"
    _closed: bool = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._release()

    def _release(self) -> None:
        """Free the reader's resources; called once by :meth:`close`."""

    def _check_open(self) -> None:
        if self._closed:
            raise ReaderError(f"The {self.name} card reader has been closed.")
