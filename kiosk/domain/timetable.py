"""The timetable: which session is on at a given moment.

Sessions recur weekly (``Stay and Play``, Mondays 09:30-11:30) or happen once (a one-off
Saturday session, or one a volunteer starts when none is timetabled). Any day and hour is allowed;
a session may not cross midnight. Families may check in from 15 minutes before the start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from kiosk.domain.errors import TimetableError, ValidationError
from kiosk.domain.families import clean_name

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Where a session was made: the central server's timetable, ``kiosk-admin session add`` on
#: this kiosk, or a volunteer's "Start a session" at the door. A pull from the server only
#: ever replaces the server's own sessions (:func:`merge_timetable`).
ORIGINS: tuple[str, ...] = ("server", "kiosk", "door")
EARLY_CHECK_IN = timedelta(minutes=15)
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_weekday(text: str) -> int:
    """``mon``..``sun``, the full name, or a longer abbreviation (``tues``, ``thurs``) to 0..6.

    Only a day's own name counts: ``monkey`` is refused, not read as Monday.
    """
    key = text.strip().lower()
    for index, name in enumerate(_DAY_NAMES):
        if len(key) >= 3 and name.startswith(key):
            return index
    raise ValidationError(f"weekday {text!r} must be one of {', '.join(WEEKDAYS)}")


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_hhmm(text: str, what: str = "time") -> time:
    """``09:30`` to a time, with a clear message for anything else."""
    m = _HHMM.match(text.strip())
    if not m:
        raise ValidationError(f"{what} {text!r} must be a 24-hour time like 09:30")
    return time(int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class SessionSlot:
    """A timetabled session: weekly on ``weekday`` or once on ``on_date``."""

    slot_id: str
    name: str
    start: time
    end: time
    weekday: int | None = None
    on_date: date | None = None
    origin: str = "kiosk"

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise TimetableError(
                f"session {self.name!r}: origin {self.origin!r} must be one of "
                + ", ".join(ORIGINS)
            )
        if (self.weekday is None) == (self.on_date is None):
            raise TimetableError(f"session {self.name!r} needs either a weekday or a date")
        if self.end <= self.start:
            raise TimetableError(
                f"session {self.name!r} ends ({self.end:%H:%M}) before it starts "
                f"({self.start:%H:%M}); sessions may not cross midnight"
            )

    def runs_on(self, day: date) -> bool:
        return self.on_date == day if self.on_date else day.weekday() == self.weekday

    def occurrence(self, day: date) -> SessionOccurrence:
        return SessionOccurrence(self.slot_id, self.name, day, self.start, self.end)

    def describe(self) -> str:
        when = self.on_date.isoformat() if self.on_date else WEEKDAYS[self.weekday or 0]
        return f"{self.name} ({when} {self.start:%H:%M}-{self.end:%H:%M})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot_id": self.slot_id,
            "name": self.name,
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "weekday": self.weekday,
            "on_date": self.on_date.isoformat() if self.on_date else None,
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], origin: str | None = None) -> SessionSlot:
        """A slot from its JSON form; ``origin`` overrides the stored one (a slot written
        before origins were recorded counts as the kiosk's own, so no pull removes it)."""
        on = data.get("on_date")
        return cls(
            slot_id=data["slot_id"],
            name=data["name"],
            start=parse_hhmm(data["start"]),
            end=parse_hhmm(data["end"]),
            weekday=data.get("weekday"),
            on_date=date.fromisoformat(on) if on else None,
            origin=origin or str(data.get("origin") or "kiosk"),
        )

    def same_session(self, other: SessionSlot) -> bool:
        """The same session whoever made it (everything but the origin equal)."""
        return replace(self, origin=other.origin) == other


@dataclass(frozen=True)
class SessionOccurrence:
    """One session on one day; ``key`` identifies it in attendances."""

    slot_id: str
    name: str
    day: date
    start: time
    end: time

    @property
    def key(self) -> str:
        return f"{self.day.isoformat()}/{self.slot_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "slot_id": self.slot_id,
            "name": self.name,
            "date": self.day.isoformat(),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionOccurrence:
        return cls(
            data["slot_id"],
            data["name"],
            date.fromisoformat(data["date"]),
            parse_hhmm(data["start"]),
            parse_hhmm(data["end"]),
        )


def make_slot(
    slot_id: str,
    name: str,
    start: str,
    end: str,
    weekday: str | None = None,
    on_date: str | None = None,
) -> SessionSlot:
    """Build a slot from what an admin typed, with messages naming the bad value."""
    if (weekday is None) == (on_date is None):
        raise TimetableError("give either --weekday or --date for a session")
    day = None
    if on_date is not None:
        try:
            day = date.fromisoformat(on_date)
        except ValueError:
            raise ValidationError(f"date {on_date!r} must look like 2026-11-23") from None
    return SessionSlot(
        slot_id=slot_id,
        name=clean_name(name, "session name"),
        start=parse_hhmm(start, "start time"),
        end=parse_hhmm(end, "end time"),
        weekday=parse_weekday(weekday) if weekday is not None else None,
        on_date=day,
    )


def add_session_arguments(parser: Any) -> None:
    """What a new session is given on an argparse parser (``make_slot`` checks the values):
    ``kiosk-admin session add`` and ``kiosk-central session add`` take the same."""
    parser.add_argument("--name", required=True)
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--weekday", help="mon..sun, for a weekly session")
    when.add_argument("--date", help="YYYY-MM-DD, for a one-off session")
    parser.add_argument("--start", required=True, help="HH:MM")
    parser.add_argument("--end", required=True, help="HH:MM")


def slot_id_for(name: str, weekday: str | None, on_date: str | None, taken: Iterable[str]) -> str:
    """A new session's id, ``stay-and-play-mon`` or ``party-2026-12-19``, unique among ``taken``
    (``-2``, ``-3`` ... added when needed).

        >>> slot_id_for("Stay & Play", "Monday", None, {"stay-play-mon"})
        'stay-play-mon-2'
    """
    taken = set(taken)
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:30] or "session"
    base += "-" + (weekday.lower()[:3] if weekday else str(on_date))
    slot_id, n = base, 2
    while slot_id in taken:
        slot_id, n = f"{base}-{n}", n + 1
    return slot_id


def _overlap(a: SessionSlot, b: SessionSlot) -> bool:
    if a.on_date and b.on_date:
        same_day = a.on_date == b.on_date
    elif a.on_date:
        same_day = a.on_date.weekday() == b.weekday
    elif b.on_date:
        same_day = b.on_date.weekday() == a.weekday
    else:
        same_day = a.weekday == b.weekday
    return same_day and a.start < b.end and b.start < a.end


@dataclass(frozen=True)
class Timetable:
    """All the sessions a kiosk knows; immutable, ``add`` returns a new timetable."""

    slots: tuple[SessionSlot, ...] = ()

    def add(self, slot: SessionSlot) -> Timetable:
        """This timetable plus ``slot``, refusing duplicates and overlaps with a clear message.

        A one-off on a date that a weekly session also uses may not overlap it either: one door,
        one session at a time, so every tap belongs to exactly one session.
        """
        for other in self.slots:
            if other.slot_id == slot.slot_id:
                raise TimetableError(f"a session with id {slot.slot_id!r} already exists")
            if _overlap(other, slot):
                raise TimetableError(
                    f"{slot.describe()} overlaps {other.describe()}; change the times or "
                    "remove the other session first"
                )
        return Timetable((*self.slots, slot))

    def remove(self, slot_id: str) -> Timetable:
        if not any(s.slot_id == slot_id for s in self.slots):
            raise TimetableError(f"no session with id {slot_id!r}")
        return Timetable(tuple(s for s in self.slots if s.slot_id != slot_id))

    def on_day(self, day: date) -> list[SessionOccurrence]:
        return sorted(
            (s.occurrence(day) for s in self.slots if s.runs_on(day)), key=lambda o: o.start
        )

    def session_at(self, local: datetime) -> SessionOccurrence | None:
        """The session a family arriving at ``local`` (kiosk local time) is checking in to.

        Open from ``EARLY_CHECK_IN`` before the start until the end. Where the early window of
        the next session overlaps the end of the current one, the next session wins: someone
        arriving ten minutes before a session ends is almost always early for the next one.
        """
        day, now = local.date(), local.replace(tzinfo=None)
        open_now = [
            occ
            for occ in self.on_day(day)
            if datetime.combine(day, occ.start) - EARLY_CHECK_IN
            <= now
            < datetime.combine(day, occ.end)
        ]
        return max(open_now, key=lambda o: o.start) if open_now else None

    def to_list(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.slots]

    @classmethod
    def from_list(cls, items: Iterable[Mapping[str, Any]], origin: str | None = None) -> Timetable:
        return cls(tuple(SessionSlot.from_dict(i, origin) for i in items))


@dataclass(frozen=True)
class Merged:
    """What :func:`merge_timetable` made, and what a person should hear about it."""

    timetable: Timetable
    kept: tuple[str, ...] = ()
    left_out: tuple[str, ...] = ()


def merge_timetable(
    local: Timetable,
    server: Timetable,
    now_local: datetime,
    attended_today: Iterable[str] = (),
) -> Merged:
    """The kiosk's timetable after a pull of the server's: the two side by side.

    - the server's sessions replace the server's sessions held here (they are the server's
      to change or remove);
    - sessions made on this kiosk (``kiosk-admin session add``, a door drop-in) are never
      removed by a pull;
    - a server session that is on now, or that families attended today (``attended_today``:
      slot ids), is kept as it was until the day is over, even if the server dropped or moved
      it, so no family arriving is told there is no session;
    - where a server session would overlap one of those, the one here wins and the server's
      is left out, with a note (``left_out``) naming both so an admin can put it right.
    """
    on_now = local.session_at(now_local)
    busy = set(attended_today) | ({on_now.slot_id} if on_now else set())
    incoming = {s.slot_id: replace(s, origin="server") for s in server.slots}
    kept: list[str] = []
    base = Timetable()
    for slot in local.slots:
        wanted = incoming.get(slot.slot_id)
        if slot.origin != "server":
            if wanted is not None and slot.origin == "kiosk" and slot.same_session(wanted):
                continue  # the server now holds the same session: it becomes the server's
            base = base.add(slot)
        elif slot.slot_id in busy and (wanted is None or not _still_on(wanted, slot, now_local)):
            base = base.add(slot)
            incoming.pop(slot.slot_id, None)
            kept.append(slot.describe())
    left_out: list[str] = []
    merged = base
    for slot in incoming.values():
        try:
            merged = merged.add(slot)
        except TimetableError as exc:
            left_out.append(f"the server's {slot.describe()} was left out here: {exc}")
    return Merged(merged, tuple(kept), tuple(left_out))


def _still_on(new: SessionSlot, old: SessionSlot, now_local: datetime) -> bool:
    """Whether the server's new version of a session that is on now still covers now and
    starts no later than the old one, so families already in and arriving stay in it."""
    moment = now_local.replace(tzinfo=None)
    day = moment.date()
    opens = datetime.combine(day, new.start) - EARLY_CHECK_IN
    return (
        new.runs_on(day)
        and new.start <= old.start
        and opens <= moment < datetime.combine(day, new.end)
    )
