"""The two small bookkeeping files: ``seq.json`` (where seqs are) and the outbox in ``sync.json``.

``seq.json`` holds ``high_water`` (every seq up to it has been used), ``runs`` (``[first_seq,
day]`` pairs: seqs from ``first_seq`` up to the next run's start are filed under ``day``; ``day``
is null once the day was pruned) and ``pending`` (the intent of a write that spans several files,
so that a crash half-way is completed or undone on the next open).

The highest seq in use is ``max(high_water, highest seq filed under the last run's day)``. A tap
for the same day as the last run (nearly every tap) therefore writes only its day file; the first
event of a new day first adds a run, then writes the day. A crash between the two leaves a run
with no events, which the next record replaces, so seqs stay gap-free and are never reused.

The outbox is two numbers' worth of state in ``sync.json``, table ``outbox``: ``acked_through``
(every seq up to it is acknowledged, rejected, or lost to a quarantined file) and ``done_above``
(such seqs above it). Marking events sent rewrites only this small file, and
``waiting = highest seq - acked_through - len(done_above)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.store.errors import CorruptFileError

Run = tuple[int, date | None]


@dataclass(frozen=True)
class SeqState:
    high_water: int = 0
    runs: tuple[Run, ...] = ()
    pending: Mapping[str, Any] | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "high_water": self.high_water,
            "runs": [[start, day.isoformat() if day else None] for start, day in self.runs],
            "pending": dict(self.pending) if self.pending else None,
        }

    @classmethod
    def from_tables(cls, path: str, data: Mapping[str, Any] | None) -> SeqState:
        doc = (data or {}).get("seq", {}).get("1")
        if doc is None:
            return cls()
        try:
            high = int(doc.get("high_water", 0))
            runs: list[Run] = []
            for start, day in doc.get("runs", []):
                runs.append((int(start), date.fromisoformat(day) if day else None))
            pending = doc.get("pending")
            if pending is not None:
                pending = {
                    "from": int(pending["from"]),
                    "to": int(pending["to"]),
                    "days": [date.fromisoformat(d).isoformat() for d in pending["days"]],
                    "projections": [str(p) for p in pending.get("projections", [])],
                }
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise CorruptFileError(path, f"the seq record cannot be read ({exc})") from None
        if any(b[0] <= a[0] for a, b in zip(runs, runs[1:], strict=False)):
            raise CorruptFileError(path, "the seq runs are not in increasing order")
        return cls(high, tuple(runs), pending)

    def ranges(self, highest: int) -> list[tuple[int, int, date | None]]:
        """``(first, last, day)`` for every run, the last one ending at ``highest``."""
        out = []
        for i, (start, day) in enumerate(self.runs):
            end = self.runs[i + 1][0] - 1 if i + 1 < len(self.runs) else highest
            if end >= start:
                out.append((start, end, day))
        return out


@dataclass(frozen=True)
class OutboxState:
    acked_through: int = 0
    done_above: frozenset[int] = frozenset()
    last_ack_at: str | None = None

    def is_done(self, seq: int) -> bool:
        return seq <= self.acked_through or seq in self.done_above

    def with_done(self, seqs: Iterable[int]) -> OutboxState:
        """This state with ``seqs`` acknowledged (the low-water mark advanced over them)."""
        done = set(self.done_above)
        done.update(s for s in seqs if s > self.acked_through)
        acked = self.acked_through
        while acked + 1 in done:
            acked += 1
            done.discard(acked)
        return OutboxState(acked, frozenset(done), self.last_ack_at)

    def to_doc(self) -> dict[str, Any]:
        return {
            "acked_through": self.acked_through,
            "done_above": sorted(self.done_above),
            "last_ack_at": self.last_ack_at,
        }

    @classmethod
    def from_tables(cls, path: str, data: Mapping[str, Any] | None) -> OutboxState:
        doc = (data or {}).get("outbox", {}).get("1")
        if doc is None:
            return cls()
        try:
            acked = int(doc.get("acked_through", 0))
            done = frozenset(int(s) for s in doc.get("done_above", []))
            last = doc.get("last_ack_at")
        except (AttributeError, TypeError, ValueError) as exc:
            raise CorruptFileError(path, f"the outbox record cannot be read ({exc})") from None
        return cls(acked, frozenset(s for s in done if s > acked), last)
