"""The domain's exceptions: one root, leaves that also inherit the matching built-in.

Messages are written for the person who will read them (a volunteer or an admin): what was wrong
and, where it helps, what to do next.
"""

from __future__ import annotations


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""


class ValidationError(KioskError, ValueError):
    """Input that does not make sense (a bad name, date, time or postcode)."""


class NotFoundError(KioskError, LookupError):
    """A family, card or session id that the kiosk does not hold."""


class TimetableError(ValidationError):
    """A session that ends before it starts, or overlaps another."""


class RiskListError(ValidationError):
    """A risk-list file with bad lines; ``problems`` holds ``(line_number, message)`` pairs."""

    def __init__(self, problems: list[tuple[int, str]], source: str = "risk list") -> None:
        self.problems = problems
        self.source = source
        lines = "\n".join(f"line {n}: {msg}" for n, msg in problems)
        super().__init__(f"{source}: {len(problems)} invalid line(s)\n{lines}")
