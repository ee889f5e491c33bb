"""LocalStore: the kiosk's store, JSON-file journals written through TinyDB's Storage seam.

The store is a folder of small JSON files (``kiosk.store.layout`` shows them): day journals of
events (``events/<day>.<part>.json``), projections of families and cards, the outbox, seq
history, the timetable and the risk list versions. Each file is a TinyDB-shaped document
(``{"table": {"1": {...}}}``) read and written through ``AtomicJSONStorage``, a TinyDB
``Storage`` (``kiosk.store.durable``) that replaces the file atomically (temporary file, fsync,
rename, fsync of the folder), so a power cut leaves each file whole, old or new. TinyDB's query
engine is not used: the store reads and writes whole documents through that one seam. The
folder's file lock (``.lock``) lets the app, the sync daemon and ``kiosk-admin`` use the store at
once. ``kiosk.store.state`` explains how seq numbers stay gap-free without a counter file
written on every tap.

A tap (one ``attendance.recorded`` event) costs one atomic rewrite of a small file: the last
part of the session's day. Registrations and card changes also rewrite the projections
(``state/families.json``, ``state/cards.json``) under an intent noted in ``seq.json`` first, so a
crash between the journal and the projections is repaired when the store is next used.

A file that cannot be read is moved to ``quarantine/`` with a note saying what was wrong, the
store carries on without it, and ``problems()`` reports it; nothing is deleted.

Commands that only look open it with ``read_only=True``: they never write (a full disk, a
read-only mount), and make the repairs above in memory only (``kiosk.store.overlay``).

``LocalStore`` is a facade: each job is a piece in its own module, and every piece receives the
one ``kiosk.store.core.StoreCore`` (the files, the lock, the journals) and uses only its public
names: ``outbox``, ``seqs``, ``prune``, ``rehome``, ``roster`` (with ``erasure``),
``risk_versions``, ``quarantine`` and ``repair``.

    >>> store = LocalStore("/var/lib/doorstep")                         # doctest: +SKIP
    >>> desk = DoorDesk(store, DeviceIdentity("kiosk-1", "site-1"))      # doctest: +SKIP
    >>> desk.tap("04A23B1C", at=datetime.now(UTC)).kind                 # doctest: +SKIP
    'welcome'
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.domain.attendance import Attendance, replay_attendances
from kiosk.domain.errors import KioskError, ValidationError
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.domain.families import Card, Family
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList, RiskSource
from kiosk.domain.timetable import Timetable
from kiosk.store.core import JOURNAL_CACHE, StoreCore
from kiosk.store.errors import CorruptFileError
from kiosk.store.history import SeqHistory
from kiosk.store.layout import (
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TZ,
    EVENTS_PER_PART,
    LOCK_TIMEOUT_SECONDS,
    Layout,
)
from kiosk.store.outbox import ID_HINTS, Outbox
from kiosk.store.prune import Pruner
from kiosk.store.quarantine import Quarantine
from kiosk.store.rehome import Rehomed, Rehoming
from kiosk.store.repair import Repair
from kiosk.store.risk_versions import RiskVersions
from kiosk.store.roster import Roster
from kiosk.store.seqs import SeqInventory, Seqs

__all__ = ["ID_HINTS", "JOURNAL_CACHE", "LocalStore", "Rehomed", "SeqInventory"]


class LocalStore:
    """The kiosk's store: events (journal and outbox), families, cards, timetable, risk lists.

    Implements ``kiosk.domain.ports.DoorStore``. Safe to use from several threads and, through
    the folder's lock, from several processes at once.

    ``read_only=True`` is for commands that only look (``kiosk-admin status``, ``doctor``,
    ``export``, the lists): nothing in the data folder is created, changed, moved or removed,
    so they work on a full disk or a read-only mount. Repairs a writer would make on the way
    (finishing a write cut short, setting an unreadable file aside) are made in memory only
    (``kiosk.store.overlay``), so the answers are those the next writer will give, and
    ``problems()`` says what is still to be done on disk. Methods that change the store raise
    :class:`StoreReadOnlyError`.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        retention_days: int = DEFAULT_RETENTION_DAYS,
        tz: ZoneInfo = DEFAULT_TZ,
        *,
        lock_timeout: float = LOCK_TIMEOUT_SECONDS,
        events_per_part: int = EVENTS_PER_PART,
        read_only: bool = False,
    ) -> None:
        if isinstance(retention_days, bool) or not isinstance(retention_days, int):
            raise ValidationError(f"retention_days must be a whole number, not {retention_days!r}")
        if retention_days < 1:
            raise ValidationError(f"retention_days must be 1 or more, not {retention_days}")
        if events_per_part < 1:
            raise ValidationError(f"events_per_part must be 1 or more, not {events_per_part}")
        self.layout = Layout(data_dir)
        #: The data folder.
        self.data_dir = self.layout.root
        self.retention_days = retention_days
        self.tz = tz
        self.events_per_part = events_per_part
        #: Opened for reading only: nothing is ever written (see the class's docstring).
        self.read_only = read_only
        self._core = core = StoreCore(
            self.layout, retention_days, tz, lock_timeout, events_per_part, read_only
        )
        core.quarantine = self._quarantine = Quarantine(core)
        core.repair = Repair(core)
        self._outbox = Outbox(core)
        self._seqs = Seqs(core)
        self._pruner = Pruner(core, self._seqs)
        self._rehoming = Rehoming(core, self._outbox)
        self._roster = Roster(core)
        self._risk = RiskVersions(core)
        self._timetable_cache: tuple[int, Timetable] | None = None
        try:
            with core.locked():
                core.repair.open()
                self.timetable()
                self._risk.check()
        except BaseException:
            self.close()
            raise
        core.opening = False

    # == DoorStore ===============================================================================
    def record(self, events: Sequence[Event]) -> list[Event]:
        """Write ``events`` durably, all or none, and return them with their seq numbers.

        An event whose ``event_id`` is already stored is not written again: the stored one is
        returned. If this raises, the events may or may not have been stored; recording them
        again is safe.
        """
        self._core.must_write("record")
        batch = list(events)
        for event in batch:
            if not isinstance(event, Event):
                raise ValidationError(f"record() takes events, not {type(event).__name__}")
        if not batch:
            return []
        with self._core.locked():
            highest = self._core.highest()
            results: list[Event] = []
            fresh: list[tuple[Event, date]] = []
            seen: dict[str, Event] = {}
            for event in batch:
                if event.event_id in seen:
                    results.append(seen[event.event_id])
                    continue
                day = self._core.day_of(event)
                stored = self._core.journal(day).get(event.event_id)
                if stored is None:
                    stored = event.with_seq(highest + len(fresh) + 1)
                    fresh.append((stored, day))
                seen[event.event_id] = stored
                results.append(stored)
            if fresh:
                self._core.commit(fresh, highest)
            return results

    def family(self, family_id: str) -> Family | None:
        return self._core.read_projection(self._core.families, lambda p: p.get(family_id))

    def families(self) -> list[Family]:
        return self._core.read_projection(self._core.families, lambda p: p.all())

    def card(self, uid: str) -> Card | None:
        return self._core.read_projection(self._core.cards, lambda p: p.get(uid))

    def attendances_in(self, session_key: str) -> list[Attendance]:
        """The attendances at one session (``YYYY-MM-DD/slot_id``), amendments applied."""
        try:
            day = date.fromisoformat(session_key[:10])
        except (TypeError, ValueError):
            raise ValidationError(
                f"session key {session_key!r} must start with a date, like 2026-11-23/stay-play"
            ) from None
        with self._core.mutex:
            self._core.ensure_open()
            self._core.call += 1
            return self._core.journal(day).attendances_in(session_key)

    def risk_list(self) -> RiskList:
        """The risk list in force (``RiskList()``, version ``v0-none``, when none was imported)."""
        return self._risk.risk_list()

    def timetable(self) -> Timetable:
        with self._core.mutex:
            self._core.ensure_open()
            try:
                return self._read_timetable()
            except CorruptFileError as exc:
                with self._core.locked():
                    self._core.quarantine.set_aside(
                        self._core.timetable_file,
                        exc.reason,
                        "The kiosk has no sessions until an admin adds them again.",
                    )
                return Timetable()

    def save_timetable(self, timetable: Timetable) -> None:
        self._core.must_write("save_timetable")
        slots = {str(i): slot.to_dict() for i, slot in enumerate(timetable.slots, start=1)}
        with self._core.locked():
            self._core.timetable_file.write({"slots": slots})

    # == risk versions (kiosk.store.risk_versions) ===============================================
    def save_risk_list(
        self,
        areas: frozenset[RiskArea],
        source: str,
        at: datetime,
        *,
        rule: str = "",
        sources: Sequence[RiskSource] = (),
        number: int | None = None,
    ) -> RiskList:
        """Store a new version (last number + 1) and put it in force; old versions are kept.

        The whole story: :meth:`kiosk.store.risk_versions.RiskVersions.save_risk_list`."""
        return self._risk.save_risk_list(
            areas, source, at, rule=rule, sources=sources, number=number
        )

    def risk_history(self) -> list[RiskList]:
        """Every stored version, oldest first."""
        return self._risk.risk_history()

    # == history and export ======================================================================
    def events(self, since: date | None = None, until: date | None = None) -> Iterator[Event]:
        """Kept events filed under days from ``since`` to ``until`` (inclusive), in seq order."""
        with self._core.locked():
            state = self._core.seq_state()
            ranges = state.ranges(self._core.highest())
        for start, end, day in ranges:
            if day is None or (since and day < since) or (until and day > until):
                continue
            with self._core.mutex:
                self._core.ensure_open()
                self._core.call += 1
                chunk = self._core.journal(day).events_between(start, end)
            yield from chunk

    def attendances(self, since: date | None = None, until: date | None = None) -> list[Attendance]:
        """Attendances at sessions from ``since`` to ``until``, amendments applied."""
        events = (e for e in self.events(since, until) if e.type.startswith("attendance."))
        return list(replay_attendances(events).values())

    # == outbox (kiosk.store.outbox) =============================================================
    def pending(self, limit: int) -> list[Event]:
        """Up to ``limit`` events not yet acknowledged nor rejected, lowest seq first."""
        return self._outbox.pending(limit)

    def mark_sent(self, event_ids: Iterable[str], at: datetime | None = None) -> None:
        """The server holds these events (accepted or duplicate): take them out of the outbox.

        The whole story: :meth:`kiosk.store.outbox.Outbox.mark_sent`."""
        return self._outbox.mark_sent(event_ids, at)

    def mark_rejected(self, event_id: str, reason: str, kind: str = "refused") -> None:
        """The server refused this event: keep it aside with the reason, out of the outbox.

        The whole story: :meth:`kiosk.store.outbox.Outbox.mark_rejected`."""
        return self._outbox.mark_rejected(event_id, reason, kind)

    def rejected(self) -> list[dict]:
        """Events the server rejected, oldest first: ``{"event": {...}, "reason", "at"}``."""
        return self._outbox.rejected()

    def keep_server_copy(self, event_ids: Iterable[str]) -> list[str]:
        """Events in conflict (the server holds another copy under the same id) that the admin
        compared and settled in the server's favour: the server holds an event by that id, so they
        are no longer kept aside here. Returns the ids settled.

        The whole story: :meth:`kiosk.store.outbox.Outbox.keep_server_copy`."""
        return self._outbox.keep_server_copy(event_ids)

    def waiting_count(self) -> int:
        """How many events wait to be sent (cheap: two counters and the highest seq)."""
        return self._outbox.waiting_count()

    def oldest_waiting(self) -> Event | None:
        found = self.pending(1)
        return found[0] if found else None

    def requeue_from(self, seq: int) -> int:
        """Send again every kept event from ``seq`` on (the server lost them, e.g. restored from a
        backup); rejected events stay aside. Returns how many now wait.

        The whole story: :meth:`kiosk.store.outbox.Outbox.requeue_from`."""
        return self._outbox.requeue_from(seq)

    def retry_rejected(self, event_ids: Iterable[str] | None = None) -> list[str]:
        """Put refused events back in the outbox, to be sent again (all of them, or those named):
        for after the cause was put right (a family registered on the server, a device enrolled at
        the right site). Events no longer kept here stay aside. Returns the ids put back.

        The whole story: :meth:`kiosk.store.outbox.Outbox.retry_rejected`."""
        return self._outbox.retry_rejected(event_ids)

    def sync_state(self) -> dict:
        """The sync daemon's notes (last success, last error, roster cursor...)."""
        return self._outbox.sync_state()

    def update_sync_state(self, **changes: Any) -> None:
        """Change some of the sync daemon's notes (datetimes are stored as ISO text)."""
        self._outbox.update_sync_state(**changes)

    # == identity: every event of this store is the enrolled device's ============================
    def rehome(self, identity: DeviceIdentity, at: datetime | None = None) -> Rehomed:
        """Give every event not yet held by the server this kiosk's enrolled ``identity``.

        The whole story: :meth:`kiosk.store.rehome.Rehoming.rehome`."""
        return self._rehoming.rehome(identity, at)

    def highest_seq(self) -> int:
        """The highest seq given so far (0 for a new store)."""
        with self._core.locked():
            return self._core.highest()

    # == seq history and recovery (kiosk.store.seqs) =============================================
    def delivered_through(self) -> int:
        """Every seq up to this one is held by the server as far as this kiosk knows (acknowledged,
        set aside, or given out before this store): what the server's ``holds_up_to`` is checked
        against after it was restored from a backup.

        The whole story: :meth:`kiosk.store.seqs.Seqs.delivered_through`."""
        return self._seqs.delivered_through()

    def seq_history(self) -> SeqHistory:
        """What became of seqs no longer kept here: pruned days and seq floors."""
        return self._seqs.seq_history()

    def merge_seq_history(self, other: SeqHistory) -> None:
        """Add what another copy of this store knew of pruned seqs (a backup restore)."""
        return self._seqs.merge_seq_history(other)

    def seq_floor(self) -> int:
        """The highest seq given out before this store existed (0 if it never started again)."""
        return self.seq_history().floor

    def raise_seq_floor(self, seq: int, why: str, at: datetime | None = None) -> int:
        """Number new events above ``seq``: seqs up to it were given out before this store (a new SD
        card, a restored backup), so they are never used again here and are not this store's to
        send. Noted in ``history.json``. Returns the highest seq in use.

        The whole story: :meth:`kiosk.store.seqs.Seqs.raise_seq_floor`."""
        return self._seqs.raise_seq_floor(seq, why, at)

    def adopt_events(self, events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
        """Write events that carry seqs this device gave them (from another copy of this store: a
        backup is restored over newer events) under those same seqs.

        The whole story: :meth:`kiosk.store.seqs.Seqs.adopt_events`."""
        return self._seqs.adopt_events(events)

    def seq_inventory(self, low: int, high: int) -> SeqInventory:
        """What this kiosk has of seqs ``low``..``high``: kept (can be sent again), set aside as
        rejected, and lost (pruned, before this store, unreadable) with their sessions.

        The whole story: :meth:`kiosk.store.seqs.Seqs.seq_inventory`."""
        return self._seqs.seq_inventory(low, high)

    # == roster (kiosk.store.roster, kiosk.store.erasure) ========================================
    def apply_remote(self, events: Sequence[Event]) -> int:
        """Apply roster events from other kiosks to families and cards; how many changed something.

        The whole story: :meth:`kiosk.store.roster.Roster.apply_remote`."""
        return self._roster.apply_remote(events)

    def apply_erasures(self, notices: Sequence[Mapping[str, Any]]) -> int:
        """Remove families erased on the server (roster erasure notices) from this
        store: record, cards, and the personal fields of every kept event about them (seqs,
        ids and attendances stay; see ``kiosk.store.erasure``). How many families were here.
        """
        return self._roster.apply_erasures(notices)

    # == housekeeping ============================================================================
    def prune(self, now: datetime) -> int:
        """Drop days older than the retention window whose events are all acknowledged (or rejected,
        which are kept in rejected.json). Returns how many events were dropped.

        The whole story: :meth:`kiosk.store.prune.Pruner.prune`."""
        return self._pruner.prune(now)

    def problems(self) -> list[str]:
        """What is wrong with the data folder, in plain words (quarantined files and the like)."""
        return self._quarantine.problems()

    def size_bytes(self) -> int:
        """How much disk the data folder takes."""
        total = 0
        for folder, _, files in os.walk(self._core.layout.root):
            for name in files:
                with suppress(FileNotFoundError):
                    total += os.stat(os.path.join(folder, name)).st_size
        return total

    def close(self) -> None:
        """Release file handles and caches; safe to call twice."""
        with self._core.mutex:
            if self._core.closed:
                return
            self._core.closed = True
            self._core.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.layout.root)!r})"

    # == timetable ===============================================================================
    def _read_timetable(self) -> Timetable:
        data = self._core.timetable_file.peek()
        cached = self._timetable_cache
        if cached is not None and cached[0] == self._core.timetable_file.generation:
            return cached[1]
        slots = (data or {}).get("slots", {})
        try:
            ordered = [slots[k] for k in sorted(slots, key=int)]
            timetable = Timetable.from_list(ordered)
        except (KeyError, TypeError, ValueError, KioskError) as exc:
            raise CorruptFileError(
                self._core.timetable_file.path, f"a session cannot be read ({exc})"
            ) from None
        self._timetable_cache = (self._core.timetable_file.generation, timetable)
        return timetable
