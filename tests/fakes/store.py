"""``MemoryStore``: the one in-memory stand-in for ``kiosk.store.LocalStore`` in the tests.

It keeps LocalStore's contract (the tests in ``tests/store`` marked ``on_both_stores`` run
against it as well as against LocalStore on a temporary folder), so a test that uses it tests
the behaviour it means to, not a fake's idea of the store:

- ``record`` gives gap-free seqs from 1, stores an event id once (a repeat returns the stored
  event) and refuses what is not an event, or a family or card event that cannot be applied,
  before anything is stored;
- families and cards are projections of the recorded events, and of roster events
  (``apply_remote``: not journalled, no seq, an older event never undoes a newer one);
- attendances are replayed per session with their amendments; events are filed under their
  session's day (attendances) or their London day (the rest);
- the outbox: ``pending`` oldest first, ``mark_sent``, ``mark_rejected`` (kept aside with the
  reason), ``requeue_from``, and the sync daemon's notes.

It has no files, no lock between processes, no pruning, no recovery bookkeeping and no
re-homing (the sync daemon sees that and leaves those steps out, as for any store without them).
What it adds, like gpiozero's mock pins, is what a test needs to drive a store that misbehaves:
``gate`` (clear it and ``record`` waits: a slow SD card) and ``fail_next`` (the next ``record``
raises it: a full disk). Thread-safe: the UI records on a worker thread, the sync tests from
several threads.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from kiosk.domain.attendance import Attendance, replay_attendances
from kiosk.domain.errors import KioskError, NotFoundError, ValidationError
from kiosk.domain.events import Event
from kiosk.domain.families import Card, Family
from kiosk.domain.postcodes import RiskArea
from kiosk.domain.risk import RiskList, RiskSource
from kiosk.domain.timetable import Timetable
from kiosk.store.core import filing_day
from kiosk.store.layout import DEFAULT_TZ

#: How long a stalled ``record`` waits for ``gate`` before going on anyway, in seconds (a guard
#: so that a test that forgets to open the gate fails instead of hanging).
GATE_TIMEOUT = 30.0


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


class _Record:
    """A family or card as a projection holds it: the value and the event that set it."""

    __slots__ = ("at", "event_id", "value")

    def __init__(self, value: Family | Card, event: Event) -> None:
        self.value = value
        self.at = event.at
        self.event_id = event.event_id


class MemoryStore:
    """LocalStore's contract in memory (see the module's docstring for what it leaves out)."""

    def __init__(self, data_dir: Path | None = None) -> None:
        #: Where the app finds the volunteer book (``kiosk.demo``); nothing of the store's is
        #: written there.
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._lock = threading.RLock()
        self._journal: list[Event] = []  # by seq: seq n is _journal[n - 1]
        self._by_id: dict[str, Event] = {}
        self._done: set[int] = set()  # seqs acknowledged or set aside as rejected
        self._rejected: dict[str, dict[str, Any]] = {}
        self._notes: dict[str, Any] = {}
        self._families: dict[str, _Record] = {}
        self._cards: dict[str, _Record] = {}
        self._sessions: dict[str, list[Event]] = {}
        self._timetable = Timetable()
        self._risk: list[RiskList] = []
        #: Cleared, ``record`` waits until it is set again (a stalled SD card).
        self.gate = threading.Event()
        self.gate.set()
        #: Raised (once) by the next ``record``, before anything is stored.
        self.fail_next: BaseException | None = None

    # -- writing -----------------------------------------------------------------------------
    def record(self, events: Sequence[Event]) -> list[Event]:
        batch = list(events)
        for event in batch:
            if not isinstance(event, Event):
                raise ValidationError(f"record() takes events, not {type(event).__name__}")
        self.gate.wait(timeout=GATE_TIMEOUT)
        with self._lock:
            if self.fail_next is not None:
                failure, self.fail_next = self.fail_next, None
                raise failure
            results: list[Event] = []
            fresh: list[Event] = []
            for event in batch:
                stored = self._by_id.get(event.event_id) or next(
                    (e for e in fresh if e.event_id == event.event_id), None
                )
                if stored is None:
                    stored = event.with_seq(len(self._journal) + len(fresh) + 1)
                    fresh.append(stored)
                results.append(stored)
            changes = [self._projected(e) for e in fresh]  # all checked before any is stored
            for event, change in zip(fresh, changes, strict=True):
                self._journal.append(event)
                self._by_id[event.event_id] = event
                self._apply(event, change, local=True)
            return results

    # -- families and cards ------------------------------------------------------------------
    @staticmethod
    def _projected(event: Event, strict: bool = True) -> tuple[str, str, Family | Card] | None:
        """(projection, key, value) a family or card event sets; None for other events."""
        data = event.data
        try:
            if event.type in ("member.registered", "member.updated"):
                family = Family.from_dict(data["family"])
                return "families", family.family_id, family
            if event.type in ("card.assigned", "card.revoked"):
                uid = str(data["uid"])
                active = event.type == "card.assigned"
                return "cards", uid, Card(uid, str(data.get("family_id", "")), active)
        except (KeyError, TypeError, ValueError, KioskError) as exc:
            if strict:
                raise ValidationError(
                    f"{event.type} event {event.event_id} cannot be applied: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
        return None

    def _apply(self, event: Event, change: tuple[str, str, Any] | None, local: bool) -> bool:
        if event.type.startswith("attendance."):
            key = self._session_key(event)
            if key is not None:
                self._sessions.setdefault(key, []).append(event)
            return False
        if change is None:
            return False
        name, key, value = change
        table = self._families if name == "families" else self._cards
        current = table.get(key)
        if current is not None and current.event_id == event.event_id:
            return False
        older = current is not None and (event.at, event.event_id) <= (current.at, current.event_id)
        if not local and older:  # a roster event never undoes a newer change
            return False
        if isinstance(value, Card) and not value.family_id and current is not None:
            value = Card(value.uid, current.value.family_id, value.active)  # a bare revocation
        table[key] = _Record(value, event)
        return True

    def family(self, family_id: str) -> Family | None:
        with self._lock:
            found = self._families.get(family_id)
            return found.value if found else None  # type: ignore[return-value]

    def families(self) -> list[Family]:
        with self._lock:
            return [r.value for r in self._families.values()]  # type: ignore[misc]

    def card(self, uid: str) -> Card | None:
        with self._lock:
            found = self._cards.get(uid)
            return found.value if found else None  # type: ignore[return-value]

    def apply_remote(self, events: Sequence[Event]) -> int:
        """Roster events from other kiosks: families and cards only, never the outbox."""
        batch = sorted(
            (e for e in events if isinstance(e, Event) and not e.type.startswith("attendance.")),
            key=lambda e: (e.at, e.event_id),
        )
        with self._lock:
            return sum(self._apply(e, self._projected(e, strict=False), local=False) for e in batch)

    # -- attendances and history -------------------------------------------------------------
    @staticmethod
    def _session_key(event: Event) -> str | None:
        try:
            if event.type == "attendance.recorded":
                return str(event.data["session"]["key"])
            return str(event.data["session_key"])
        except (KeyError, TypeError):
            return None

    def attendances_in(self, session_key: str) -> list[Attendance]:
        try:
            date.fromisoformat(session_key[:10])
        except (TypeError, ValueError):
            raise ValidationError(
                f"session key {session_key!r} must start with a date, like 2026-11-23/stay-play"
            ) from None
        with self._lock:
            events = list(self._sessions.get(session_key, ()))
        return list(replay_attendances(events).values())

    def events(self, since: date | None = None, until: date | None = None) -> Iterator[Event]:
        with self._lock:
            journal = list(self._journal)
        for event in journal:
            day = filing_day(event, DEFAULT_TZ)
            if (since and day < since) or (until and day > until):
                continue
            yield event

    def attendances(self, since: date | None = None, until: date | None = None) -> list[Attendance]:
        events = (e for e in self.events(since, until) if e.type.startswith("attendance."))
        return list(replay_attendances(events).values())

    def highest_seq(self) -> int:
        with self._lock:
            return len(self._journal)

    # -- the timetable and the risk list -----------------------------------------------------
    def timetable(self) -> Timetable:
        with self._lock:
            return self._timetable

    def save_timetable(self, timetable: Timetable) -> None:
        with self._lock:
            self._timetable = timetable

    def risk_list(self) -> RiskList:
        with self._lock:
            return self._risk[-1] if self._risk else RiskList()

    def save_risk_list(
        self,
        areas: Iterable[RiskArea],
        source: str,
        at: datetime,
        *,
        rule: str = "",
        sources: Sequence[RiskSource] = (),
        number: int | None = None,
    ) -> RiskList:
        with self._lock:
            number_next = max((r.number for r in self._risk), default=0) + 1
            number = number if number is not None and number >= number_next else number_next
            risk = RiskList(number, frozenset(areas), at, source, rule, tuple(sources))
            self._risk.append(risk)
            return risk

    def risk_history(self) -> list[RiskList]:
        with self._lock:
            return list(self._risk)

    # -- the outbox --------------------------------------------------------------------------
    def _waiting(self) -> Iterator[Event]:
        return (e for e in self._journal if e.seq not in self._done)

    def pending(self, limit: int) -> list[Event]:
        with self._lock:
            return list(itertools.islice(self._waiting(), limit))

    def mark_sent(self, event_ids: Iterable[str], at: datetime | None = None) -> None:
        with self._lock:
            held = [e for i in event_ids if (e := self._by_id.get(str(i))) is not None]
            fresh = {e.seq for e in held if e.seq not in self._done}
            if not fresh:
                return
            self._done |= fresh  # type: ignore[arg-type]
            for event in held:  # the server holds it now, so it is refused no longer
                self._rejected.pop(event.event_id, None)

    def mark_rejected(self, event_id: str, reason: str, kind: str = "refused") -> None:
        with self._lock:
            event = self._by_id.get(event_id)
            if event is None:
                raise NotFoundError(f"no event {event_id} on this kiosk to mark as rejected")
            self._rejected[event_id] = {
                "event": event.to_dict(),
                "reason": str(reason),
                "at": _iso(datetime.now(UTC)),
                "kind": kind,
            }
            self._done.add(event.seq)  # type: ignore[arg-type]

    def rejected(self) -> list[dict]:
        with self._lock:
            return [{**v, "event": dict(v["event"])} for v in self._rejected.values()]

    def waiting_count(self) -> int:
        with self._lock:
            return len(self._journal) - len(self._done)

    def oldest_waiting(self) -> Event | None:
        found = self.pending(1)
        return found[0] if found else None

    def requeue_from(self, seq: int) -> int:
        """Send again every event from ``seq`` on (rejected ones stay aside); how many more wait."""
        with self._lock:
            before = self.waiting_count()
            rejected = {v["event"]["seq"] for v in self._rejected.values()}
            self._done -= {s for s in self._done if s >= seq and s not in rejected}
            return self.waiting_count() - before

    def sync_state(self) -> dict:
        with self._lock:
            return dict(self._notes)

    def update_sync_state(self, **changes: Any) -> None:
        with self._lock:
            self._notes.update({k: _json_value(v) for k, v in changes.items()})

    def close(self) -> None:
        """Nothing to close; here because the app closes its store when it stops."""
