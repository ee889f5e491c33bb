"""``history.json``: what became of seqs this kiosk no longer keeps.

Events are kept until acknowledged plus a retention window, then pruned by day. If the server
later lacks some of them (it was restored from an old backup), the kiosk cannot send them
again, but it can say exactly which ones are missing and for which sessions. For that it keeps,
per pruned day, a few numbers::

    {"pruned": {"1": {"day": "2026-09-07", "ranges": [[1, 40]], "events": 40,
                      "sessions": {"2026-09-07/stay-play": [3, 40, 38]},
                      "pruned_at": "2026-12-07T02:30:00Z"}},
     "floors": {"1": {"from": 1, "to": 97, "at": "2026-11-23T10:00:00Z",
                      "why": "re-enrolled: the server already held seq up to 97"}}}

``sessions`` maps a session key to ``[first seq, last seq, events]`` on that day; ``floors``
are seqs given out before this store existed (a new SD card, a restored backup): this store
continues above them so that no seq is ever used twice. About a hundred bytes a day.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.domain.events import Event
from kiosk.store.errors import CorruptFileError


def session_of(event: Event) -> str | None:
    """The session key an attendance event is for (None for other events)."""
    try:
        if event.type == "attendance.recorded":
            return str(event.data["session"]["key"])
        if event.type == "attendance.amended":
            return str(event.data["session_key"])
    except (KeyError, TypeError):
        return None
    return None


def day_summary(
    day: str, ranges: Iterable[tuple[int, int]], events: Iterable[Event], at: str
) -> dict[str, Any]:
    """The entry kept for one pruned day."""
    sessions: dict[str, list[int]] = {}
    count = 0
    for event in events:
        count += 1
        key = session_of(event)
        if key is None or event.seq is None:
            continue
        entry = sessions.setdefault(key, [event.seq, event.seq, 0])
        entry[0] = min(entry[0], event.seq)
        entry[1] = max(entry[1], event.seq)
        entry[2] += 1
    return {
        "day": day,
        "ranges": [[int(a), int(b)] for a, b in ranges],
        "events": count,
        "sessions": sessions,
        "pruned_at": at,
    }


@dataclass(frozen=True)
class LostSpan:
    """Seqs ``first``..``last`` that this kiosk cannot send: why, and what they were for."""

    first: int
    last: int
    reason: str  # "pruned", "floor" or "unknown"
    days: tuple[str, ...] = ()
    sessions: tuple[str, ...] = ()
    note: str = ""

    @property
    def count(self) -> int:
        return self.last - self.first + 1

    def describe(self) -> str:
        """``seq 1-40 (sessions 2026-09-07/stay-play, ...) — no longer on this kiosk``."""
        seqs = f"seq {self.first}" if self.first == self.last else f"seq {self.first}-{self.last}"
        shown = list(self.sessions[:6])
        if len(self.sessions) > 6:
            shown.append(f"and {len(self.sessions) - 6} more")
        what = f" (sessions {', '.join(shown)})" if shown else ""
        if not shown and self.days:
            what = f" (recorded {', '.join(self.days[:6])})"
        why = {
            "pruned": "no longer on this kiosk",
            "floor": "recorded before this kiosk's store was started again, not on this kiosk",
            "unknown": "not on this kiosk",
        }.get(self.reason, "not on this kiosk")
        return f"{seqs}{what} — {why}" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class SeqHistory:
    """A snapshot of ``history.json``."""

    pruned: tuple[Mapping[str, Any], ...] = ()
    floors: tuple[Mapping[str, Any], ...] = ()
    _index: list[tuple[int, int, int]] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Each seq is filed under one day, so pruned ranges never overlap: one bisect finds it.
        spans = [(int(a), int(b), i) for i, e in enumerate(self.pruned) for a, b in e["ranges"]]
        self._index.extend(sorted(spans))

    # -- reading and writing ---------------------------------------------------------------------
    @classmethod
    def from_tables(cls, path: str, data: Mapping[str, Any] | None) -> SeqHistory:
        try:
            pruned = [
                dict(v) for _, v in sorted((data or {}).get("pruned", {}).items(), key=_by_id)
            ]
            floors = [
                dict(v) for _, v in sorted((data or {}).get("floors", {}).items(), key=_by_id)
            ]
            for entry in pruned:
                str(entry["day"])
                [(int(a), int(b)) for a, b in entry["ranges"]]
                dict(entry.get("sessions", {}))
            for entry in floors:
                int(entry["from"]), int(entry["to"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CorruptFileError(path, f"the seq history cannot be read ({exc})") from None
        return cls(tuple(pruned), tuple(floors))

    def to_tables(self) -> dict[str, dict[str, Any]]:
        return {
            "pruned": {str(i): dict(e) for i, e in enumerate(self.pruned, start=1)},
            "floors": {str(i): dict(e) for i, e in enumerate(self.floors, start=1)},
        }

    def with_pruned(self, entries: Iterable[Mapping[str, Any]]) -> SeqHistory:
        fresh = [dict(e) for e in entries]
        days = {e["day"] for e in fresh}
        # A day pruned again (a crash between this note and the delete) is noted once.
        kept = [e for e in self.pruned if e["day"] not in days]
        return SeqHistory(tuple(sorted([*kept, *fresh], key=_first_seq)), self.floors)

    def with_floor(self, first: int, last: int, at: str, why: str) -> SeqHistory:
        entry = {"from": int(first), "to": int(last), "at": at, "why": why}
        return SeqHistory(self.pruned, (*self.floors, entry))

    def merged(self, other: SeqHistory) -> SeqHistory:
        """This history and ``other``'s (a replaced copy of the same kiosk's store)."""
        pruned = {e["day"]: e for e in other.pruned}
        pruned.update({e["day"]: e for e in self.pruned})
        floors = {(int(e["from"]), int(e["to"])): e for e in (*other.floors, *self.floors)}
        return SeqHistory(
            tuple(sorted(pruned.values(), key=_first_seq)),
            tuple(floors[k] for k in sorted(floors)),
        )

    @property
    def floor(self) -> int:
        """The highest seq given out before this store (0 when it never started again)."""
        return max((int(e["to"]) for e in self.floors), default=0)

    # -- describing missing seqs -----------------------------------------------------------------
    def _where(self, seq: int) -> int | None:
        """The entry holding ``seq``: ``i`` for ``pruned[i]``, ``-1 - i`` for ``floors[i]``."""
        pos = bisect.bisect_right(self._index, (seq, float("inf"), 0)) - 1
        if pos >= 0 and self._index[pos][0] <= seq <= self._index[pos][1]:
            return self._index[pos][2]
        for i, floor in enumerate(self.floors):  # a few at most
            if int(floor["from"]) <= seq <= int(floor["to"]):
                return -1 - i
        return None

    def spans(self, seqs: Iterable[int]) -> list[LostSpan]:
        """``seqs`` (not on this kiosk) grouped into spans, each saying why and for what."""
        out: list[LostSpan] = []
        current: list[Any] | None = None  # [first, last, reason, days, sessions, which]
        for seq in sorted(set(seqs)):
            which = self._where(seq)
            reason = "unknown" if which is None else ("floor" if which < 0 else "pruned")
            if current is not None and current[1] == seq - 1 and current[2] == reason:
                current[1] = seq
                current[5].add(which)
            else:
                if current is not None:
                    out.append(self._span(current))
                current = [seq, seq, reason, set(), set(), {which}]
        if current is not None:
            out.append(self._span(current))
        return out

    def _span(self, raw: list[Any]) -> LostSpan:
        first, last, reason, _, _, which = raw
        days: set[str] = set()
        sessions: set[str] = set()
        notes: list[str] = []
        for w in which:
            if w is None:
                continue
            if w >= 0:
                entry = self.pruned[w]
                days.add(str(entry["day"]))
                for key, (lo, hi, *_rest) in dict(entry.get("sessions", {})).items():
                    if int(lo) <= last and int(hi) >= first:
                        sessions.add(key)
            else:
                floor = self.floors[-1 - w]
                notes.append(f"since {floor.get('at', '?')}: {floor.get('why', '')}".strip())
        return LostSpan(
            first,
            last,
            reason,
            tuple(sorted(days)),
            tuple(sorted(sessions)),
            "; ".join(dict.fromkeys(notes)),
        )


def _by_id(item: tuple[str, Any]) -> int:
    return int(item[0]) if str(item[0]).isdigit() else 0


def _first_seq(entry: Mapping[str, Any]) -> int:
    ranges = entry.get("ranges") or [[0, 0]]
    return int(ranges[0][0])
