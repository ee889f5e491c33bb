"""Shared fixtures for the hardware tests: a fake clock and gpiozero mock pins on it."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPin, PinState


class FakeClock:
    """Monotonic time that only moves when told to; ``sleep`` moves it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def clocked_mock_factory(clock: FakeClock) -> MockFactory:
    """gpiozero's MockFactory whose pins time-stamp their states with *clock*.

    gpiozero's MockPin records ``states`` as (seconds since the previous change, value) using
    the real monotonic clock; this one uses the fake clock so patterns are asserted exactly.
    """

    class ClockedMockPin(MockPin):
        def clear_states(self) -> None:
            self._last_change = clock()
            self.states = [PinState(0.0, self._state)]

        def _change_state(self, value: bool) -> bool:
            if self._state == value:
                return False
            now = clock()
            self._state = value
            self.states.append(PinState(round(now - self._last_change, 6), value))
            self._last_change = now
            return True

    return MockFactory(pin_class=ClockedMockPin)


@pytest.fixture
def mock_factory(clock: FakeClock):
    factory = clocked_mock_factory(clock)
    yield factory
    factory.reset()
