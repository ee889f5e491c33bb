"""Fake card readers: first-class stand-ins for tests, demo mode and a laptop.

:class:`FakeReader` is to our readers what gpiozero's ``MockFactory`` is to its pins: tests
drive it (put a card on it, take it off, make it fail) and it keeps a history of every read
with its time::

    >>> reader = FakeReader(clock=lambda: 12.0)
    >>> reader.read_uid(0.1) is None
    True
    >>> reader.present("04:a2:3b:1c")
    >>> reader.read_uid(0.1)
    '04A23B1C'
    >>> [(r.at, r.uid) for r in reader.history]
    [(12.0, None), (12.0, '04A23B1C')]

:class:`ScriptedReader` plays a list of ``(delay, uid)`` taps for demo mode, and
:class:`KeyboardReader` reads card numbers typed on a terminal (a digit 1-9 stands for one of
the :data:`DEMO_CARDS`).
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from kiosk.hardware.base import BadCardData, ReaderBase, ReaderError, normalise_uid

#: Cards for demo mode: press 1-9 (KeyboardReader) or use them in a script.
DEMO_CARDS: dict[str, str] = {str(n): f"DE40{n:02X}{n * 17:02X}" for n in range(1, 10)}

#: How long a demo tap keeps the card on the fake reader.
DEFAULT_TAP_HOLD = 0.3


@dataclass(frozen=True)
class Read:
    """One poll of a fake reader: when, what it returned, and the error if it raised."""

    at: float
    uid: str | None
    error: str | None = None


class FakeReader(ReaderBase):
    """A card reader driven by code: for tests, demo mode and the UI's keyboard shortcuts.

    - :meth:`present` puts a card on the reader until :meth:`remove`; :meth:`tap` puts it on
      for *hold* seconds of the injected *clock*.
    - :meth:`fail` makes the next *n* polls raise :class:`ReaderError`; :meth:`break_` makes
      every poll raise (and :meth:`reset` fail) until :meth:`repair`.
    - :attr:`history` records every poll, :attr:`resets` counts reset calls.

    It never blocks: a poll returns at once (the reader loop paces the polls).
    Thread-safe, so a UI thread can call :meth:`tap` while the reader loop polls.
    """

    def __init__(self, name: str = "fake", clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self._lock = threading.Lock()
        self._uid: str | None = None
        self._until: float | None = None
        self._failures_to_come = 0
        self._failure_message = "fake reader: no answer"
        self._broken: str | None = None
        self.history: list[Read] = []
        self.resets = 0

    def present(self, uid: str) -> None:
        """Put a card on the reader (it stays until :meth:`remove`)."""
        with self._lock:
            self._uid = normalise_uid(uid)
            self._until = None

    def tap(self, uid: str, hold: float = DEFAULT_TAP_HOLD) -> None:
        """Put a card on the reader for *hold* seconds, as a person tapping it would."""
        with self._lock:
            self._uid = normalise_uid(uid)
            self._until = self._clock() + hold

    def remove(self) -> None:
        """Take the card off the reader."""
        with self._lock:
            self._uid = None
            self._until = None

    def fail(self, n: int = 1, message: str = "fake reader: no answer") -> None:
        """Make the next *n* polls raise :class:`ReaderError`."""
        with self._lock:
            self._failures_to_come = n
            self._failure_message = message

    def break_(self, message: str = "fake reader: not answering (unplugged?)") -> None:
        """Make every poll, and every reset, fail until :meth:`repair`."""
        with self._lock:
            self._broken = message

    def repair(self) -> None:
        with self._lock:
            self._broken = None
            self._failures_to_come = 0

    @property
    def card(self) -> str | None:
        """The card on the reader now, if any."""
        with self._lock:
            return self._card_now(self._clock())

    def _card_now(self, now: float) -> str | None:
        if self._until is not None and now >= self._until:
            self._uid = None
            self._until = None
        return self._uid

    def read_uid(self, timeout: float) -> str | None:
        self._check_open()
        with self._lock:
            now = self._clock()
            error = self._broken
            if error is None and self._failures_to_come > 0:
                self._failures_to_come -= 1
                error = self._failure_message
            if error is not None:
                self.history.append(Read(now, None, error))
                raise ReaderError(error)
            uid = self._card_now(now)
            self.history.append(Read(now, uid))
            return uid

    def reset(self) -> None:
        self._check_open()
        with self._lock:
            self.resets += 1
            if self._broken is not None:
                raise ReaderError(self._broken)


class ScriptedReader(FakeReader):
    """Plays a script of taps for demo mode: ``[(delay, uid), ...]``.

    Each card is tapped *delay* seconds after the previous tap (the first after *delay*
    seconds from the first poll), held for *hold* seconds.

    >>> now = [0.0]
    >>> r = ScriptedReader([(1.0, "04A23B1C"), (2.0, "DE400111")], clock=lambda: now[0])
    >>> [r.read_uid(0.1) for now[0] in (0.0, 1.0, 1.5, 3.0)]
    [None, '04A23B1C', None, 'DE400111']
    """

    def __init__(
        self,
        script: Iterable[tuple[float, str]],
        *,
        hold: float = DEFAULT_TAP_HOLD,
        loop: bool = False,
        name: str = "fake",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name=name, clock=clock)
        self.script = [(float(delay), normalise_uid(uid)) for delay, uid in script]
        self.hold = hold
        self.loop = loop
        self._next = 0
        self._due: float | None = None

    @property
    def finished(self) -> bool:
        return not self.loop and self._next >= len(self.script)

    def read_uid(self, timeout: float) -> str | None:
        now = self._clock()
        if self.script and not self.finished:
            if self._due is None:
                self._due = now + self.script[self._next][0]
            if now >= self._due:
                self.tap(self.script[self._next][1], self.hold)
                self._next += 1
                if self.loop:
                    self._next %= len(self.script)
                if not self.finished:
                    self._due += self.script[self._next][0]
        return super().read_uid(timeout)


class KeyboardReader(ReaderBase):
    """Card numbers typed on a terminal, one per line: demo mode on a laptop.

    A line with a single digit 1-9 taps that :data:`DEMO_CARDS` card; any other line is taken
    as a card number in hex. Waits up to *timeout* for a line (POSIX terminals and pipes).
    Reads the file descriptor directly, so no line is left stranded in a Python buffer.
    """

    def __init__(self, stream: TextIO, name: str = "fake") -> None:
        self.name = name
        self._stream = stream
        self._buffer = ""

    def read_uid(self, timeout: float) -> str | None:
        self._check_open()
        if "\n" not in self._buffer:
            try:
                fd = self._stream.fileno()
                ready, _, _ = select.select([fd], [], [], max(0.0, timeout))
                chunk = os.read(fd, 4096) if ready else None
            except (OSError, ValueError) as exc:
                raise ReaderError(f"Cannot read typed card numbers: {exc}") from exc
            if chunk is None:
                return None
            if chunk == b"":
                if not self._buffer:
                    raise ReaderError("The keyboard input has ended (end of file).")
                self._buffer += "\n"
            self._buffer += chunk.decode(errors="replace")
        if "\n" not in self._buffer:
            return None
        line, self._buffer = self._buffer.split("\n", 1)
        text = line.strip()
        if not text:
            return None
        if text in DEMO_CARDS:
            return DEMO_CARDS[text]
        try:
            return normalise_uid(text)
        except BadCardData as exc:
            raise BadCardData(f"Typed text is not a card number: {exc}") from exc

    def reset(self) -> None:
        self._check_open()
        if self._stream.closed:
            raise ReaderError("The keyboard input is closed.")
