"""The LED and buzzer: one success pattern and one see-a-volunteer pattern, the same for all."""

from __future__ import annotations

import inspect
import sys
import threading
from typing import NamedTuple

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.hardware.base import FeedbackUnavailable
from kiosk.hardware.feedback import (
    OUTCOME_PATTERNS,
    OUTCOMES,
    SEE_A_VOLUNTEER,
    SUCCESS,
    Blink,
    Feedback,
    GpioFeedback,
    NullFeedback,
    Pattern,
)
from tests.helpers import wait_for

from .conftest import clocked_mock_factory

LED_PIN, BUZZER_PIN = 17, 27


def pin_timeline(factory, pin):
    """(seconds since the previous change, state) for every change of *pin*."""
    return [(s.timestamp, s.state) for s in factory.pin(pin).states]


@pytest.fixture
def feedback(mock_factory, clock):
    fb = GpioFeedback(
        LED_PIN, BUZZER_PIN, pin_factory=mock_factory, background=False, sleep=clock.sleep
    )
    for pin in (LED_PIN, BUZZER_PIN):
        mock_factory.pin(pin).clear_states()
    yield fb
    fb.close()


# -- the patterns as data -------------------------------------------------------------------


def test_success_is_a_steady_light_and_one_short_pip():
    assert Pattern(led=Blink(1.5), buzzer=Blink(0.1)) == SUCCESS
    assert SUCCESS.timeline() == [(0.0, True, True), (0.1, True, False), (1.5, False, False)]


def test_see_a_volunteer_is_three_pulses_of_light_and_sound_together():
    assert SEE_A_VOLUNTEER.led == SEE_A_VOLUNTEER.buzzer == Blink(0.25, 0.15, 3)
    assert SEE_A_VOLUNTEER.timeline() == [
        (0.0, True, True),
        (0.25, False, False),
        (0.4, True, True),
        (0.65, False, False),
        (0.8, True, True),
        (1.05, False, False),
    ]
    assert SEE_A_VOLUNTEER != SUCCESS


def test_every_outcome_has_one_of_the_two_patterns():
    assert set(OUTCOME_PATTERNS) == set(OUTCOMES)
    assert OUTCOME_PATTERNS["welcome"] is OUTCOME_PATTERNS["already_in"] is SUCCESS
    for outcome in ("unknown_card", "no_session", "error"):
        assert OUTCOME_PATTERNS[outcome] is SEE_A_VOLUNTEER


# -- pin states over time (gpiozero MockFactory, fake clock) ------------------------------------


def test_welcome_lights_the_led_for_one_and_a_half_seconds_with_a_short_buzz(
    feedback, mock_factory
):
    feedback.signal("welcome")
    assert pin_timeline(mock_factory, LED_PIN) == [(0.0, False), (0.0, True), (1.5, False)]
    assert pin_timeline(mock_factory, BUZZER_PIN) == [(0.0, False), (0.0, True), (0.1, False)]


@pytest.mark.parametrize("outcome", ["unknown_card", "no_session", "error"])
def test_see_a_volunteer_pulses_led_and_buzzer_three_times(feedback, mock_factory, outcome):
    feedback.signal(outcome)
    pulses = [
        (0.0, False),
        (0.0, True),
        (0.25, False),
        (0.15, True),
        (0.25, False),
        (0.15, True),
        (0.25, False),
    ]
    assert pin_timeline(mock_factory, LED_PIN) == pulses
    assert pin_timeline(mock_factory, BUZZER_PIN) == pulses


class CheckIn(NamedTuple):
    """What the domain knows about a check-in; only ``outcome`` may reach the door."""

    family: str
    qualifies: bool
    outcome: str


def play_at_the_door(check_in: CheckIn, clock):
    factory = clocked_mock_factory(clock)
    with GpioFeedback(
        LED_PIN, BUZZER_PIN, pin_factory=factory, background=False, sleep=clock.sleep
    ) as fb:
        for pin in (LED_PIN, BUZZER_PIN):
            factory.pin(pin).clear_states()
        fb.signal(check_in.outcome)
        return pin_timeline(factory, LED_PIN), pin_timeline(factory, BUZZER_PIN)


@pytest.mark.parametrize("outcome", ["welcome", "already_in"])
def test_qualifying_and_non_qualifying_families_get_identical_light_and_sound(clock, outcome):
    qualifying = CheckIn("Family in WS7 1AA", qualifies=True, outcome=outcome)
    not_qualifying = CheckIn("Family in B1 1AA", qualifies=False, outcome=outcome)
    assert play_at_the_door(qualifying, clock) == play_at_the_door(not_qualifying, clock)
    assert play_at_the_door(qualifying, clock)[0] == [(0.0, False), (0.0, True), (1.5, False)]


def test_feedback_cannot_be_told_who_checked_in_or_whether_they_qualify(feedback):
    for cls in (Feedback, GpioFeedback, NullFeedback):
        parameters = list(inspect.signature(cls.signal).parameters)
        assert parameters == ["self", "outcome"], cls
    with pytest.raises(TypeError):
        feedback.signal("welcome", qualifies=True)
    with pytest.raises(TypeError):
        NullFeedback().signal("welcome", family="Smith")


def test_unknown_outcome_is_refused_with_the_valid_ones_named(feedback):
    with pytest.raises(ValueError, match="welcome, already_in, unknown_card"):
        feedback.signal("qualifying_welcome")
    with pytest.raises(ValueError, match="Unknown check-in outcome"):
        NullFeedback().signal("gold_star")


def test_pins_are_configurable(clock):
    factory = clocked_mock_factory(clock)
    with GpioFeedback(5, 6, pin_factory=factory, background=False, sleep=clock.sleep) as fb:
        fb.signal("welcome")
        assert [s.state for s in factory.pin(5).states] == [False, True, False]
        assert [s.state for s in factory.pin(6).states] == [False, True, False]


def test_active_low_buzzer_module_is_driven_low_to_sound(clock):
    factory = clocked_mock_factory(clock)
    with GpioFeedback(
        LED_PIN,
        BUZZER_PIN,
        pin_factory=factory,
        buzzer_active_high=False,
        background=False,
        sleep=clock.sleep,
    ) as fb:
        factory.pin(BUZZER_PIN).clear_states()
        fb.signal("welcome")
        assert pin_timeline(factory, BUZZER_PIN) == [(0.0, True), (0.0, False), (0.1, True)]


def test_led_and_buzzer_cannot_share_a_pin():
    with pytest.raises(ValueError, match="cannot share GPIO17"):
        GpioFeedback(17, 17, pin_factory=MockFactory())


def test_close_switches_everything_off_and_is_safe_twice(mock_factory):
    fb = GpioFeedback(LED_PIN, BUZZER_PIN, pin_factory=mock_factory)
    fb.signal("welcome")
    fb.close()
    fb.close()
    assert mock_factory.pin(LED_PIN).state is False
    assert mock_factory.pin(BUZZER_PIN).state is False
    fb.signal("welcome")  # after close: ignored, not a crash


# -- in the background, in real time (short patterns) ---------------------------------------


def quick(pattern: Pattern, scale: float = 0.1) -> Pattern:
    def shrink(b: Blink) -> Blink:
        return Blink(b.on_time * scale, b.off_time * scale, b.n)

    return Pattern(shrink(pattern.led), shrink(pattern.buzzer))


QUICK_PATTERNS = {outcome: quick(p) for outcome, p in OUTCOME_PATTERNS.items()}


def test_signal_returns_at_once_and_the_pattern_plays_in_the_background(clock):
    factory = clocked_mock_factory(clock)
    gate, waits = threading.Event(), []

    def sleep(seconds: float) -> None:  # holds the pattern until the test lets it go on
        waits.append(threading.current_thread())
        assert gate.wait(60)
        clock.sleep(seconds)

    with GpioFeedback(
        LED_PIN, BUZZER_PIN, pin_factory=factory, patterns=QUICK_PATTERNS, sleep=sleep
    ) as fb:
        factory.pin(LED_PIN).clear_states()
        fb.signal("welcome")  # returns while the pattern is held at its first step
        wait_for(lambda: waits, "the pattern to reach its first wait")
        assert waits[0] is not threading.current_thread()
        assert factory.pin(LED_PIN).state is True  # lit, and the pattern is still playing
        gate.set()
        assert fb.wait(60)
        led = factory.pin(LED_PIN)
        assert [s.state for s in led.states] == [False, True, False]
        assert led.states[-1].timestamp == pytest.approx(0.15)  # on the fake clock


def test_a_new_signal_cuts_the_previous_pattern_short():
    factory = MockFactory()
    slow = {outcome: quick(p, 1.0) for outcome, p in OUTCOME_PATTERNS.items()}
    slow.update({o: quick(SEE_A_VOLUNTEER, 0.05) for o in ("unknown_card", "error")})
    with GpioFeedback(LED_PIN, BUZZER_PIN, pin_factory=factory, patterns=slow) as fb:
        fb.signal("welcome")  # 1.5 s on
        fb.signal("unknown_card")  # three quick pulses
        assert fb.wait(60)
        # Cut short, the welcome's light never went off: the pulses start from it lit. Played
        # to its end, there would be one more off and on between them.
        led = [s.state for s in factory.pin(LED_PIN).states]
        assert led == [False, True, False, True, False, True, False]
        assert [s.state for s in factory.pin(BUZZER_PIN).states][-2:] == [True, False]


def test_null_feedback_records_outcomes_for_tests_and_demo():
    with NullFeedback() as fb:
        fb.signal("welcome")
        fb.signal("no_session")
        assert fb.signals == ["welcome", "no_session"]
    assert fb.closed


def test_missing_gpiozero_is_feedback_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    with pytest.raises(FeedbackUnavailable, match="gpiozero"):
        GpioFeedback(LED_PIN, BUZZER_PIN)
    assert issubclass(FeedbackUnavailable, ImportError)
