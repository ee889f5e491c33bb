"""How long to wait before trying the server again: a retry policy as an immutable value.

Modelled on urllib3's ``Retry``: :meth:`RetryPolicy.increment` returns a new policy with one
more failure counted (or raises :class:`RetriesExhausted`), :meth:`RetryPolicy.backoff` is a
pure function of the attempt number and a random draw, and sleeping is the caller's business,
so tests step through a policy without waiting.

    >>> policy = RetryPolicy(backoff_factor=2.0, backoff_max=60.0, jitter=0.0)
    >>> [policy.backoff(n) for n in range(1, 7)]
    [2.0, 4.0, 8.0, 16.0, 32.0, 60.0]
    >>> policy.increment("timeout").increment("timeout").attempts
    2
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace


class RetriesExhausted(Exception):
    """The policy allows no more attempts; ``last_error`` says what failed last."""

    def __init__(self, attempts: int, last_error: str | None) -> None:
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"gave up after {attempts} failed attempt(s): {last_error}")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, up to a cap.

    ``backoff(n) = min(backoff_max, backoff_factor * 2 ** (n - 1)) * (1 - jitter * rand)``:
    with ``jitter=0.5`` each delay falls between half and all of the capped exponential, so
    kiosks that lost the server together do not all come back in the same second.
    ``total=None`` retries for ever (the daemon); a number gives up after that many retries.
    """

    backoff_factor: float = 2.0
    backoff_max: float = 300.0
    jitter: float = 0.5
    total: int | None = None
    attempts: int = 0
    history: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if self.backoff_factor < 0 or self.backoff_max < 0:
            raise ValueError("backoff_factor and backoff_max must not be negative")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        if self.total is not None and self.total < 0:
            raise ValueError("total must be None (for ever) or at least 0")

    def backoff(self, attempt: int, rand: float = 0.0) -> float:
        """Seconds to wait after the ``attempt``-th consecutive failure (pure)."""
        if attempt <= 0:
            return 0.0
        # Cap the exponent too: 2 ** 10_000 would overflow a float.
        base = min(self.backoff_max, self.backoff_factor * 2.0 ** min(attempt - 1, 64))
        return max(0.0, base * (1.0 - self.jitter * min(max(rand, 0.0), 1.0)))

    def next_delay(self, rand: Callable[[], float] = random.random) -> float:
        """The wait before the next attempt, given the failures counted so far."""
        return self.backoff(self.attempts, rand())

    def increment(self, error: str | None = None) -> RetryPolicy:
        """A new policy with one more failure counted; raises when no retries are left."""
        new = replace(self, attempts=self.attempts + 1, history=(*self.history, error or "?"))
        if new.is_exhausted():
            raise RetriesExhausted(new.attempts, error)
        return new

    def reset(self) -> RetryPolicy:
        """After a success: the next failure starts from the shortest wait again."""
        return replace(self, attempts=0, history=())

    def is_exhausted(self) -> bool:
        return self.total is not None and self.attempts > self.total
