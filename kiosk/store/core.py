"""The store's internal API: what every piece of ``LocalStore`` shares (one object, ``StoreCore``).

``LocalStore`` (``kiosk.store.local``) is a facade over pieces with one job each: the outbox
(``kiosk.store.outbox``), seq history (``kiosk.store.seqs``), pruning (``kiosk.store.prune``),
re-homing (``kiosk.store.rehome``), the roster (``kiosk.store.roster``, ``kiosk.store.erasure``),
risk versions (``kiosk.store.risk_versions``), setting unreadable files aside
(``kiosk.store.quarantine``) and repairs at open (``kiosk.store.repair``). Each piece is handed the
one ``StoreCore`` and uses only its public names, listed here; no piece reaches into another's
``_private`` members.

What the core holds:

- the configuration (``layout``, ``tz``, ``retention_days``, ``events_per_part``, ``read_only``,
  ``overlay``);
- the lock: ``locked()`` holds this object's mutex and the folder's file lock, and finishes a
  write cut short first; ``ensure_open()`` and ``must_write()`` refuse a closed or read-only store;
- the JSON files, each a TinyDB-shaped document written through ``AtomicJSONStorage`` (TinyDB's
  Storage seam: ``read``/``write``/``close``, plus atomic replace): ``seq_file``, ``sync_file``,
  ``rejected_file``, ``timetable_file``, ``risk_current_file``, ``history_file``, and the two
  projections ``families`` and ``cards``;
- the day journals (``journal(day)``, a small cache, brought up to date once per store call
  ``call``), ``part_files()``, ``day_of(event)``, ``highest()`` and ``commit()``, which writes
  new events under an intent noted in ``seq.json``;
- readers and writers of the small state files (``seq_state``/``write_seq``,
  ``outbox_state``/``write_outbox``, ``sync_tables``/``update_sync_notes``,
  ``rejected_table``/``write_rejected``), which set an unreadable file aside and rebuild it;
- ``quarantine`` and ``repair``: the two pieces the core itself calls when a file reads badly.

Every method that reads or writes files expects the caller to hold ``locked()`` (or, for a
read, the mutex), as ``LocalStore``'s public methods do.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk.domain.events import Event
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError, StoreError, StoreReadOnlyError
from kiosk.store.journal import DayJournal
from kiosk.store.layout import LOCK_POLL_SECONDS, Layout, parse_part_name
from kiosk.store.lock import FolderLock
from kiosk.store.overlay import Overlay
from kiosk.store.projections import (
    Projection,
    cards_projection,
    families_projection,
    projections_of,
)
from kiosk.store.state import OutboxState, SeqState

if TYPE_CHECKING:
    from kiosk.store.quarantine import Quarantine
    from kiosk.store.repair import Repair

#: Day journals kept open (and cached) at once.
JOURNAL_CACHE = 16


def iso(at: datetime) -> str:
    """``at`` as UTC ISO text ending in ``Z``, as the store writes times."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def json_value(value: Any) -> Any:
    """A value as JSON holds it (dates and datetimes as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def filing_day(event: Event, tz: ZoneInfo) -> date:
    """The day an event is filed under: an attendance event its session's date, any other the
    local day (in ``tz``) it happened."""
    data = event.data
    try:
        if event.type == "attendance.recorded":
            return date.fromisoformat(data["session"]["date"])
        if event.type == "attendance.amended":
            return date.fromisoformat(str(data["session_key"])[:10])
    except (KeyError, TypeError, ValueError):
        pass
    return event.at.astimezone(tz).date()


def names_in(folder: Path) -> list[str]:
    """The names in ``folder``; none when a read-only store's folder was never created."""
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


class StoreCore:
    """The files, lock and caches every piece of a ``LocalStore`` shares (see the module)."""

    quarantine: Quarantine
    repair: Repair

    def __init__(
        self,
        layout: Layout,
        retention_days: int,
        tz: ZoneInfo,
        lock_timeout: float,
        events_per_part: int,
        read_only: bool,
    ) -> None:
        self.layout = layout
        self.retention_days = retention_days
        self.tz = tz
        self.events_per_part = events_per_part
        self.read_only = read_only
        #: Read-only: the repairs a writer would make, in memory only (``kiosk.store.overlay``).
        self.overlay = Overlay() if read_only else None
        ov = self.overlay
        if not read_only:
            for folder in layout.folders():
                folder.mkdir(parents=True, exist_ok=True)
        self.mutex = threading.RLock()
        self.depth = 0
        self.flock = FolderLock(layout.lock, lock_timeout, LOCK_POLL_SECONDS, read_only=read_only)
        self.seq_file = AtomicJSONStorage(layout.seq, overlay=ov)
        self.sync_file = AtomicJSONStorage(layout.sync, overlay=ov)
        self.rejected_file = AtomicJSONStorage(layout.rejected, overlay=ov)
        self.timetable_file = AtomicJSONStorage(layout.timetable, overlay=ov)
        self.risk_current_file = AtomicJSONStorage(layout.risk_current, overlay=ov)
        self.history_file = AtomicJSONStorage(layout.history, overlay=ov)
        self.families = families_projection(layout.families, ov)
        self.cards = cards_projection(layout.cards, ov)
        self.journals: OrderedDict[date, DayJournal] = OrderedDict()
        self._seq_cache: tuple[int, SeqState] | None = None
        self._outbox_cache: tuple[int, OutboxState] | None = None
        #: Plain-words notes for ``problems()`` (repairs a read-only store could not make).
        self.notes: list[str] = []
        self.call = 0  # counts store calls: each day is re-read at most once per call
        self.closed = False
        #: True while the store opens: an unreadable state file is then the opener's to handle.
        self.opening = True

    # == locking =================================================================================
    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock (and this object's mutex); finish any interrupted write first."""
        with self.mutex:
            self.ensure_open()
            if self.depth == 0:
                self.call += 1
                self.flock.acquire()
            self.depth += 1
            try:
                if self.depth == 1 and not self.opening:
                    self.repair.recover_intent()
                yield
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.flock.release()

    def ensure_open(self) -> None:
        if self.closed:
            raise StoreError(f"the store at {self.layout.root} is closed")

    def must_write(self, what: str) -> None:
        """Refuse a change to a store opened read-only (it would only reach the overlay)."""
        if self.read_only:
            raise StoreReadOnlyError(
                f"the store at {self.layout.root} was opened read-only, to look at it: "
                f"{what} would change it (open it without read_only to change it)"
            )

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def day_of(self, event: Event) -> date:
        return filing_day(event, self.tz)

    def journal(self, day: date) -> DayJournal:
        """The day's events, brought up to date once per store call.

        Within a call that holds the lock nobody else can change the files, and this store's
        own writes update the journal as they go; a call without the lock reads a snapshot.
        """
        journal = self.journals.get(day)
        if journal is None:
            journal = DayJournal(self.layout, day, self.events_per_part, self.overlay)
            self.journals[day] = journal
            while len(self.journals) > JOURNAL_CACHE:
                _, old = self.journals.popitem(last=False)
                old.close()
        elif journal.fresh_for == self.call:
            return journal
        else:
            self.journals.move_to_end(day)
        for _ in range(64):
            try:
                journal.refresh()
                journal.fresh_for = self.call
                return journal
            except CorruptFileError as exc:
                self.quarantine.day_part(Path(exc.path), exc.reason)
                if day not in self.journals:
                    self.journals[day] = DayJournal(
                        self.layout, day, self.events_per_part, self.overlay
                    )
                journal = self.journals[day]
        raise StoreError(f"the events of {day} could not be read even after quarantine")

    def part_files(self) -> list[tuple[date, Path]]:
        out = []
        for name in names_in(self.layout.events):
            parsed = parse_part_name(name)
            if parsed is not None:
                out.append((parsed[0], self.layout.events / name))
        return sorted(out)

    def highest(self) -> int:
        """The highest seq in use (see kiosk.store.state)."""
        state = self.seq_state()
        if not state.runs:
            return state.high_water
        start, day = state.runs[-1]
        if day is None:
            return max(state.high_water, start - 1)
        top = self.journal(day).max_seq()
        return max(state.high_water, top if top >= start else start - 1)

    def commit(self, fresh: list[tuple[Event, date]], highest: int) -> None:
        state = self.seq_state()
        runs = list(state.runs)
        if runs and runs[-1][1] is not None and self.journal(runs[-1][1]).max_seq() < runs[-1][0]:
            runs.pop()  # a run whose first event never got written (a crash in between)
        by_day: dict[date, list[Event]] = {}
        for event, day in fresh:
            if not runs or runs[-1][1] != day:
                runs.append((event.seq or 0, day))
            by_day.setdefault(day, []).append(event)
        events = [event for event, _ in fresh]
        names = projections_of(events)
        plans = {}
        for name in names:
            projection = self.projection_named(name)
            self.refresh_projection(projection)
            plans[name] = (projection, projection.plan(events, local=True)[0])
        low, high = events[0].seq or 0, events[-1].seq or 0
        spans = len(by_day) > 1 or bool(names)
        if spans or tuple(runs) != state.runs:
            intent = None
            if spans:
                intent = {
                    "from": low,
                    "to": high,
                    "days": [d.isoformat() for d in by_day],
                    "projections": names,
                }
            self.write_seq(SeqState(max(state.high_water, highest), tuple(runs), intent))
        for day, day_events in by_day.items():
            self.journal(day).append(day_events)
        for projection, changes in plans.values():
            projection.write(changes, applied_seq=high)
        if spans:
            self.write_seq(SeqState(high, tuple(runs), None))

    def seq_state(self) -> SeqState:
        try:
            data = self.seq_file.peek()
            cached = self._seq_cache
            if cached is not None and cached[0] == self.seq_file.generation:
                return cached[1]
            state = SeqState.from_tables(self.seq_file.path, data)
        except CorruptFileError as exc:
            if self.opening:
                raise
            self.quarantine.set_aside(self.seq_file, exc.reason, "Sequence numbers were rebuilt.")
            self.repair.rebuild_seq(self.repair.scan_all_days())
            return self.seq_state()
        self._seq_cache = (self.seq_file.generation, state)
        return state

    def write_seq(self, state: SeqState) -> None:
        self.seq_file.write({"seq": {"1": state.to_doc()}})

    def sync_tables(self) -> Mapping[str, Any]:
        try:
            return self.sync_file.peek() or {}
        except CorruptFileError as exc:
            if self.opening:
                raise
            with self.locked():
                self.quarantine.set_aside(self.sync_file, exc.reason, "The outbox was rebuilt.")
                self.repair.rebuild_outbox(self.repair.scan_all_days())
            return self.sync_file.peek() or {}

    def outbox_state(self) -> OutboxState:
        data = self.sync_tables()
        cached = self._outbox_cache
        if cached is not None and cached[0] == self.sync_file.generation:
            return cached[1]
        state = OutboxState.from_tables(self.sync_file.path, data)
        self._outbox_cache = (self.sync_file.generation, state)
        return state

    def write_outbox(self, state: OutboxState) -> None:
        tables = dict(self.sync_tables())
        tables["outbox"] = {"1": state.to_doc()}
        self.sync_file.write(tables)

    def update_sync_notes(self, changes: Mapping[str, Any]) -> None:
        tables = dict(self.sync_tables())
        notes = dict(tables.get("sync", {}).get("1", {}))
        for key, value in changes.items():
            notes[str(key)] = json_value(value)
        tables["sync"] = {"1": notes}
        tables.setdefault("outbox", {"1": self.outbox_state().to_doc()})
        self.sync_file.write(tables)

    def rejected_table(self) -> Mapping[str, Any]:
        try:
            data = self.rejected_file.peek() or {}
            table = data.get("rejected", {})
            for doc_id, doc in table.items():
                if not doc_id.isdigit() or not isinstance(doc.get("event"), dict):
                    raise CorruptFileError(
                        self.rejected_file.path, f"entry {doc_id} is not a rejected event"
                    )
            return table
        except CorruptFileError as exc:
            if self.opening:
                raise
            with self.locked():
                self.quarantine.set_aside(
                    self.rejected_file,
                    exc.reason,
                    "The list of rejected events starts again empty.",
                )
            return {}

    def refresh_projection(self, projection: Projection[Any]) -> None:
        try:
            projection.refresh()
        except CorruptFileError as exc:
            with self.locked():
                self.repair.rebuild_projection(projection, exc.reason)

    def read_projection(self, projection: Projection[Any], read: Any) -> Any:
        with self.mutex:
            self.ensure_open()
            try:
                projection.refresh()
                return read(projection)
            except CorruptFileError as exc:
                with self.locked():
                    self.repair.rebuild_projection(projection, exc.reason)
                return read(projection)

    def write_rejected(self, table: Mapping[str, Any]) -> None:
        """Replace the events set aside as rejected (``rejected.json``)."""
        self.rejected_file.write({"rejected": table})

    def projection_named(self, name: str) -> Projection[Any]:
        """The projection (families or cards) called ``name``."""
        return self.families if name == self.families.name else self.cards

    def forget_journal(self, day: date) -> None:
        """Drop the cached journal of ``day`` (its files were rewritten): it is read afresh."""
        journal = self.journals.pop(day, None)
        if journal is not None:
            journal.close()

    def close(self) -> None:
        """Release file handles and caches (the caller makes this happen once)."""
        for journal in self.journals.values():
            journal.close()
        self.journals.clear()
        for storage in (
            self.seq_file,
            self.sync_file,
            self.rejected_file,
            self.timetable_file,
            self.history_file,
        ):
            storage.close()
        self.risk_current_file.close()
        self.families.close()
        self.cards.close()
        self.flock.close()
