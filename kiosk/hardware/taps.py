"""From reader polls to taps: debouncing a held card, and the background reader loop.

A reader is polled about ten times a second. A card left on it is seen by every poll, and
RC522 readers are known to miss some of those reads (see FIELD-NOTES: reads alternate between
success and failure with a tag held on the reader). :class:`TapDebouncer` turns that stream of
sightings into *taps*: one per card put on the reader.

:class:`ReaderLoop` runs the polling in a background thread, feeds the debouncer, calls
``on_tap(uid)`` for each tap and ``on_health(health)`` when the reader stops or starts
answering. After a few consecutive failures it reports ``NOT_ANSWERING`` and re-initialises
the reader with growing pauses (backoff) until it answers again; no restart is needed.

Example (with the fake reader; the loop would normally run in its own thread)::

    >>> from kiosk.hardware.fake import FakeReader
    >>> taps = []
    >>> reader = FakeReader()
    >>> loop = ReaderLoop(reader, on_tap=taps.append)
    >>> reader.present("04a23b1c")
    >>> _ = loop.poll_once(); _ = loop.poll_once()
    >>> taps
    ['04A23B1C']
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kiosk.hardware.base import BadCardData, CardReader, ReaderHealth

log = logging.getLogger(__name__)

#: How often the reader is asked for a card (FIELD-NOTES: the RC522 has no usable
#: "card present" interrupt, so waiting means polling about every 100 ms).
DEFAULT_POLL_INTERVAL = 0.1
#: A card must be away from the reader for longer than this before it can tap again.
DEFAULT_HOLD_WINDOW = 1.0
#: Consecutive failed polls before the reader is reported as not answering and reset.
DEFAULT_FAILURES_BEFORE_RESET = 3
#: Pauses between reset attempts: BACKOFF_INITIAL x 2^(n-1), at most BACKOFF_CAP seconds.
BACKOFF_INITIAL = 0.5
BACKOFF_CAP = 30.0


def backoff_delay(
    attempt: int, initial: float = BACKOFF_INITIAL, cap: float = BACKOFF_CAP
) -> float:
    """Seconds to wait after reset attempt number *attempt* (1, 2, ...) failed.

    A pure function, so the schedule is tested without sleeping:

    >>> [backoff_delay(n) for n in range(1, 5)]
    [0.5, 1.0, 2.0, 4.0]
    >>> backoff_delay(20)
    30.0
    """
    if attempt < 1:
        return 0.0
    return min(cap, initial * 2 ** (attempt - 1))


class TapDebouncer:
    """Turns reader sightings into taps: one tap per card put on the reader.

    Feed it every poll result with the time it was taken (``uid`` is ``None`` when no card
    was read). :meth:`feed` returns the UID when that sighting is a new tap, else ``None``:

    - the same UID seen again within *hold_window* seconds of its last sighting is the same
      tap (the card is being held on the reader);
    - missed reads (``None``) between two sightings of a held card do not end the hold;
    - the card has to be absent for longer than *hold_window* before it taps again;
    - a different UID taps at once.

    >>> d = TapDebouncer(hold_window=1.0)
    >>> [d.feed(uid, t) for uid, t in [("A1B2C3D4", 0.0), (None, 0.1), ("A1B2C3D4", 0.2)]]
    ['A1B2C3D4', None, None]
    >>> d.feed("A1B2C3D4", 5.0)
    'A1B2C3D4'
    """

    def __init__(self, hold_window: float = DEFAULT_HOLD_WINDOW) -> None:
        if hold_window < 0:
            raise ValueError(f"hold_window must not be negative, got {hold_window}")
        self.hold_window = hold_window
        self._held_uid: str | None = None
        self._last_seen = 0.0

    @property
    def held_uid(self) -> str | None:
        """The card currently considered on the reader, if any."""
        return self._held_uid

    def feed(self, uid: str | None, now: float) -> str | None:
        if self._held_uid is not None and now - self._last_seen > self.hold_window:
            self._held_uid = None
        if uid is None:
            return None
        if uid == self._held_uid:
            self._last_seen = now
            return None
        self._held_uid = uid
        self._last_seen = now
        return uid

    def forget(self) -> None:
        """Forget the held card, so the next sighting of any card is a tap."""
        self._held_uid = None


class ReaderLoop:
    """Polls a :class:`CardReader` in a background thread and reports taps and health.

    - ``on_tap(uid)`` is called (from the loop's thread) once per tap.
    - ``on_health(health)`` is called when the reader's health changes: to
      ``NOT_ANSWERING`` after *failures_before_reset* consecutive failed polls, back to
      ``OK`` on the first good poll after that.
    - While the reader is not answering, it is reset with :func:`backoff_delay` pauses.
    - A bad read (:class:`BadCardData`, e.g. garbage from a USB reader) is logged and
      skipped; it does not count as the reader failing.
    - Polls are at least *poll_interval* apart: there is no busy loop even when a reader
      returns at once.

    *clock* (monotonic seconds), *wall_clock* (epoch seconds, for ``health.since``) and
    *sleep* are injectable, so tests drive :meth:`poll_once` without sleeping. By default the
    loop sleeps on an event that :meth:`stop` sets, so stopping is prompt.
    """

    def __init__(
        self,
        reader: CardReader,
        on_tap: Callable[[str], None],
        on_health: Callable[[ReaderHealth], None] | None = None,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        read_timeout: float | None = None,
        hold_window: float = DEFAULT_HOLD_WINDOW,
        failures_before_reset: int = DEFAULT_FAILURES_BEFORE_RESET,
        backoff: Callable[[int], float] = backoff_delay,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}")
        if failures_before_reset < 1:
            raise ValueError(
                f"failures_before_reset must be at least 1, got {failures_before_reset}"
            )
        self.reader = reader
        self.on_tap = on_tap
        self.on_health = on_health
        self.poll_interval = poll_interval
        self.read_timeout = poll_interval if read_timeout is None else read_timeout
        self.failures_before_reset = failures_before_reset
        self.debouncer = TapDebouncer(hold_window)
        self._backoff = backoff
        self._clock = clock
        self._wall_clock = wall_clock
        self._stop = threading.Event()
        self._sleep = sleep if sleep is not None else self._stop.wait
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._reset_attempts = 0
        self._health = ReaderHealth.ok(reader.name)

    @property
    def health(self) -> ReaderHealth:
        return self._health

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling in a daemon thread. Starting a running loop does nothing."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"reader-loop-{self.reader.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling and wait for the thread to finish. Safe to call twice."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> ReaderLoop:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = self.poll_once()
            if self._stop.is_set():
                break
            self._sleep(delay)

    def poll_once(self) -> float:
        """Poll the reader once; return how long to wait before the next poll."""
        started = self._clock()
        try:
            uid = self.reader.read_uid(self.read_timeout)
        except BadCardData as exc:
            log.warning("Card reader %s: bad read ignored: %s", self.reader.name, exc)
            self._poll_succeeded(None, started)
            return self._remaining(started)
        except Exception as exc:  # a dying reader thread is worse than any error
            return self._poll_failed(exc)
        self._poll_succeeded(uid, started)
        return self._remaining(started)

    def _remaining(self, started: float) -> float:
        return max(0.0, self.poll_interval - (self._clock() - started))

    def _poll_succeeded(self, uid: str | None, now: float) -> None:
        self._failures = 0
        self._reset_attempts = 0
        if not self._health.is_ok:
            log.info("Card reader %s is answering again", self.reader.name)
            self._set_health(ReaderHealth.ok(self.reader.name, self._wall_clock()))
        tap = self.debouncer.feed(uid, now)
        if tap is not None:
            try:
                self.on_tap(tap)
            except Exception:  # keep reading cards whatever the UI does
                log.exception("on_tap(%s) failed; the reader loop carries on", tap)

    def _poll_failed(self, exc: Exception) -> float:
        self._failures += 1
        message = str(exc) or type(exc).__name__
        log.debug(
            "Card reader %s poll failed (%d in a row): %s",
            self.reader.name,
            self._failures,
            message,
        )
        if self._failures < self.failures_before_reset:
            return self.poll_interval
        if self._health.is_ok:
            log.error("Card reader %s is not answering: %s", self.reader.name, message)
            self._set_health(
                ReaderHealth.not_answering(self.reader.name, message, self._wall_clock())
            )
        elif self._health.last_error != message:
            self._set_health(
                ReaderHealth.not_answering(self.reader.name, message, self._health.since or 0.0)
            )
        self._reset_attempts += 1
        try:
            self.reader.reset()
        except Exception as reset_exc:
            log.warning(
                "Card reader %s reset attempt %d failed: %s",
                self.reader.name,
                self._reset_attempts,
                reset_exc,
            )
        else:
            log.info(
                "Card reader %s re-initialised (attempt %d)", self.reader.name, self._reset_attempts
            )
        return max(self.poll_interval, self._backoff(self._reset_attempts))

    def _set_health(self, health: ReaderHealth) -> None:
        self._health = health
        if self.on_health is not None:
            try:
                self.on_health(health)
            except Exception:
                log.exception("on_health(%s) failed; the reader loop carries on", health)
