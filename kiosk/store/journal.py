"""One day of events: ``events/YYYY-MM-DD.json`` and its continuation parts.

Each part is a TinyDB file (table ``events``, document id = ``seq``, document = the event's JSON
form) written through ``AtomicJSONStorage``. New events go to the day's last part until it holds
``EVENTS_PER_PART`` events; then a new part starts. Parts other than the last are never
rewritten in normal use, and a tap rewrites only the last part: a small, bounded file whatever
the day's size or the months of history beside it.

Everything is indexed per part and kept in memory: parsed events are reused across versions of
a part (a document never changes once written), and the day's attendances are replayed
incrementally and grouped by session as events arrive, so a tap costs the same on a quiet day
and a busy one.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from kiosk.domain.attendance import Attendance, amended, attendance_from_event
from kiosk.domain.errors import KioskError
from kiosk.domain.events import Event
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError
from kiosk.store.layout import Layout

if TYPE_CHECKING:
    from kiosk.store.overlay import Overlay

TABLE = "events"


def _event_from_doc(path: str, doc_id: str, doc: Mapping[str, Any]) -> tuple[int, Event]:
    try:
        seq = int(doc_id)
    except ValueError:
        raise CorruptFileError(path, f"document id {doc_id!r} is not a sequence number") from None
    try:
        event = Event.from_dict(doc)
    except (KeyError, TypeError, ValueError, KioskError) as exc:
        raise CorruptFileError(
            path, f"document {doc_id} is not a valid event ({type(exc).__name__}: {exc})"
        ) from None
    if event.seq != seq:
        raise CorruptFileError(path, f"document {doc_id} carries seq {event.seq}, not {seq}")
    return seq, event


class JournalPart:
    """One part file of a day, with its events parsed and indexed."""

    def __init__(self, path: os.PathLike[str] | str, overlay: Overlay | None = None) -> None:
        self.storage = AtomicJSONStorage(path, overlay=overlay)
        self.path = self.storage.path
        self.generation = -1
        self.table: dict[str, Any] = {}
        self.by_seq: dict[int, Event] = {}
        self.ids: dict[str, int] = {}
        self.seqs: list[int] = []
        self._docs: dict[int, object] = {}  # seq -> the document its Event was parsed from
        self._primed: dict[int, tuple[object, Event]] = {}

    def refresh(self) -> bool:
        """Bring the index up to date (raises CorruptFileError); False when there is no file."""
        data = self.storage.peek()
        if self.storage.generation == self.generation:
            return data is not None
        table = {} if data is None else data.get(TABLE, {})
        by_seq: dict[int, Event] = {}
        docs: dict[int, object] = {}
        for doc_id, doc in table.items():
            seq = int(doc_id) if doc_id.isdigit() else -1
            known = self.by_seq.get(seq)
            if known is not None and self._docs.get(seq) is doc:
                by_seq[seq], docs[seq] = known, doc
                continue
            primed = self._primed.get(seq)
            if primed is not None and primed[0] is doc:
                by_seq[seq], docs[seq] = primed[1], doc
                continue
            seq, event = _event_from_doc(self.path, doc_id, doc)
            by_seq[seq], docs[seq] = event, doc
        self.table, self.by_seq, self._docs = table, by_seq, docs
        self.ids = {event.event_id: seq for seq, event in by_seq.items()}
        self.seqs = sorted(by_seq)
        self._primed = {}
        self.generation = self.storage.generation
        return data is not None

    def write(self, table: dict[str, Any], events: list[Event] | tuple[()] = ()) -> bool:
        """Replace the part with ``table``; ``events`` are the Event objects of new documents.

        True when the write only appended ``events`` to what this object knew (the index was
        extended in place); False when it had to be rebuilt.
        """
        was_current = self.generation == self.storage.generation
        self._primed = {ev.seq: (table[str(ev.seq)], ev) for ev in events if ev.seq is not None}
        self.storage.write({TABLE: table})
        added = [ev for ev in events if ev.seq is not None]
        if (
            was_current
            and len(table) == len(self.table) + len(added)
            and all(str(ev.seq) not in self.table for ev in added)
            and (not self.seqs or not added or added[0].seq > self.seqs[-1])  # type: ignore[operator]
        ):
            # appended to what we knew: extend the index instead of rebuilding it
            self.table = table
            for ev in added:
                seq = ev.seq or 0
                self.by_seq[seq] = ev
                self._docs[seq] = table[str(seq)]
                self.ids[ev.event_id] = seq
                self.seqs.append(seq)
            self._primed = {}
            self.generation = self.storage.generation
            return True
        self.refresh()
        return False

    def close(self) -> None:
        self.storage.close()


class DayJournal:
    """All the events filed under one kiosk-local day."""

    def __init__(
        self, layout: Layout, day: date, per_part: int, overlay: Overlay | None = None
    ) -> None:
        self.layout = layout
        self.day = day
        self.per_part = per_part
        self.overlay = overlay
        self._stem = os.path.join(os.fspath(layout.events), day.isoformat())
        self.parts: list[JournalPart] = []
        #: Set by the store: the call during which this day was last brought up to date.
        self.fresh_for: int = -1
        self._signature: tuple[int, ...] = ()
        # attendances replayed so far, incrementally
        self._upto = 0  # highest seq replayed
        self._tail: dict[int, str] = {}  # seq -> event_id replayed from the last part
        self._attendances: dict[str, Attendance] = {}
        self._by_session: dict[str, dict[str, Attendance]] = {}
        #: Attendance events that could not be read (kept on disk, reported by the store).
        self.unreadable: list[str] = []

    # -- reading -------------------------------------------------------------------------------
    def refresh(self, everything: bool = False) -> None:
        """Catch up with the files (raises CorruptFileError).

        Only the last part and a possible next one are looked at: a part is sealed once the
        next one exists and is never rewritten after that (quarantine, the one exception,
        drops this cache). ``everything`` checks every part all the same.
        """
        index = 0 if everything or not self.parts else len(self.parts) - 1
        while True:
            if index < len(self.parts):
                part = self.parts[index]
            else:
                path = self._part_path(index)
                if not os.path.exists(path):
                    break
                part = JournalPart(path, self.overlay)
                self.parts.append(part)
            if not part.refresh():
                for gone in self.parts[index:]:
                    gone.close()
                del self.parts[index:]
                if index > 0 and not everything:
                    index -= 1  # the last part went (an undone record): look at the one before
                    continue
                break
            index += 1
        self._reindex()

    def _part_path(self, index: int) -> str:
        """``events/2026-11-23.json``, ``events/2026-11-23.1.json``... (as layout.part_name)."""
        return f"{self._stem}.json" if index == 0 else f"{self._stem}.{index}.json"

    def _reindex(self) -> None:
        """Catch up with the parts as this object knows them (no disk access)."""
        signature = tuple(p.generation for p in self.parts)
        if signature != self._signature:
            self._replay(self._signature, signature)
            self._signature = signature

    def _replay(self, old: tuple[int, ...], new: tuple[int, ...]) -> None:
        """Bring the attendances up to date: only the new events when the rest is as it was."""
        last = len(old) - 1
        fresh: list[Event] | None = None
        if last >= 0 and len(new) >= len(old) and old[:last] == new[:last]:
            part = self.parts[last]
            if all(part.ids.get(event_id) == seq for seq, event_id in self._tail.items()):
                fresh = [part.by_seq[s] for s in part.seqs if s not in self._tail]
                fresh += [p.by_seq[s] for p in self.parts[last + 1 :] for s in p.seqs]
                if any((e.seq or 0) <= self._upto for e in fresh):
                    fresh = None  # something was inserted below what was replayed: start again
        if fresh is None:
            self._upto = 0
            self._attendances, self._by_session, self.unreadable = {}, {}, []
            fresh = self.events()
        fresh.sort(key=lambda e: e.seq or 0)
        for event in fresh:
            self._apply_attendance(event)
            self._upto = max(self._upto, event.seq or 0)
        tail = self.parts[-1] if self.parts else None
        self._tail = {} if tail is None else {s: tail.by_seq[s].event_id for s in tail.seqs}

    def _apply_attendance(self, event: Event) -> None:
        """The step of ``kiosk.domain.attendance.replay_attendances``, one event at a time."""
        try:
            if event.type == "attendance.recorded" and event.event_id not in self._attendances:
                att = attendance_from_event(event)
            elif event.type == "attendance.amended":
                target = self._attendances.get(event.data["attendance_id"])
                if target is None:
                    return
                att = amended(target, event.data)
            else:
                return
        except (KeyError, TypeError, ValueError, KioskError) as exc:
            self.unreadable.append(
                f"event {event.event_id} (seq {event.seq}) on {self.day}: "
                f"{type(exc).__name__}: {exc}"
            )
            return
        self._attendances[att.attendance_id] = att
        self._by_session.setdefault(att.session_key, {})[att.attendance_id] = att

    def get(self, event_id: str) -> Event | None:
        for part in reversed(self.parts):
            seq = part.ids.get(event_id)
            if seq is not None:
                return part.by_seq[seq]
        return None

    def max_seq(self) -> int:
        for part in reversed(self.parts):
            if part.seqs:
                return part.seqs[-1]
        return 0

    def seqs(self) -> list[int]:
        return [s for part in self.parts for s in part.seqs]

    def events(self) -> list[Event]:
        return [part.by_seq[s] for part in self.parts for s in part.seqs]

    def events_between(self, low: int, high: int) -> list[Event]:
        """Events with ``low <= seq <= high``, in seq order."""
        out: list[Event] = []
        for part in self.parts:
            seqs = part.seqs
            if not seqs or seqs[-1] < low or seqs[0] > high:
                continue
            lo = bisect.bisect_left(seqs, low)
            hi = bisect.bisect_right(seqs, high)
            out.extend(part.by_seq[s] for s in seqs[lo:hi])
        out.sort(key=lambda e: e.seq or 0)
        return out

    def attendances_in(self, session_key: str) -> list[Attendance]:
        return list(self._by_session.get(session_key, {}).values())

    def __len__(self) -> int:
        return sum(len(part.seqs) for part in self.parts)

    # -- writing -------------------------------------------------------------------------------
    def append(self, events: list[Event]) -> str:
        """Add ``events`` (with seq numbers, all filed under this day) in one atomic write.

        The day must be up to date (``refresh``). One record never splits across parts.
        Returns the path written.
        """
        in_step = self._signature == tuple(p.generation for p in self.parts)
        last = self.parts[-1] if self.parts else None
        if last is None or len(last.table) >= self.per_part:
            last = JournalPart(self._part_path(len(self.parts)), self.overlay)
            last.refresh()
            self.parts.append(last)
            self._tail = {}
        table = dict(last.table)
        for event in events:
            table[str(event.seq)] = event.to_dict()
        extended = False
        try:
            extended = last.write(table, events)
        finally:
            if in_step and extended and all((e.seq or 0) > self._upto for e in events):
                for event in events:  # what _replay would do, without looking at the rest
                    self._apply_attendance(event)
                    self._upto = event.seq or 0
                    self._tail[self._upto] = event.event_id
                self._signature = tuple(p.generation for p in self.parts)
            else:
                self._reindex()
        return last.path

    def remove_range(self, low: int, high: int) -> int:
        """Take out events with ``low <= seq <= high`` (undoing a record cut short); how many."""
        self.refresh(everything=True)
        removed = 0
        for index in range(len(self.parts) - 1, -1, -1):
            part = self.parts[index]
            keep = {k: v for k, v in part.table.items() if not low <= int(k) <= high}
            if len(keep) == len(part.table):
                continue
            removed += len(part.table) - len(keep)
            if not keep and index == len(self.parts) - 1:
                part.storage.remove()
                part.close()
                self.parts.pop()
            else:
                part.write(keep)
        self.refresh()
        return removed

    def close(self) -> None:
        for part in self.parts:
            part.close()
        self.parts = []
        self._signature = ()
        self.fresh_for = -1
