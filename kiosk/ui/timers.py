"""Countdowns for the screens, on an injected clock (so tests step time without sleeping).

The app ticks every screen a few times a second; a screen asks its ``Countdown`` whether time is
up. With a fake monotonic clock the welcome screen's auto-confirm and volunteer mode's idle lock
are tested exactly, and two welcome screens drawn at the same fake time are pixel-identical.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Countdown:
    """``seconds`` from the last ``restart()``; stopped until first started."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = float(seconds)
        self._clock = clock
        self._deadline: float | None = None

    @property
    def running(self) -> bool:
        return self._deadline is not None

    def restart(self, seconds: float | None = None) -> None:
        if seconds is not None:
            self.seconds = float(seconds)
        self._deadline = self._clock() + self.seconds

    def stop(self) -> None:
        self._deadline = None

    def remaining(self) -> float:
        if self._deadline is None:
            return self.seconds
        return max(self._deadline - self._clock(), 0.0)

    def fraction_left(self) -> float:
        """1.0 just after a restart, 0.0 when time is up."""
        return self.remaining() / self.seconds if self.seconds > 0 else 0.0

    def expired(self) -> bool:
        return self._deadline is not None and self._clock() >= self._deadline
