"""Feedback at the door: a green LED and a buzzer, driven through gpiozero.

The stigma rule: every family gets the same light and the same sound. :class:`Feedback` is
told only the *outcome* of a check-in (``"welcome"``, ``"already_in"``, ``"unknown_card"``,
``"no_session"``, ``"error"``), never who checked in or whether they qualify for anything, so
it cannot give a qualifying family a different signal even by mistake.

Two patterns, as data (so tests can assert them and the firmware notes can describe them):

- :data:`SUCCESS` for ``welcome`` and ``already_in``: the LED on for 1.5 s, one short pip.
- :data:`SEE_A_VOLUNTEER` for everything else: the LED and buzzer pulse together three times.

Example with gpiozero's mock pins::

    >>> from gpiozero.pins.mock import MockFactory
    >>> feedback = GpioFeedback(led_pin=17, buzzer_pin=27, pin_factory=MockFactory())
    >>> feedback.signal("welcome")   # returns at once; the pattern plays in the background
    >>> feedback.close()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, NamedTuple, Protocol, Self, runtime_checkable

from kiosk.hardware.base import FeedbackUnavailable

log = logging.getLogger(__name__)

SUCCESS_OUTCOMES = ("welcome", "already_in")
SEE_A_VOLUNTEER_OUTCOMES = ("unknown_card", "no_session", "error")
OUTCOMES = SUCCESS_OUTCOMES + SEE_A_VOLUNTEER_OUTCOMES


class Blink(NamedTuple):
    """*n* pulses of *on_time* seconds on, *off_time* seconds off (like gpiozero's blink)."""

    on_time: float
    off_time: float = 0.0
    n: int = 1

    def changes(self) -> list[tuple[float, bool]]:
        """``(seconds from the start, on?)`` for every switch, ending switched off."""
        out: list[tuple[float, bool]] = []
        t = 0.0
        for _ in range(self.n):
            out.append((t, True))
            t += self.on_time
            out.append((t, False))
            t += self.off_time
        return out

    @property
    def duration(self) -> float:
        return self.n * self.on_time + max(0, self.n - 1) * self.off_time


class Pattern(NamedTuple):
    """What the LED and the buzzer do together for one outcome."""

    led: Blink
    buzzer: Blink

    def timeline(self) -> list[tuple[float, bool, bool]]:
        """``(seconds from the start, led on?, buzzer on?)`` at every change, ending all off.

        >>> SUCCESS.timeline()
        [(0.0, True, True), (0.1, True, False), (1.5, False, False)]
        """
        times = sorted({t for t, _ in self.led.changes()} | {t for t, _ in self.buzzer.changes()})
        steps = []
        for t in times:
            steps.append((round(t, 6), _state_at(self.led, t), _state_at(self.buzzer, t)))
        return steps

    @property
    def duration(self) -> float:
        return max(self.led.duration, self.buzzer.duration)


def _state_at(blink: Blink, t: float) -> bool:
    state = False
    for when, on in blink.changes():
        if when <= t + 1e-9:
            state = on
    return state


#: A successful check-in (welcome, already in): steady light, one short pip.
SUCCESS = Pattern(led=Blink(on_time=1.5), buzzer=Blink(on_time=0.1))
#: Please see a volunteer (unknown card, no session, error): three pulses of light and sound.
SEE_A_VOLUNTEER = Pattern(
    led=Blink(on_time=0.25, off_time=0.15, n=3),
    buzzer=Blink(on_time=0.25, off_time=0.15, n=3),
)

#: Which pattern each outcome plays. Nothing about the family can choose a pattern.
OUTCOME_PATTERNS: Mapping[str, Pattern] = {
    **{outcome: SUCCESS for outcome in SUCCESS_OUTCOMES},
    **{outcome: SEE_A_VOLUNTEER for outcome in SEE_A_VOLUNTEER_OUTCOMES},
}


def pattern_for(outcome: str) -> Pattern:
    """The pattern for *outcome*; ``ValueError`` naming the valid outcomes for anything else."""
    try:
        return OUTCOME_PATTERNS[outcome]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown check-in outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}"
        ) from None


@runtime_checkable
class Feedback(Protocol):
    """Signals a check-in outcome to the family at the door. Knows nothing about families."""

    def signal(self, outcome: str) -> None: ...

    def close(self) -> None: ...


class _FeedbackBase:
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        pass


class NullFeedback(_FeedbackBase):
    """Feedback that only records the outcomes it was given: for tests and demo mode.

    >>> feedback = NullFeedback()
    >>> feedback.signal("welcome")
    >>> feedback.signals
    ['welcome']
    """

    def __init__(self) -> None:
        self.signals: list[str] = []
        self.closed = False

    def signal(self, outcome: str) -> None:
        pattern_for(outcome)  # same validation as the real thing
        self.signals.append(outcome)

    def close(self) -> None:
        self.closed = True


class GpioFeedback(_FeedbackBase):
    """A green LED and an active buzzer on GPIO pins (BCM numbers), through gpiozero.

    :meth:`signal` returns at once and plays the pattern in a background thread; a new
    signal cuts the previous one short. *pin_factory* is passed to gpiozero (a
    ``MockFactory`` in tests). *buzzer_active_high* is False for buzzer modules that sound
    when their input is pulled low (if the buzzer sounds all the time, that is the fix).
    *background=False* plays synchronously and *sleep* replaces
    the wait between steps: tests use both to check pin states over time without sleeping.
    """

    def __init__(
        self,
        led_pin: int = 17,
        buzzer_pin: int = 27,
        pin_factory: Any = None,
        *,
        patterns: Mapping[str, Pattern] = OUTCOME_PATTERNS,
        buzzer_active_high: bool = True,
        background: bool = True,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if led_pin == buzzer_pin:
            raise ValueError(f"The LED and the buzzer cannot share GPIO{led_pin}")
        try:
            from gpiozero import LED, Buzzer  # lazy: laptops have no GPIO
            from gpiozero.exc import GPIOZeroError
        except ImportError as exc:
            raise FeedbackUnavailable(
                "The LED and buzzer need the gpiozero library, which is not installed here."
            ) from exc
        try:
            self._led = LED(led_pin, pin_factory=pin_factory)
        except (GPIOZeroError, ImportError, OSError) as exc:
            raise FeedbackUnavailable(
                f"Cannot drive the LED on GPIO{led_pin}: {exc}. On a Pi 5 gpiozero needs the "
                "lgpio library."
            ) from exc
        try:
            self._buzzer = Buzzer(
                buzzer_pin, active_high=buzzer_active_high, pin_factory=pin_factory
            )
        except (GPIOZeroError, ImportError, OSError) as exc:
            self._led.close()
            raise FeedbackUnavailable(
                f"Cannot drive the buzzer on GPIO{buzzer_pin}: {exc}"
            ) from exc
        missing = [outcome for outcome in OUTCOMES if outcome not in patterns]
        if missing:
            self._led.close()
            self._buzzer.close()
            raise ValueError(f"No feedback pattern for {', '.join(missing)}")
        self.patterns = dict(patterns)
        self.background = background
        self._sleep = sleep
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def signal(self, outcome: str) -> None:
        """Play the pattern for *outcome* (see :data:`OUTCOME_PATTERNS`)."""
        pattern_for(outcome)
        pattern = self.patterns[outcome]
        with self._lock:
            if self._closed:
                log.warning("Feedback is closed; %r not signalled", outcome)
                return
            self._stop_playing()
            cancel = threading.Event()
            self._cancel = cancel
            if not self.background:
                self._play(pattern, cancel)
                return
            self._thread = threading.Thread(
                target=self._play, args=(pattern, cancel), name="feedback", daemon=True
            )
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the pattern playing now has finished; True if it has."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _stop_playing(self) -> None:
        self._cancel.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)

    def _wait(self, seconds: float, cancel: threading.Event) -> bool:
        """Wait *seconds*; True if the pattern was cancelled meanwhile."""
        if self._sleep is not None:
            self._sleep(seconds)
            return cancel.is_set()
        return cancel.wait(seconds)

    def _play(self, pattern: Pattern, cancel: threading.Event) -> None:
        elapsed = 0.0
        try:
            for at, led_on, buzzer_on in pattern.timeline():
                if at > elapsed:
                    if self._wait(at - elapsed, cancel):
                        return
                    elapsed = at
                self._led.value = led_on
                self._buzzer.value = buzzer_on
        except Exception:  # a feedback glitch must never stop a check-in
            log.exception("Feedback pattern failed")
        finally:
            if not cancel.is_set():
                self._led.off()
                self._buzzer.off()

    def close(self) -> None:
        """Stop any pattern, switch both off and release the pins. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop_playing()
            for device in (self._led, self._buzzer):
                try:
                    device.off()
                    device.close()
                except Exception:
                    log.exception("Feedback: error while closing %r", device)
