"""What the server will believe of a kiosk's event, beyond its shape.

``sync.protocol`` checks that an event is well formed; a device token that is well formed can
still claim what is not so. These rules say what the server checks against what it knows, and
how it words a refusal, so that one stolen token cannot inflate an invoice, rewrite a family or
poison the sequence numbers. They are pure (no database): :mod:`central.db` asks them.

- **Dates.** A kiosk can only have recorded what happened between a while before it was
  enrolled (a kiosk may be used at the door before its token arrives, and paper registers are
  typed in late) and the server's today (plus a day, for time zones). An event from a kiosk
  whose clock *is* synchronised that falls outside that window is refused; one whose clock is
  not synchronised is kept, because its attendances are already held for review on the invoice
  (never counted until someone decides), and dropping it would lose what really happened.
- **Copies.** The same event id with the same content is a duplicate (a retry); with different
  content it is a conflict: the server keeps the copy it has and says where they differ.
- **Write-offs.** A kiosk may write off only seqs it can have issued: no further past the
  highest seq the server has seen from it than :data:`WRITE_OFF_ALLOWANCE`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

#: How long before its enrolment a kiosk's events may be dated (a term of door use, and a year
#: of paper registers typed in late, before the kiosk was enrolled).
BEFORE_ENROLMENT = timedelta(days=400)
#: How far past the server's today a session date or event time may be (time zones, a clock a
#: little fast), in days: ``$KIOSK_CENTRAL_FUTURE_DAYS`` (0 to 366), default 1. The test suite
#: raises it, since its kiosks replay terms a few weeks past the real today.
FUTURE_DAYS_ENV = "KIOSK_CENTRAL_FUTURE_DAYS"


def ahead_of_server() -> timedelta:
    """The margin past the server's today (see ``FUTURE_DAYS_ENV``); a bad value is an error
    that names the variable, never a silent default."""
    text = os.environ.get(FUTURE_DAYS_ENV, "1").strip()
    if not text.isdigit() or not 0 <= int(text) <= 366:
        raise ValueError(f"${FUTURE_DAYS_ENV} is {text!r}: give a whole number of days, 0 to 366")
    return timedelta(days=int(text))


#: How far past the highest seq the server has seen from a device a write-off may reach: far
#: more events than a kiosk records in years, far fewer than would break anything.
WRITE_OFF_ALLOWANCE = 100_000


@dataclass(frozen=True)
class DateWindow:
    """The dates a device's events may carry."""

    first: date
    last: date

    @classmethod
    def for_device(cls, enrolled_at: datetime, now: datetime) -> DateWindow:
        return cls((enrolled_at - BEFORE_ENROLMENT).date(), (now + ahead_of_server()).date())

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last

    def refusal(self, field: str, day: date) -> str:
        return (
            f"{field}: {day.isoformat()} is outside the dates this kiosk can have recorded "
            f"({self.first.isoformat()} to {self.last.isoformat()}, from before its enrolment "
            "to the server's today); check the kiosk's clock"
        )


def implausible_date(window: DateWindow, at: datetime, session_day: date | None) -> str | None:
    """Why an event from a kiosk with a synchronised clock cannot be true, or None."""
    if session_day is not None and session_day not in window:
        return window.refusal("data.session.date", session_day)
    if at.date() not in window:
        return window.refusal("at", at.date())
    return None


def differences(held: Any, sent: Any, path: str = "") -> list[str]:
    """The fields (dotted paths) where two copies of one event differ, shallowest first."""
    if isinstance(held, Mapping) and isinstance(sent, Mapping):
        out: list[str] = []
        for key in sorted(set(held) | set(sent), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in held or key not in sent:
                out.append(where)
            else:
                out.extend(differences(held[key], sent[key], where))
        return out
    if held == sent and type(held) is type(sent):
        return []
    return [path or "event"]


def conflict_reason(event_id: str, paths: list[str]) -> str:
    shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
    return (
        f"event_id: the server already holds event {event_id} with different content (differs "
        f"in {shown}); it keeps the copy it has. The organisation's admin sees both on the "
        "dashboard's kiosk health"
    )


def write_off_refusal(from_seq: int, to_seq: int, highest_seen: int) -> str | None:
    """Why a write-off of ``from_seq..to_seq`` cannot be of seqs this device issued, or None."""
    limit = highest_seen + WRITE_OFF_ALLOWANCE
    if to_seq > limit:
        return (
            f"to_seq: {to_seq} is more than {WRITE_OFF_ALLOWANCE} past the highest seq the "
            f"server has seen from this device ({highest_seen}): a kiosk cannot have issued it"
        )
    return None
