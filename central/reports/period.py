"""Reporting periods: a calendar month (``2016-04``) or any range of days, in local time.

Session dates are the kiosk's local dates (Europe/London); times stored in UTC (registrations)
are compared against the local day boundaries.

    >>> p = Period.month("2016-04")
    >>> p.start, p.end, p.label
    (datetime.date(2016, 4, 1), datetime.date(2016, 4, 30), 'April 2016')
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from central.db import CentralError

#: The time zone of the sessions (the kiosks record local session dates in it).
REPORT_TZ = ZoneInfo("Europe/London")

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

#: The first and last days a report can cover. Far wider than any session the service will
#: hold, and far enough from the calendar's own ends (year 1 and year 9999) that the month
#: before or after, six weeks back or a local midnight in UTC are always dates: a month such as
#: ``9999-12`` or ``0001-01`` is refused by name instead of failing half-way through a report.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class PeriodError(CentralError, ValueError):
    """A month or date range that cannot be read, or that is outside the reports' range."""


def check_in_range(day: date, what: str = "date", text: str | None = None) -> date:
    """``day`` if a report can cover it; otherwise a PeriodError naming ``what`` and the range."""
    if not EARLIEST <= day <= LATEST:
        shown = repr(text if text is not None else day.isoformat())
        raise PeriodError(
            f"{what} {shown} is outside the dates the reports cover "
            f"({EARLIEST.isoformat()} to {LATEST.isoformat()})"
        )
    return day


def parse_date(text: str, what: str = "date") -> date:
    """A day (``2016-04-18``) a report can cover; ``what`` names the option in an error."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what} {text!r} is not a date like 2016-04-18") from None
    return check_in_range(day, what, text)


@dataclass(frozen=True)
class Period:
    """Days from ``start`` to ``end``, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"the period ends ({self.end}) before it starts ({self.start})")

    @classmethod
    def month(cls, text: str) -> Period:
        """A calendar month from ``2016-04``, between ``EARLIEST`` and ``LATEST``."""
        m = _MONTH.match(text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise PeriodError(f"month {text!r} is not a month like 2016-04")
        year, month = int(m.group(1)), int(m.group(2))
        if not (EARLIEST.year, EARLIEST.month) <= (year, month) <= (LATEST.year, LATEST.month):
            raise PeriodError(
                f"month {text!r} is outside the months the reports cover "
                f"({EARLIEST:%Y-%m} to {LATEST:%Y-%m})"
            )
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def between(cls, start: str, end: str) -> Period:
        return cls(parse_date(start, "--from"), parse_date(end, "--to"))

    @classmethod
    def between_months(cls, start: str, end: str) -> Period:
        """From ``--from`` to ``--to``, each a day (``2016-04-18``) or a month (``2016-04``:
        its first day for ``--from``, its last for ``--to``)."""
        first = cls.month(start).start if _MONTH.match(start.strip()) else None
        last = cls.month(end).end if _MONTH.match(end.strip()) else None
        return cls(first or parse_date(start, "--from"), last or parse_date(end, "--to"))

    @property
    def is_month(self) -> bool:
        return (
            self.start.day == 1
            and self.end.month == self.start.month
            and self.end.year == self.start.year
            and (self.end + timedelta(days=1)).day == 1
        )

    @property
    def label(self) -> str:
        """``April 2016``, or ``18 April 2016 to 22 July 2016``."""
        if self.is_month:
            return f"{calendar.month_name[self.start.month]} {self.start.year}"
        return f"{long_date(self.start)} to {long_date(self.end)}"

    @property
    def slug(self) -> str:
        """For file names: ``2016-04`` or ``2016-04-18_2016-07-22``."""
        if self.is_month:
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}_{self.end.isoformat()}"

    def months(self) -> list[str]:
        """Every ``YYYY-MM`` the period touches, in order."""
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """The UTC instants of local midnight at the start and just after the end."""
        lo = datetime.combine(self.start, time(0), REPORT_TZ).astimezone(UTC)
        hi = datetime.combine(self.end + timedelta(days=1), time(0), REPORT_TZ).astimezone(UTC)
        return lo, hi


def long_date(day: date) -> str:
    """``1 April 2016``."""
    return f"{day.day} {calendar.month_name[day.month]} {day.year}"


def month_label(ym: str) -> str:
    """``2016-04`` as ``Apr 2016``."""
    year, month = ym.split("-")
    return f"{calendar.month_abbr[int(month)]} {year}"


def local_now() -> datetime:
    return datetime.now(REPORT_TZ)
