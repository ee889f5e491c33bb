"""The retry policy is a value: stepped and checked without sleeping (like urllib3's tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.daemon import DAEMON_RETRY, ONCE_RETRY
from sync.retry import RetriesExhausted, RetryPolicy


def test_backoff_doubles_from_the_factor_and_stops_at_the_cap():
    policy = RetryPolicy(backoff_factor=0.5, backoff_max=10.0, jitter=0.0)
    assert [policy.backoff(n) for n in range(0, 8)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_jitter_takes_up_to_its_fraction_off_the_wait():
    policy = RetryPolicy(backoff_factor=1.0, backoff_max=100.0, jitter=0.5)
    assert policy.backoff(4, rand=0.0) == 8.0
    assert policy.backoff(4, rand=1.0) == 4.0
    assert policy.backoff(4, rand=0.5) == 6.0


def test_increment_returns_a_new_policy_and_leaves_the_old_one_alone():
    first = RetryPolicy()
    second = first.increment("timeout")
    third = second.increment("connection refused")
    assert (first.attempts, second.attempts, third.attempts) == (0, 1, 2)
    assert third.history == ("timeout", "connection refused")
    with pytest.raises(AttributeError):
        first.attempts = 5  # type: ignore[misc]


def test_next_delay_uses_the_failures_counted_so_far():
    policy = RetryPolicy(backoff_factor=2.0, backoff_max=300.0, jitter=0.5)
    stepped = policy.increment().increment().increment()
    assert stepped.next_delay(lambda: 0.0) == 8.0
    assert stepped.next_delay(lambda: 1.0) == 4.0
    assert policy.next_delay(lambda: 0.0) == 0.0


def test_a_limited_policy_gives_up_after_total_retries():
    policy = RetryPolicy(total=2).increment("a").increment("b")
    with pytest.raises(RetriesExhausted) as caught:
        policy.increment("c")
    assert caught.value.attempts == 3
    assert caught.value.last_error == "c"


def test_the_daemon_retries_for_ever_and_reset_starts_again_from_the_shortest_wait():
    policy = DAEMON_RETRY
    for n in range(1000):
        policy = policy.increment(f"failure {n}")
    assert policy.backoff(policy.attempts, rand=0.0) == DAEMON_RETRY.backoff_max
    assert policy.reset().attempts == 0
    assert policy.reset().next_delay(lambda: 0.0) == 0.0


def test_once_mode_retries_briefly():
    policy = ONCE_RETRY.increment().increment()
    with pytest.raises(RetriesExhausted):
        policy.increment()
    assert max(ONCE_RETRY.backoff(n) for n in range(1, 4)) <= 2.0


@pytest.mark.parametrize(
    "kwargs",
    [{"backoff_factor": -1}, {"backoff_max": -1}, {"jitter": 1.5}, {"jitter": -0.1}, {"total": -1}],
)
def test_nonsense_settings_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


@given(
    factor=st.floats(0.0, 60.0),
    cap=st.floats(0.0, 3600.0),
    jitter=st.floats(0.0, 1.0),
    attempt=st.integers(1, 10_000),
    rand=st.floats(0.0, 1.0),
)
def test_every_wait_is_between_the_jittered_floor_and_the_cap(factor, cap, jitter, attempt, rand):
    policy = RetryPolicy(backoff_factor=factor, backoff_max=cap, jitter=jitter)
    base = min(cap, factor * 2.0 ** min(attempt - 1, 64))
    wait = policy.backoff(attempt, rand)
    assert 0.0 <= wait <= cap
    assert wait >= base * (1 - jitter) - 1e-9


@given(attempt=st.integers(1, 200), rand=st.floats(0.0, 1.0))
def test_waits_never_shrink_as_failures_mount(attempt, rand):
    policy = RetryPolicy(backoff_factor=1.0, backoff_max=300.0, jitter=0.5)
    assert policy.backoff(attempt + 1, rand) >= policy.backoff(attempt, rand)
