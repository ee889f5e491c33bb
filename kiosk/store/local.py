"""LocalStore: the kiosk's crash-safe TinyDB store and outbox (DESIGN.md, Storage on the kiosk).

Every file is a TinyDB database written through ``AtomicJSONStorage`` (temporary file, fsync,
rename, fsync of the folder), so a power cut leaves each file whole, old or new. The folder's
file lock (``.lock``) lets the app, the sync daemon and ``kiosk-admin`` use the store at once.
``kiosk.store.layout`` shows the files; ``kiosk.store.state`` explains how seq numbers stay
gap-free without a counter file written on every tap.

A tap (one ``attendance.recorded`` event) costs one atomic rewrite of a small file: the last
part of the session's day. Registrations and card changes also rewrite the projections
(``state/families.json``, ``state/cards.json``) under an intent noted in ``seq.json`` first, so a
crash between the journal and the projections is repaired when the store is next used.

A file that cannot be read is moved to ``quarantine/`` with a note saying what was wrong, the
store carries on without it, and ``problems()`` reports it; nothing is deleted.

Commands that only look open it with ``read_only=True``: they never write (a full disk, a
read-only mount), and make the repairs above in memory only (``kiosk.store.overlay``).

    >>> store = LocalStore("/var/lib/doorstep")                         # doctest: +SKIP
    >>> desk = DoorDesk(store, DeviceIdentity("kiosk-1", "site-1"))      # doctest: +SKIP
    >>> desk.tap("04A23B1C", at=datetime.now(UTC)).kind                 # doctest: +SKIP
    'welcome'
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.domain.attendance import Attendance, replay_attendances
from kiosk.domain.erasure import event_family, is_erased
from kiosk.domain.errors import KioskError, NotFoundError, ValidationError
from kiosk.domain.events import DeviceIdentity, Event, is_identity_refusal
from kiosk.domain.families import Card, Family
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList, RiskSource
from kiosk.domain.timetable import Timetable
from kiosk.store.atomic import atomic_write, fsync_dir, is_temp_name, temp_target, writer_gone
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError, StoreError, StoreReadOnlyError
from kiosk.store.history import LostSpan, SeqHistory, day_summary
from kiosk.store.journal import DayJournal, JournalPart
from kiosk.store.layout import (
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TZ,
    EVENTS_PER_PART,
    LOCK_POLL_SECONDS,
    LOCK_TIMEOUT_SECONDS,
    REASON_SUFFIX,
    RISK_DIR,
    Layout,
    parse_part_name,
    parse_risk_name,
)
from kiosk.store.lock import FolderLock
from kiosk.store.overlay import Overlay
from kiosk.store.projections import (
    PROJECTED_TYPES,
    Projection,
    cards_projection,
    families_projection,
    projections_of,
)
from kiosk.store.state import OutboxState, SeqState

#: Day journals kept open (and cached) at once.
JOURNAL_CACHE = 16
#: How many event ids ``pending()`` remembers so that ``mark_sent`` finds them at once.
ID_HINTS = 10_000

_SEQ_IN_RAW = re.compile(rb'"seq"\s*:\s*(\d+)')


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _names_in(folder: Path) -> list[str]:
    """The names in ``folder``; none when a read-only store's folder was never created."""
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _identity_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {"device_id": doc.get("device_id"), "site_id": doc.get("site_id")}


@dataclass(frozen=True)
class Rehomed:
    """What :meth:`LocalStore.rehome` did: events rewritten to the enrolled identity (waiting
    ones and refused ones), how many of those went back to the outbox, and the names they had."""

    device_id: str
    site_id: str
    rewritten: int
    requeued: int
    was: tuple[str, ...]

    def note(self, at: datetime) -> dict[str, Any]:
        return {
            "to": f"{self.device_id} at {self.site_id}",
            "from": list(self.was),
            "events": self.rewritten,
            "requeued": self.requeued,
            "at": _iso(at),
        }

    def describe(self) -> str:
        if not self.rewritten and not self.requeued:
            return "nothing to re-home"
        text = (
            f"{self.rewritten} event(s) recorded as {', '.join(self.was) or 'another identity'} "
            f"now belong to {self.device_id} at {self.site_id}"
        )
        if self.requeued:
            text += f" ({self.requeued} refused for their identity are sent again)"
        return text


@dataclass(frozen=True)
class SeqInventory:
    """What a store has of seqs ``low``..``high`` (:meth:`LocalStore.seq_inventory`)."""

    low: int
    high: int
    kept: tuple[int, ...]
    rejected: Mapping[int, str]
    lost: tuple[LostSpan, ...]


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
        self._overlay = Overlay() if read_only else None
        ov = self._overlay
        if not read_only:
            for folder in self.layout.folders():
                folder.mkdir(parents=True, exist_ok=True)
        self._mutex = threading.RLock()
        self._depth = 0
        self._flock = FolderLock(
            self.layout.lock, lock_timeout, LOCK_POLL_SECONDS, read_only=read_only
        )
        self._seq = AtomicJSONStorage(self.layout.seq, overlay=ov)
        self._sync = AtomicJSONStorage(self.layout.sync, overlay=ov)
        self._rejected = AtomicJSONStorage(self.layout.rejected, overlay=ov)
        self._timetable = AtomicJSONStorage(self.layout.timetable, overlay=ov)
        self._risk_current = AtomicJSONStorage(self.layout.risk_current, overlay=ov)
        self._history = AtomicJSONStorage(self.layout.history, overlay=ov)
        self._families = families_projection(self.layout.families, ov)
        self._cards = cards_projection(self.layout.cards, ov)
        self._journals: OrderedDict[date, DayJournal] = OrderedDict()
        self._seq_cache: tuple[int, SeqState] | None = None
        self._outbox_cache: tuple[int, OutboxState] | None = None
        self._timetable_cache: tuple[int, Timetable] | None = None
        self._risk_versions: dict[int, RiskList] = {}
        self._id_hints: dict[str, tuple[int, date]] = {}
        self._notes: list[str] = []
        self._call = 0  # counts store calls: each day is re-read at most once per call
        self._closed = False
        self._opening = True
        try:
            with self._locked():
                self._open()
        except BaseException:
            self.close()
            raise
        self._opening = False

    # == DoorStore ===============================================================================
    def record(self, events: Sequence[Event]) -> list[Event]:
        """Write ``events`` durably, all or none, and return them with their seq numbers.

        An event whose ``event_id`` is already stored is not written again: the stored one is
        returned. If this raises, the events may or may not have been stored; recording them
        again is safe.
        """
        self._must_write("record")
        batch = list(events)
        for event in batch:
            if not isinstance(event, Event):
                raise ValidationError(f"record() takes events, not {type(event).__name__}")
        if not batch:
            return []
        with self._locked():
            highest = self._highest()
            results: list[Event] = []
            fresh: list[tuple[Event, date]] = []
            seen: dict[str, Event] = {}
            for event in batch:
                if event.event_id in seen:
                    results.append(seen[event.event_id])
                    continue
                day = self._day_of(event)
                stored = self._journal(day).get(event.event_id)
                if stored is None:
                    stored = event.with_seq(highest + len(fresh) + 1)
                    fresh.append((stored, day))
                seen[event.event_id] = stored
                results.append(stored)
            if fresh:
                self._commit(fresh, highest)
            return results

    def family(self, family_id: str) -> Family | None:
        return self._read_projection(self._families, lambda p: p.get(family_id))

    def families(self) -> list[Family]:
        return self._read_projection(self._families, lambda p: p.all())

    def card(self, uid: str) -> Card | None:
        return self._read_projection(self._cards, lambda p: p.get(uid))

    def attendances_in(self, session_key: str) -> list[Attendance]:
        """The attendances at one session (``YYYY-MM-DD/slot_id``), amendments applied."""
        try:
            day = date.fromisoformat(session_key[:10])
        except (TypeError, ValueError):
            raise ValidationError(
                f"session key {session_key!r} must start with a date, like 2026-11-23/stay-play"
            ) from None
        with self._mutex:
            self._ensure_open()
            self._call += 1
            return self._journal(day).attendances_in(session_key)

    def risk_list(self) -> RiskList:
        """The risk list in force (``RiskList()``, version ``v0-none``, when none was imported)."""
        with self._mutex:
            self._ensure_open()
            for _ in range(8):
                try:
                    number = self._current_risk_number()
                    return self._risk_version(number) if number else RiskList()
                except CorruptFileError as exc:
                    with self._locked():
                        if exc.path == self._risk_current.path:
                            self._quarantine(
                                self._risk_current, exc.reason, "The newest readable list is used."
                            )
                        else:
                            self._quarantine_risk_version(number, exc.reason, roll=False)
                        self._check_risk()
            raise StoreError("no readable risk list could be found")

    def timetable(self) -> Timetable:
        with self._mutex:
            self._ensure_open()
            try:
                return self._read_timetable()
            except CorruptFileError as exc:
                with self._locked():
                    self._quarantine(
                        self._timetable,
                        exc.reason,
                        "The kiosk has no sessions until an admin adds them again.",
                    )
                return Timetable()

    def save_timetable(self, timetable: Timetable) -> None:
        self._must_write("save_timetable")
        slots = {str(i): slot.to_dict() for i, slot in enumerate(timetable.slots, start=1)}
        with self._locked():
            self._timetable.write({"slots": slots})

    # == risk versions ===========================================================================
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

        ``rule`` and ``sources`` record how a list built from official data was chosen, and
        from which files (``kiosk.lsoa_import``). ``number`` asks for the server's version
        number (a list pulled from the server), used when no version here has it or a later one.
        """
        self._must_write("save_risk_list")
        with self._locked():
            known = self._used_risk_numbers()
            number_next = max([self._current_risk_number(), *known], default=0) + 1
            number = number if number is not None and number >= number_next else number_next
            risk = RiskList(
                number=number,
                areas=frozenset(areas),
                created_at=at,
                source=source,
                rule=rule,
                sources=tuple(sources),
            )
            version = AtomicJSONStorage(self.layout.risk_version(number), overlay=self._overlay)
            version.write({"risk": {"1": risk.to_dict()}})
            version.close()
            self._risk_versions[number] = risk
            self._write_current_risk(number)
            return risk

    def risk_history(self) -> list[RiskList]:
        """Every stored version, oldest first."""
        with self._mutex:
            self._ensure_open()
            out = []
            for number in self._risk_numbers():
                try:
                    out.append(self._risk_version(number))
                except CorruptFileError as exc:
                    with self._locked():
                        self._quarantine_risk_version(number, exc.reason)
            return out

    # == history and export ======================================================================
    def events(self, since: date | None = None, until: date | None = None) -> Iterator[Event]:
        """Kept events filed under days from ``since`` to ``until`` (inclusive), in seq order."""
        with self._locked():
            state = self._seq_state()
            ranges = state.ranges(self._highest())
        for start, end, day in ranges:
            if day is None or (since and day < since) or (until and day > until):
                continue
            with self._mutex:
                self._ensure_open()
                self._call += 1
                chunk = self._journal(day).events_between(start, end)
            yield from chunk

    def attendances(self, since: date | None = None, until: date | None = None) -> list[Attendance]:
        """Attendances at sessions from ``since`` to ``until``, amendments applied."""
        events = (e for e in self.events(since, until) if e.type.startswith("attendance."))
        return list(replay_attendances(events).values())

    # == outbox ==================================================================================
    def pending(self, limit: int) -> list[Event]:
        """Up to ``limit`` events not yet acknowledged nor rejected, lowest seq first."""
        if limit <= 0:
            return []
        with self._locked():
            outbox = self._outbox_state()
            highest = self._highest()
            found: list[Event] = []
            for start, end, day in self._seq_state().ranges(highest):
                if end <= outbox.acked_through or day is None:
                    continue
                low = max(start, outbox.acked_through + 1)
                for event in self._journal(day).events_between(low, end):
                    if event.seq is not None and not outbox.is_done(event.seq):
                        found.append(event)
                        if len(found) >= limit:
                            break
                if len(found) >= limit:
                    break
            if len(self._id_hints) > ID_HINTS:
                self._id_hints.clear()
            for event in found:
                self._id_hints[event.event_id] = (event.seq or 0, self._day_of(event))
            return found

    def mark_sent(self, event_ids: Iterable[str], at: datetime | None = None) -> None:
        """The server holds these events (accepted or duplicate): take them out of the outbox.

        Durable when it returns. Unknown or already acknowledged ids are ignored.
        """
        self._must_write("mark_sent")
        ids = [str(i) for i in event_ids]
        if not ids:
            return
        when = _iso(at or datetime.now(UTC))
        with self._locked():
            outbox = self._outbox_state()
            seqs = self._locate(ids, outbox)
            fresh = [s for s in seqs.values() if not outbox.is_done(s)]
            if not fresh:
                return
            updated = outbox.with_done(fresh)
            self._write_outbox(
                OutboxState(updated.acked_through, updated.done_above, when),
            )
            # One put back in the outbox by a retry that a power cut interrupted may still be
            # listed as refused: the server holds it now, so it is refused no longer.
            table = self._rejected_table()
            if table:
                held = set(seqs)
                kept = {k: v for k, v in table.items() if v["event"].get("event_id") not in held}
                if len(kept) != len(table):
                    self._rejected.write({"rejected": kept})

    def mark_rejected(self, event_id: str, reason: str, kind: str = "refused") -> None:
        """The server refused this event: keep it aside with the reason, out of the outbox.

        ``kind`` is ``conflict`` when the server holds a different copy of it (issue 16): it
        is then not for sending again but for comparing (:meth:`keep_server_copy`)."""
        self._must_write("mark_rejected")
        with self._locked():
            outbox = self._outbox_state()
            seq = self._locate([event_id], outbox).get(event_id)
            event = self._event_by_seq(seq) if seq is not None else self._find_anywhere(event_id)
            if event is None or event.seq is None:
                raise NotFoundError(f"no event {event_id} on this kiosk to mark as rejected")
            table = dict(self._rejected_table())
            entry = {"event": event.to_dict(), "reason": str(reason), "at": _iso(datetime.now(UTC))}
            if kind != "refused":
                entry["kind"] = kind
            doc_id = next(
                (k for k, v in table.items() if v.get("event", {}).get("event_id") == event_id),
                str(max((int(k) for k in table), default=0) + 1),
            )
            table[doc_id] = entry
            self._rejected.write({"rejected": table})
            if not outbox.is_done(event.seq):
                self._write_outbox(outbox.with_done([event.seq]))

    def rejected(self) -> list[dict]:
        """Events the server rejected, oldest first: ``{"event": {...}, "reason", "at"}``."""
        with self._mutex:
            self._ensure_open()
            table = self._rejected_table()
            ordered = sorted(table.items(), key=lambda item: int(item[0]))
            return [
                {
                    "event": dict(v["event"]),
                    "reason": v["reason"],
                    "at": v["at"],
                    "kind": v.get("kind", "refused"),
                }
                for _, v in ordered
            ]

    def keep_server_copy(self, event_ids: Iterable[str]) -> list[str]:
        """Events in conflict (the server holds another copy under the same id) that the admin
        compared and settled in the server's favour: the server holds an event by that id,
        so they are no longer kept aside here. Returns the ids settled."""
        self._must_write("keep_server_copy")
        wanted = {str(i) for i in event_ids}
        with self._locked():
            table = dict(self._rejected_table())
            settled = {
                doc_id: entry["event"].get("event_id")
                for doc_id, entry in table.items()
                if entry.get("kind") == "conflict" and entry["event"].get("event_id") in wanted
            }
            unknown = wanted - set(settled.values())
            if unknown:
                raise NotFoundError(
                    f"no event in conflict {sorted(unknown)[0]} on this kiosk "
                    "(kiosk-admin rejected list shows them, with 'conflict')"
                )
            for doc_id in settled:
                del table[doc_id]
            self._rejected.write({"rejected": table})
            return sorted(str(v) for v in settled.values())

    def waiting_count(self) -> int:
        """How many events wait to be sent (cheap: two counters and the highest seq)."""
        with self._locked():
            outbox = self._outbox_state()
            highest = self._highest()
            above = sum(1 for s in outbox.done_above if s <= highest)
            return max(0, highest - outbox.acked_through - above)

    def oldest_waiting(self) -> Event | None:
        found = self.pending(1)
        return found[0] if found else None

    def requeue_from(self, seq: int) -> int:
        """Send again every kept event from ``seq`` on (the server lost them, e.g. restored
        from a backup); rejected events stay aside. Returns how many now wait.
        """
        self._must_write("requeue_from")
        seq = max(1, seq)
        with self._locked():
            outbox = self._outbox_state()
            highest = self._highest()
            if seq > highest:
                return 0
            before = highest - outbox.acked_through - len(outbox.done_above)
            kept: set[int] = set()
            for start, end, day in self._seq_state().ranges(highest):
                if day is None or end < seq:
                    continue
                kept.update(
                    e.seq
                    for e in self._journal(day).events_between(max(start, seq), end)
                    if e.seq is not None
                )
            rejected = {
                int(v["event"]["seq"])
                for v in self._rejected_table().values()
                if v.get("event", {}).get("seq") is not None
            }
            low = min(outbox.acked_through, seq - 1)
            done = {s for s in outbox.done_above if s < seq}
            done.update(s for s in range(seq, highest + 1) if s not in kept or s in rejected)
            updated = OutboxState(low, frozenset(), outbox.last_ack_at).with_done(done)
            self._write_outbox(updated)
            after = highest - updated.acked_through - len(updated.done_above)
            return max(0, after - before)

    # == identity: every event of this store is the enrolled device's =========================
    def rehome(self, identity: DeviceIdentity, at: datetime | None = None) -> Rehomed:
        """Give every event not yet held by the server this kiosk's enrolled ``identity``.

        A kiosk's events belong to the device that recorded them, whatever name it used then
        (the demo's, its host name, an identity it was enrolled under by mistake): taps made
        before enrolment must reach the invoice under the enrolled device and site. Waiting
        events are rewritten in their day files (seq and event id kept, so the server still
        deduplicates them), and events the server refused *because of* their identity are put
        back in the outbox, rewritten. Events already acknowledged are left as they are: the
        server holds them under the device that sent them.

        Each day file is replaced atomically; after a crash part-way, calling this again
        finishes the job, and calling it when nothing differs changes nothing. Returns what
        was done (also noted in the sync state as ``rehomed`` for ``kiosk-admin status``).
        """
        self._must_write("rehome")
        wanted = {"device_id": identity.device_id, "site_id": identity.site_id}
        with self._locked():
            outbox = self._outbox_state()
            highest = self._highest()
            rejected = dict(self._rejected_table())
            back = {
                int(entry["event"]["seq"]): doc_id
                for doc_id, entry in rejected.items()
                if isinstance(entry["event"].get("seq"), int)
                and is_identity_refusal(str(entry.get("reason", "")))
                and _identity_of(entry["event"]) != wanted
            }
            names: set[tuple[str, str]] = set()
            moved: list[int] = []
            for start, end, day in self._seq_state().ranges(highest):
                if day is None or (end <= outbox.acked_through and not back):
                    continue
                journal = self._journal(day)
                journal.refresh(everything=True)
                changed = False
                for part in journal.parts:
                    table = dict(part.table)
                    touched = False
                    for doc_id, doc in part.table.items():
                        seq = int(doc_id)
                        if not start <= seq <= end or _identity_of(doc) == wanted:
                            continue
                        if not (seq in back or not outbox.is_done(seq)):
                            continue
                        names.add((str(doc.get("device_id")), str(doc.get("site_id"))))
                        table[doc_id] = {**doc, **wanted}
                        moved.append(seq)
                        touched = True
                    if touched:
                        part.write(table)
                        changed = True
                if changed:
                    self._journals.pop(day, None)
                    journal.close()
            requeued = self._requeue_rejected({s: back[s] for s in self._kept_seqs(back)})
            result = Rehomed(
                identity.device_id,
                identity.site_id,
                len(moved),
                len(requeued),
                tuple(sorted(f"{d} at {s}" for d, s in names)),
            )
            if moved or requeued:
                self._update_sync_notes({"rehomed": result.note(at or datetime.now(UTC))})
            return result

    def retry_rejected(self, event_ids: Iterable[str] | None = None) -> list[str]:
        """Put refused events back in the outbox, to be sent again (all of them, or those
        named): for after the cause was put right (a family registered on the server, a
        device enrolled at the right site). Events no longer kept here stay aside. Returns
        the ids put back."""
        self._must_write("retry_rejected")
        wanted = None if event_ids is None else {str(i) for i in event_ids}
        with self._locked():
            table = self._rejected_table()
            chosen = {
                int(entry["event"]["seq"]): doc_id
                for doc_id, entry in table.items()
                if isinstance(entry["event"].get("seq"), int)
                and (
                    entry["event"].get("event_id") in wanted
                    if wanted is not None
                    else entry.get("kind") != "conflict"  # --all: conflicts are for comparing
                )
            }
            ids = {
                int(entry["event"]["seq"]): str(entry["event"].get("event_id"))
                for entry in table.values()
                if isinstance(entry["event"].get("seq"), int)
            }
            if wanted is not None:
                unknown = wanted - {ids[s] for s in chosen}
                if unknown:
                    raise NotFoundError(
                        f"no refused event {sorted(unknown)[0]} on this kiosk "
                        "(kiosk-admin rejected list shows them)"
                    )
            kept = self._kept_seqs(chosen)
            return [ids[s] for s in self._requeue_rejected({s: chosen[s] for s in kept})]

    def _requeue_rejected(self, docs: Mapping[int, str]) -> list[int]:
        """Take refused events (seq -> their entry in rejected.json) back into the outbox."""
        requeued = sorted(docs)
        if not requeued:
            return []
        # The outbox first: a power cut in between leaves the event both waiting and listed
        # as refused (the next call tidies the list), never in neither.
        outbox = self._outbox_state()
        low = min(outbox.acked_through, requeued[0] - 1)
        done = set(outbox.done_above)
        done.update(range(low + 1, outbox.acked_through + 1))
        done.difference_update(requeued)
        self._write_outbox(OutboxState(low, frozenset(), outbox.last_ack_at).with_done(done))
        rejected = dict(self._rejected_table())
        for seq in requeued:
            rejected.pop(docs[seq], None)
        self._rejected.write({"rejected": rejected})
        return requeued

    def _kept_seqs(self, seqs: Iterable[int]) -> set[int]:
        """Which of ``seqs`` are still kept in a day file (the rest were pruned)."""
        wanted = set(seqs)
        found: set[int] = set()
        for start, end, day in self._seq_state().ranges(self._highest()):
            if day is None:
                continue
            hits = [s for s in wanted if start <= s <= end]
            if hits:
                journal = self._journal(day)
                found.update(s for s in hits if journal.events_between(s, s))
        return found

    def sync_state(self) -> dict:
        """The sync daemon's notes (last success, last error, roster cursor...)."""
        with self._mutex:
            self._ensure_open()
            return dict(self._sync_tables().get("sync", {}).get("1", {}))

    def update_sync_state(self, **changes: Any) -> None:
        """Change some of the sync daemon's notes (datetimes are stored as ISO text)."""
        self._must_write("update_sync_state")
        with self._locked():
            self._update_sync_notes(changes)

    def highest_seq(self) -> int:
        """The highest seq given so far (0 for a new store)."""
        with self._locked():
            return self._highest()

    # == recovery (issue 9: server restored, SD card replaced, kiosk backup restored) ============
    def delivered_through(self) -> int:
        """Every seq up to this one is held by the server as far as this kiosk knows
        (acknowledged, set aside, or given out before this store): what the server's
        ``holds_up_to`` is checked against after it was restored from a backup."""
        with self._locked():
            return self._outbox_state().acked_through

    def seq_history(self) -> SeqHistory:
        """What became of seqs no longer kept here: pruned days and seq floors."""
        with self._locked():
            return self._read_history()

    def merge_seq_history(self, other: SeqHistory) -> None:
        """Add what another copy of this store knew of pruned seqs (a backup restore)."""
        self._must_write("merge_seq_history")
        with self._locked():
            self._write_history(self._read_history().merged(other))

    def seq_floor(self) -> int:
        """The highest seq given out before this store existed (0 if it never started again)."""
        return self.seq_history().floor

    def raise_seq_floor(self, seq: int, why: str, at: datetime | None = None) -> int:
        """Number new events above ``seq``: seqs up to it were given out before this store
        (a new SD card, a restored backup), so they are never used again here and are not
        this store's to send. Noted in ``history.json``. Returns the highest seq in use.
        """
        self._must_write("raise_seq_floor")
        with self._locked():
            highest = self._highest()
            if seq > highest:
                when = _iso(at or datetime.now(UTC))
                self._write_history(self._read_history().with_floor(highest + 1, seq, when, why))
                state = self._seq_state()
                runs = list(state.runs)
                if not runs or runs[-1][1] is not None:
                    runs.append((highest + 1, None))
                self._write_seq(SeqState(seq, tuple(runs), None))
                highest = seq
            self._settle_unfiled()
            return highest

    def adopt_events(self, events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
        """Write events that carry seqs this device gave them (from another copy of this
        store: a backup is restored over newer events) under those same seqs.

        Returns ``(adopted, refused)``. An event already held is neither. One whose seq is at
        or below the highest seq in use here is refused: this store gave that seq to another
        event, or pruned it. Seqs skipped between adopted events (pruned on the other copy)
        are not sent again.
        """
        self._must_write("adopt_events")
        batch = sorted(
            {e.event_id: e for e in events if isinstance(e, Event) and e.seq}.values(),
            key=lambda e: e.seq or 0,
        )
        with self._locked():
            highest = self._highest()
            fresh: list[Event] = []
            refused: list[Event] = []
            for event in batch:
                if self._journal(self._day_of(event)).get(event.event_id) is not None:
                    continue
                if (event.seq or 0) <= max(highest, fresh[-1].seq if fresh else 0):
                    refused.append(event)
                    continue
                fresh.append(event)
            chunks: list[list[Event]] = []
            for event in fresh:
                if chunks and chunks[-1][-1].seq == (event.seq or 0) - 1:
                    chunks[-1].append(event)
                else:
                    chunks.append([event])
            for chunk in chunks:
                first = chunk[0].seq or 0
                if first > highest + 1:
                    state = self._seq_state()
                    runs = list(state.runs)
                    if not runs or runs[-1][1] is not None:
                        runs.append((highest + 1, None))
                    self._write_seq(SeqState(first - 1, tuple(runs), None))
                    highest = first - 1
                self._commit([(e, self._day_of(e)) for e in chunk], highest)
                highest = chunk[-1].seq or highest
            self._settle_unfiled()
            return fresh, refused

    def seq_inventory(self, low: int, high: int) -> SeqInventory:
        """What this kiosk has of seqs ``low``..``high``: kept (can be sent again), set aside
        as rejected, and lost (pruned, before this store, unreadable) with their sessions."""
        low = max(1, low)
        with self._locked():
            highest = self._highest()
            high = min(high, highest)
            kept: list[int] = []
            for start, end, day in self._seq_state().ranges(highest):
                if day is None or end < low or start > high:
                    continue
                kept.extend(
                    e.seq
                    for e in self._journal(day).events_between(max(start, low), min(end, high))
                    if e.seq is not None
                )
            rejected: dict[int, str] = {}
            for value in self._rejected_table().values():
                seq = value.get("event", {}).get("seq")
                if isinstance(seq, int) and low <= seq <= high:
                    rejected[seq] = str(value.get("reason", ""))
            have = set(kept) | set(rejected)
            lost = [s for s in range(low, high + 1) if s not in have]
            spans = self._read_history().spans(lost) if lost else []
        return SeqInventory(
            low, high, tuple(s for s in sorted(kept) if s not in rejected), rejected, tuple(spans)
        )

    def _read_history(self) -> SeqHistory:
        try:
            return SeqHistory.from_tables(self._history.path, self._history.peek())
        except CorruptFileError as exc:
            self._quarantine(
                self._history,
                exc.reason,
                "Which sessions pruned seqs were for is no longer known; the seqs themselves "
                "stay used.",
            )
            return SeqHistory()

    def _write_history(self, history: SeqHistory) -> None:
        self._history.write(history.to_tables())

    def _note_pruned(
        self,
        doomed: Mapping[date, int],
        ranges: Sequence[tuple[int, int, date | None]],
        now: datetime,
    ) -> None:
        """Before days are pruned: their seq ranges and sessions, in ``history.json``."""
        at = _iso(now if now.tzinfo else now.replace(tzinfo=self.tz))
        entries = [
            day_summary(
                day.isoformat(),
                [(a, b) for a, b, d in ranges if d == day],
                self._journal(day).events(),
                at,
            )
            for day in sorted(doomed)
        ]
        self._write_history(self._read_history().with_pruned(entries))

    def _settle_unfiled(self) -> None:
        """Seqs filed under no day (pruned, given out before this store, skipped by an adopt)
        are never this store's to send: make sure the outbox says so (also after a crash
        between the seq record and the outbox)."""
        outbox = self._outbox_state()
        highest = self._highest()
        loose = [
            s
            for start, end, day in self._seq_state().ranges(highest)
            if day is None
            for s in range(max(start, outbox.acked_through + 1), end + 1)
            if not outbox.is_done(s)
        ]
        if loose:
            self._write_outbox(outbox.with_done(loose))

    # == roster ==================================================================================
    def apply_remote(self, events: Sequence[Event]) -> int:
        """Apply roster events from other kiosks to families and cards; how many changed something.

        They are not journalled, not put in this kiosk's outbox and get no seq of this kiosk.
        Applying the same event again changes nothing; an event older than what a family or
        card already reflects is ignored.
        """
        self._must_write("apply_remote")
        batch = [e for e in events if isinstance(e, Event) and e.type in PROJECTED_TYPES]
        if not batch:
            return 0
        batch.sort(key=lambda e: (e.at, e.event_id))
        with self._locked():
            total = 0
            for projection in (self._families, self._cards):
                self._refresh_projection(projection)
                changes, count = projection.plan(batch, local=False)
                if changes:
                    projection.write(changes, applied_seq=None)
                    total += count
            return total

    def apply_erasures(self, notices: Sequence[Mapping[str, Any]]) -> int:
        """Remove families erased on the server (roster erasure notices, issue 8) from this
        store: record, cards, and the personal fields of every kept event about them (seqs,
        ids and attendances stay; see ``kiosk.store.erasure``). How many families were here.
        """
        self._must_write("apply_erasures")
        from kiosk.store.erasure import erase_in_store

        if not notices:
            return 0
        with self._locked():
            return len(erase_in_store(self, notices))

    # == housekeeping ============================================================================
    def prune(self, now: datetime) -> int:
        """Drop days older than the retention window whose events are all acknowledged (or
        rejected, which are kept in rejected.json). Returns how many events were dropped.
        """
        self._must_write("prune")
        local_now = now.replace(tzinfo=self.tz) if now.tzinfo is None else now
        cutoff = local_now.astimezone(self.tz).date() - timedelta(days=self.retention_days)
        with self._locked():
            outbox = self._outbox_state()
            highest = self._highest()
            days = sorted({d for d, _ in self._part_files() if d < cutoff})
            doomed: dict[date, int] = {}
            for day in days:
                journal = self._journal(day)
                if all(outbox.is_done(s) for s in journal.seqs()):
                    doomed[day] = len(journal)
            if not doomed:
                return 0
            state = self._seq_state()
            runs = [(start, None if day in doomed else day) for start, day in state.runs]
            while runs and runs[0][1] is None and len(runs) > 1:
                runs.pop(0)
            merged: list[tuple[int, date | None]] = []
            for run in runs:
                if merged and merged[-1][1] is None and run[1] is None:
                    continue
                merged.append(run)
            self._note_pruned(doomed, state.ranges(highest), now)
            self._write_seq(SeqState(max(state.high_water, highest), tuple(merged), None))
            for day in doomed:
                journal = self._journals.pop(day, None)
                if journal is not None:
                    journal.close()
            for day, path in self._part_files():
                if day in doomed:
                    path.unlink(missing_ok=True)
            fsync_dir(self.layout.events)
            return sum(doomed.values())

    def problems(self) -> list[str]:
        """What is wrong with the data folder, in plain words (quarantined files and the like)."""
        with self._mutex:
            out: list[str] = []
            folder = self.layout.quarantine
            names = sorted(os.listdir(folder)) if folder.exists() else []
            reasons = {n for n in names if n.endswith(REASON_SUFFIX)}
            for name in names:
                if name in reasons or is_temp_name(name):
                    continue
                note = folder / (name + REASON_SUFFIX)
                if note.name in reasons:
                    out.append(note.read_text(encoding="utf-8").strip())
                else:
                    out.append(f"quarantine/{name} was moved aside as unreadable.")
            out.extend(self._notes)
            for journal in self._journals.values():
                out.extend(
                    f"an attendance event could not be read: {u}" for u in journal.unreadable
                )
            return out

    def size_bytes(self) -> int:
        """How much disk the data folder takes."""
        total = 0
        for folder, _, files in os.walk(self.layout.root):
            for name in files:
                with suppress(FileNotFoundError):
                    total += os.stat(os.path.join(folder, name)).st_size
        return total

    def close(self) -> None:
        """Release file handles and caches; safe to call twice."""
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            for journal in self._journals.values():
                journal.close()
            self._journals.clear()
            for storage in (self._seq, self._sync, self._rejected, self._timetable, self._history):
                storage.close()
            self._risk_current.close()
            self._families.close()
            self._cards.close()
            self._flock.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.layout.root)!r})"

    # == locking =================================================================================
    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the folder's lock (and this object's mutex); finish any interrupted write first."""
        with self._mutex:
            self._ensure_open()
            if self._depth == 0:
                self._call += 1
                self._flock.acquire()
            self._depth += 1
            try:
                if self._depth == 1 and not self._opening:
                    self._recover_intent()
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._flock.release()

    def _ensure_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store at {self.layout.root} is closed")

    def _must_write(self, what: str) -> None:
        """Refuse a change to a store opened read-only (it would only reach the overlay)."""
        if self.read_only:
            raise StoreReadOnlyError(
                f"the store at {self.layout.root} was opened read-only, to look at it: "
                f"{what} would change it (open it without read_only to change it)"
            )

    def _note(self, text: str) -> None:
        if text not in self._notes:
            self._notes.append(text)

    # == opening and repair ======================================================================
    def _open(self) -> None:
        if not self.read_only:  # a reader ignores them: they are never read
            self._remove_temp_files()
        sync_ok = self._check(self._sync, self._outbox_state)
        seq_ok = self._check(self._seq, self._seq_state)
        self._check(self._rejected, self._rejected_table)
        if seq_ok and sync_ok:
            self._recover_intent()
            self._check_days()
        else:
            found = self._scan_all_days()
            if not seq_ok:
                self._rebuild_seq(found)
            if not sync_ok:
                self._rebuild_outbox(found)
        for projection in (self._families, self._cards):
            try:
                projection.refresh()
                projection.all()  # every record readable; also warms the cache for the first tap
            except CorruptFileError as exc:
                self._rebuild_projection(projection, exc.reason)
        self.timetable()
        self._check_risk()

    def _check(self, storage: AtomicJSONStorage, reader: Any) -> bool:
        """Read a small state file; quarantine it when unreadable. False when it was."""
        try:
            storage.peek()
            reader()
            return True
        except CorruptFileError as exc:
            consequence = {
                str(self.layout.sync): (
                    "The outbox was rebuilt from the events kept on the kiosk: every kept event "
                    "not known to be rejected will be sent again (the server ignores duplicates)."
                ),
                str(self.layout.seq): "Sequence numbers were rebuilt from the kept events.",
                str(self.layout.rejected): (
                    "The list of rejected events starts again empty; the old one is kept here."
                ),
            }.get(storage.path, "")
            self._quarantine(storage, exc.reason, consequence)
            return False

    def _remove_temp_files(self) -> None:
        """Temporary files of writes that never finished (``kiosk.store.atomic``).

        The store's own, and in the data folder itself those of other modules' files (the
        volunteers, the identity) once the process that wrote them has ended: those modules
        keep their files under locks of their own, and a running one may be writing now.
        """
        own = {
            self.layout.seq.name,
            self.layout.sync.name,
            self.layout.rejected.name,
            self.layout.history.name,
        }
        folders = (
            self.layout.root,
            self.layout.events,
            self.layout.state,
            self.layout.risk,
            self.layout.quarantine,
        )
        for folder in folders:
            for name in os.listdir(folder) if folder.is_dir() else []:
                target = temp_target(name)
                if target is None:
                    continue
                if folder == self.layout.root and target not in own and not writer_gone(name):
                    continue
                (folder / name).unlink(missing_ok=True)

    def _recover_intent(self) -> None:
        """Finish or undo a write that spanned several files and was cut short."""
        state = self._seq_state()
        intent = state.pending
        if not intent:
            return
        low, high = intent["from"], intent["to"]
        days = [date.fromisoformat(d) for d in intent["days"]]
        if self.read_only:
            self._note(
                f"a write of seq {low} to {high} was cut short (a full disk or a power cut?) "
                "and is not finished on disk: this command only reads; the kiosk app or "
                "kiosk-sync finishes it the next time it uses the store, with room on the disk"
            )
        found: dict[int, Event] = {}
        for day in days:
            for event in self._journal(day).events_between(low, high):
                found[event.seq or 0] = event
        if len(found) == high - low + 1:
            events = [found[s] for s in sorted(found)]
            for name in intent["projections"]:
                projection = self._families if name == self._families.name else self._cards
                self._refresh_projection(projection)
                if projection.applied_seq < high:
                    changes, _ = projection.plan(events, local=True, strict=False)
                    projection.write(changes, applied_seq=high)
            self._write_seq(SeqState(max(state.high_water, high), state.runs, None))
        else:
            for day in days:
                self._journal(day).remove_range(low, high)
            runs = tuple(r for r in state.runs if r[0] < low)
            self._write_seq(SeqState(min(state.high_water, low - 1), runs, None))

    def _check_days(self) -> None:
        """Read the day that holds the highest seq; check that every other day file ends whole.

        A file cut short (the usual damage) is caught here, at start, by its last bytes; other
        damage is caught, and quarantined the same way, when the day is first read. Opening
        thus costs the same after a year as after a day.
        """
        self._highest()
        for day, path in self._part_files():
            if not self._ends_whole(path):
                self._journal(day)  # a full read says exactly what is wrong, and quarantines

    @staticmethod
    def _ends_whole(path: Path) -> bool:
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64))
                tail = fh.read().rstrip()
        except FileNotFoundError:
            return True
        return tail.endswith(b"}}") or tail == b"{}"

    def _scan_all_days(self) -> dict[int, date]:
        """Every kept seq and its day (quarantining unreadable day files on the way)."""
        found: dict[int, date] = {}
        for day in sorted({d for d, _ in self._part_files()}):
            for seq in self._journal(day).seqs():
                found[seq] = day
        return found

    def _rebuild_seq(self, found: dict[int, date]) -> None:
        runs: list[tuple[int, date | None]] = []
        for seq in sorted(found):
            if not runs or runs[-1][1] != found[seq]:
                runs.append((seq, found[seq]))
        outbox = self._outbox_state()
        high = max(
            [self._seq_state().high_water, outbox.acked_through, *outbox.done_above, *found, 0]
        )
        self._write_seq(SeqState(high, tuple(runs), None))

    def _rebuild_outbox(self, found: dict[int, date]) -> None:
        highest = self._highest()
        low = min(found) - 1 if found else highest
        rejected = {
            int(v["event"]["seq"])
            for v in self._rejected_table().values()
            if v.get("event", {}).get("seq") is not None
        }
        done = {s for s in range(low + 1, highest + 1) if s not in found or s in rejected}
        self._write_outbox(OutboxState(low, frozenset()).with_done(done))

    def _rebuild_projection(self, projection: Projection[Any], reason: str) -> None:
        # Scrubbed events of erased families (issue 8) rebuild nothing.
        events = [
            e
            for e in self._all_kept_events()
            if PROJECTED_TYPES.get(e.type) == projection.name
            and not is_erased(event_family(e.to_dict()))
        ]
        self._quarantine(
            projection.storage,
            reason,
            f"Rebuilt from the {len(events)} {projection.name} events kept on the kiosk; "
            f"{projection.name} recorded elsewhere or more than {self.retention_days} days ago "
            "come back with the next roster sync.",
        )
        projection.refresh()
        changes, _ = projection.plan(events, local=True, strict=False)
        projection.write(changes, applied_seq=self._highest())
        self._update_sync_notes({"roster_cursor": None})

    def _all_kept_events(self) -> list[Event]:
        out: list[Event] = []
        for start, end, day in self._seq_state().ranges(self._highest()):
            if day is not None:
                out.extend(self._journal(day).events_between(start, end))
        return out

    def _check_risk(self) -> None:
        """At open: the newest readable version is the one in force.

        Versions are read newest first and only until one reads well: a list built from LSOA
        data holds about half a million postcodes and a kiosk keeps every version, so reading
        them all would make opening the store grow with history. Older versions are checked
        (and quarantined if damaged) when ``risk_history`` reads them.
        """
        best = 0
        for number in sorted(self._risk_numbers(), reverse=True):
            try:
                self._risk_version(number)
            except CorruptFileError as exc:
                self._quarantine_risk_version(number, exc.reason, roll=False)
                continue
            best = number
            break
        try:
            current = self._current_risk_number()
        except CorruptFileError as exc:
            self._quarantine(
                self._risk_current, exc.reason, "The newest readable risk list is used."
            )
            current = -1
        if current != best:
            self._write_current_risk(best)
            if current > best:
                self._notes.append(
                    f"risk list v{current} was unreadable; v{best} is in force instead"
                    if best
                    else f"risk list v{current} was unreadable; no risk list is in force"
                )

    # == quarantine ==============================================================================
    def _quarantine(self, storage: AtomicJSONStorage, reason: str, consequence: str = "") -> None:
        with self._locked():
            path = Path(storage.path)
            storage.forget()
            if storage.exists():
                dest = self._move_to_quarantine(path)
                self._write_note(path, dest, reason, consequence)
            storage.forget()

    def _move_to_quarantine(self, path: Path) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        rel = self.layout.relative(path).replace("/", "--")
        dest = self.layout.quarantine / f"{stamp}--{rel}"
        if self._overlay is not None:  # read-only: it reads as gone, and stays where it is
            self._overlay.put(path, None)
            return dest
        os.replace(path, dest)
        fsync_dir(path.parent)
        fsync_dir(self.layout.quarantine)
        return dest

    def _write_note(self, path: Path, dest: Path, reason: str, consequence: str) -> None:
        """The plain-words note beside a quarantined file, which ``problems()`` reports."""
        if self.read_only:
            self._note(
                f"{self.layout.relative(path)} could not be read: {reason}. It was not moved "
                "(this command only reads): the kiosk app or kiosk-sync moves it to "
                f"quarantine/ the next time it uses the store. {consequence}".strip()
            )
            return
        moved = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = (
            f"{self.layout.relative(path)} could not be read: {reason}. It was moved to "
            f"quarantine/{dest.name} on {moved}. {consequence}"
        ).strip()
        note = dest.with_name(dest.name + REASON_SUFFIX)
        atomic_write(note, (text + "\n").encode("utf-8"))

    def _quarantine_part(self, path: Path, reason: str) -> None:
        """Move an unreadable day file aside, keeping seqs gap-free and the outbox counts true."""
        with self._locked():
            probe = JournalPart(path, self._overlay)
            try:
                probe.refresh()
                return  # readable now (replaced meanwhile), or already moved by another process
            except CorruptFileError as exc:
                reason = exc.reason
            finally:
                probe.close()
            parsed = parse_part_name(path.name)
            if parsed is None:
                return
            day, index = parsed
            salvaged = [int(m) for m in _SEQ_IN_RAW.findall(path.read_bytes())]
            state = self._seq_state()
            outbox = self._outbox_state()
            last_start = state.runs[-1][0] - 1 if state.runs else 0
            journal = self._journals.pop(day, None)
            known = journal.max_seq() if journal is not None else 0  # from before the damage
            if journal is not None:
                journal.close()
            server = self._sync_tables().get("sync", {}).get("1", {}).get("server_holds_up_to")
            bound = max(
                [
                    state.high_water,
                    outbox.acked_through,
                    *outbox.done_above,
                    *salvaged,
                    last_start,
                    known,
                    server if isinstance(server, int) else 0,
                ]
            )
            dest = self._move_to_quarantine(path)
            if self.layout.part(day, index + 1).exists():  # keep the part numbers contiguous
                placeholder = AtomicJSONStorage(path, overlay=self._overlay)
                placeholder.write({"events": {}})
                placeholder.close()
            highest = max(bound, self._highest())
            if highest > state.high_water:
                self._write_seq(SeqState(highest, state.runs, state.pending))
            present = set(self._journal(day).seqs())
            lost = [
                s
                for start, end, run_day in self._seq_state().ranges(highest)
                if run_day == day
                for s in range(start, end + 1)
                if s not in present and not outbox.is_done(s)
            ]
            if lost:
                self._write_outbox(self._outbox_state().with_done(lost))
                consequence = (
                    f"{len(lost)} event(s) not yet sent (seq {lost[0]} to {lost[-1]}) are only "
                    "in that file: they left the outbox and need a person to recover them."
                )
            elif salvaged:
                consequence = "Its events had all been acknowledged by the server already."
            else:
                consequence = ""
            self._write_note(path, dest, reason, consequence)

    def _quarantine_risk_version(self, number: int, reason: str, roll: bool = True) -> None:
        with self._locked():
            storage = AtomicJSONStorage(self.layout.risk_version(number), overlay=self._overlay)
            self._risk_versions.pop(number, None)
            self._quarantine(
                storage,
                reason,
                "Attendances keep the version they recorded; the newest readable list is used.",
            )
            if roll:
                self._check_risk()

    # == journal internals =======================================================================
    def _day_of(self, event: Event) -> date:
        """Attendance events live under their session's date, others under the local day."""
        data = event.data
        try:
            if event.type == "attendance.recorded":
                return date.fromisoformat(data["session"]["date"])
            if event.type == "attendance.amended":
                return date.fromisoformat(str(data["session_key"])[:10])
        except (KeyError, TypeError, ValueError):
            pass
        return event.at.astimezone(self.tz).date()

    def _journal(self, day: date) -> DayJournal:
        """The day's events, brought up to date once per store call.

        Within a call that holds the lock nobody else can change the files, and this store's
        own writes update the journal as they go; a call without the lock reads a snapshot.
        """
        journal = self._journals.get(day)
        if journal is None:
            journal = DayJournal(self.layout, day, self.events_per_part, self._overlay)
            self._journals[day] = journal
            while len(self._journals) > JOURNAL_CACHE:
                _, old = self._journals.popitem(last=False)
                old.close()
        elif journal.fresh_for == self._call:
            return journal
        else:
            self._journals.move_to_end(day)
        for _ in range(64):
            try:
                journal.refresh()
                journal.fresh_for = self._call
                return journal
            except CorruptFileError as exc:
                self._quarantine_part(Path(exc.path), exc.reason)
                if day not in self._journals:
                    self._journals[day] = DayJournal(
                        self.layout, day, self.events_per_part, self._overlay
                    )
                journal = self._journals[day]
        raise StoreError(f"the events of {day} could not be read even after quarantine")

    def _part_files(self) -> list[tuple[date, Path]]:
        out = []
        for name in _names_in(self.layout.events):
            parsed = parse_part_name(name)
            if parsed is not None:
                out.append((parsed[0], self.layout.events / name))
        return sorted(out)

    def _highest(self) -> int:
        """The highest seq in use (see kiosk.store.state)."""
        state = self._seq_state()
        if not state.runs:
            return state.high_water
        start, day = state.runs[-1]
        if day is None:
            return max(state.high_water, start - 1)
        top = self._journal(day).max_seq()
        return max(state.high_water, top if top >= start else start - 1)

    def _commit(self, fresh: list[tuple[Event, date]], highest: int) -> None:
        state = self._seq_state()
        runs = list(state.runs)
        if runs and runs[-1][1] is not None and self._journal(runs[-1][1]).max_seq() < runs[-1][0]:
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
            projection = self._families if name == self._families.name else self._cards
            self._refresh_projection(projection)
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
            self._write_seq(SeqState(max(state.high_water, highest), tuple(runs), intent))
        for day, day_events in by_day.items():
            self._journal(day).append(day_events)
        for projection, changes in plans.values():
            projection.write(changes, applied_seq=high)
        if spans:
            self._write_seq(SeqState(high, tuple(runs), None))

    def _locate(self, ids: Sequence[str], outbox: OutboxState) -> dict[str, int]:
        """The seqs of waiting events with these ids (ids not waiting are left out)."""
        found: dict[str, int] = {}
        missing: set[str] = set()
        for event_id in ids:
            hint = self._id_hints.get(event_id)
            if hint is not None:
                event = self._journal(hint[1]).get(event_id)
                if event is not None and event.seq == hint[0]:
                    found[event_id] = hint[0]
                    continue
            missing.add(event_id)
        if missing:
            for start, end, day in self._seq_state().ranges(self._highest()):
                if day is None or end <= outbox.acked_through:
                    continue
                journal = self._journal(day)
                for event_id in list(missing):
                    event = journal.get(event_id)
                    if event is not None and event.seq is not None and start <= event.seq <= end:
                        found[event_id] = event.seq
                        missing.discard(event_id)
                if not missing:
                    break
        return found

    def _event_by_seq(self, seq: int) -> Event | None:
        for start, end, day in self._seq_state().ranges(self._highest()):
            if start <= seq <= end and day is not None:
                found = self._journal(day).events_between(seq, seq)
                return found[0] if found else None
        return None

    def _find_anywhere(self, event_id: str) -> Event | None:
        for day, _ in reversed(self._part_files()):
            event = self._journal(day).get(event_id)
            if event is not None:
                return event
        return None

    # == small state files =======================================================================
    def _seq_state(self) -> SeqState:
        try:
            data = self._seq.peek()
            cached = self._seq_cache
            if cached is not None and cached[0] == self._seq.generation:
                return cached[1]
            state = SeqState.from_tables(self._seq.path, data)
        except CorruptFileError as exc:
            if self._opening:
                raise
            self._quarantine(self._seq, exc.reason, "Sequence numbers were rebuilt.")
            self._rebuild_seq(self._scan_all_days())
            return self._seq_state()
        self._seq_cache = (self._seq.generation, state)
        return state

    def _write_seq(self, state: SeqState) -> None:
        self._seq.write({"seq": {"1": state.to_doc()}})

    def _sync_tables(self) -> Mapping[str, Any]:
        try:
            return self._sync.peek() or {}
        except CorruptFileError as exc:
            if self._opening:
                raise
            with self._locked():
                self._quarantine(self._sync, exc.reason, "The outbox was rebuilt.")
                self._rebuild_outbox(self._scan_all_days())
            return self._sync.peek() or {}

    def _outbox_state(self) -> OutboxState:
        data = self._sync_tables()
        cached = self._outbox_cache
        if cached is not None and cached[0] == self._sync.generation:
            return cached[1]
        state = OutboxState.from_tables(self._sync.path, data)
        self._outbox_cache = (self._sync.generation, state)
        return state

    def _write_outbox(self, state: OutboxState) -> None:
        tables = dict(self._sync_tables())
        tables["outbox"] = {"1": state.to_doc()}
        self._sync.write(tables)

    def _update_sync_notes(self, changes: Mapping[str, Any]) -> None:
        tables = dict(self._sync_tables())
        notes = dict(tables.get("sync", {}).get("1", {}))
        for key, value in changes.items():
            notes[str(key)] = _json_value(value)
        tables["sync"] = {"1": notes}
        tables.setdefault("outbox", {"1": self._outbox_state().to_doc()})
        self._sync.write(tables)

    def _rejected_table(self) -> Mapping[str, Any]:
        try:
            data = self._rejected.peek() or {}
            table = data.get("rejected", {})
            for doc_id, doc in table.items():
                if not doc_id.isdigit() or not isinstance(doc.get("event"), dict):
                    raise CorruptFileError(
                        self._rejected.path, f"entry {doc_id} is not a rejected event"
                    )
            return table
        except CorruptFileError as exc:
            if self._opening:
                raise
            with self._locked():
                self._quarantine(
                    self._rejected, exc.reason, "The list of rejected events starts again empty."
                )
            return {}

    def _refresh_projection(self, projection: Projection[Any]) -> None:
        try:
            projection.refresh()
        except CorruptFileError as exc:
            with self._locked():
                self._rebuild_projection(projection, exc.reason)

    def _read_projection(self, projection: Projection[Any], read: Any) -> Any:
        with self._mutex:
            self._ensure_open()
            try:
                projection.refresh()
                return read(projection)
            except CorruptFileError as exc:
                with self._locked():
                    self._rebuild_projection(projection, exc.reason)
                return read(projection)

    def _read_timetable(self) -> Timetable:
        data = self._timetable.peek()
        cached = self._timetable_cache
        if cached is not None and cached[0] == self._timetable.generation:
            return cached[1]
        slots = (data or {}).get("slots", {})
        try:
            ordered = [slots[k] for k in sorted(slots, key=int)]
            timetable = Timetable.from_list(ordered)
        except (KeyError, TypeError, ValueError, KioskError) as exc:
            raise CorruptFileError(
                self._timetable.path, f"a session cannot be read ({exc})"
            ) from None
        self._timetable_cache = (self._timetable.generation, timetable)
        return timetable

    def _risk_numbers(self) -> list[int]:
        """The versions on disk (readable or not), oldest first."""
        numbers = [parse_risk_name(n) for n in _names_in(self.layout.risk)]
        found = sorted(n for n in numbers if n is not None)
        if self._overlay is not None:  # read-only: those set aside are gone
            found = [n for n in found if not self._overlay.hides(self.layout.risk_version(n))]
        return found

    def _used_risk_numbers(self) -> list[int]:
        """Every version number ever given, quarantined ones included: never given twice."""
        quarantined = []
        for name in os.listdir(self.layout.quarantine):
            _, sep, rest = name.partition(f"--{RISK_DIR}--")
            number = parse_risk_name(rest) if sep else None
            if number is not None:
                quarantined.append(number)
        return self._risk_numbers() + quarantined

    def _current_risk_number(self) -> int:
        data = self._risk_current.peek()
        doc = (data or {}).get("current", {}).get("1")
        if doc is None:
            return 0
        try:
            return int(doc["number"])
        except (KeyError, TypeError, ValueError):
            raise CorruptFileError(self._risk_current.path, "no version number in it") from None

    def _write_current_risk(self, number: int) -> None:
        self._risk_current.write({"current": {"1": {"number": number}}})

    def _risk_version(self, number: int) -> RiskList:
        known = self._risk_versions.get(number)
        if known is not None:
            return known
        path = self.layout.risk_version(number)
        storage = AtomicJSONStorage(path, create_dirs=False, overlay=self._overlay)
        try:
            data = storage.peek()
        finally:
            storage.close()
        if data is None:
            raise CorruptFileError(path, "the file is missing")
        try:
            risk = RiskList.from_dict(data["risk"]["1"])
        except (KeyError, TypeError, ValueError, KioskError) as exc:
            raise CorruptFileError(path, f"the risk list cannot be read ({exc})") from None
        if risk.number != number:
            raise CorruptFileError(path, f"it holds version {risk.number}, not {number}")
        self._risk_versions[number] = risk
        return risk
