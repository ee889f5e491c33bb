"""Seq history: what became of seqs no longer kept here, seq floors, and adopting events.

Seqs are gap-free per device (``kiosk.store.state``). When days are pruned, when a store starts
again above seqs given out before it (a new SD card, a restored backup), or when a backup's
events are adopted, ``history.json`` (``kiosk.store.history``) records what those seqs were, so
the server's ``holds_up_to`` can be checked and lost seqs explained.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from kiosk.domain.events import Event
from kiosk.store.core import StoreCore, iso
from kiosk.store.errors import CorruptFileError
from kiosk.store.history import LostSpan, SeqHistory, day_summary
from kiosk.store.state import SeqState


@dataclass(frozen=True)
class SeqInventory:
    """What a store has of seqs ``low``..``high`` (:meth:`LocalStore.seq_inventory`)."""

    low: int
    high: int
    kept: tuple[int, ...]
    rejected: Mapping[int, str]
    lost: tuple[LostSpan, ...]


class Seqs:
    """The seq history, floors and adoption of a store's own events from another copy."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def delivered_through(self) -> int:
        """Every seq up to this one is held by the server as far as this kiosk knows
        (acknowledged, set aside, or given out before this store): what the server's
        ``holds_up_to`` is checked against after it was restored from a backup."""
        with self.core.locked():
            return self.core.outbox_state().acked_through

    def seq_history(self) -> SeqHistory:
        """What became of seqs no longer kept here: pruned days and seq floors."""
        with self.core.locked():
            return self.read()

    def merge_seq_history(self, other: SeqHistory) -> None:
        """Add what another copy of this store knew of pruned seqs (a backup restore)."""
        self.core.must_write("merge_seq_history")
        with self.core.locked():
            self.write(self.read().merged(other))

    def raise_seq_floor(self, seq: int, why: str, at: datetime | None = None) -> int:
        """Number new events above ``seq``: seqs up to it were given out before this store
        (a new SD card, a restored backup), so they are never used again here and are not
        this store's to send. Noted in ``history.json``. Returns the highest seq in use.
        """
        self.core.must_write("raise_seq_floor")
        with self.core.locked():
            highest = self.core.highest()
            if seq > highest:
                when = iso(at or datetime.now(UTC))
                self.write(self.read().with_floor(highest + 1, seq, when, why))
                state = self.core.seq_state()
                runs = list(state.runs)
                if not runs or runs[-1][1] is not None:
                    runs.append((highest + 1, None))
                self.core.write_seq(SeqState(seq, tuple(runs), None))
                highest = seq
            self.settle_unfiled()
            return highest

    def adopt_events(self, events: Sequence[Event]) -> tuple[list[Event], list[Event]]:
        """Write events that carry seqs this device gave them (from another copy of this
        store: a backup is restored over newer events) under those same seqs.

        Returns ``(adopted, refused)``. An event already held is neither. One whose seq is at
        or below the highest seq in use here is refused: this store gave that seq to another
        event, or pruned it. Seqs skipped between adopted events (pruned on the other copy)
        are not sent again.
        """
        self.core.must_write("adopt_events")
        batch = sorted(
            {e.event_id: e for e in events if isinstance(e, Event) and e.seq}.values(),
            key=lambda e: e.seq or 0,
        )
        with self.core.locked():
            highest = self.core.highest()
            fresh: list[Event] = []
            refused: list[Event] = []
            for event in batch:
                if self.core.journal(self.core.day_of(event)).get(event.event_id) is not None:
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
                    state = self.core.seq_state()
                    runs = list(state.runs)
                    if not runs or runs[-1][1] is not None:
                        runs.append((highest + 1, None))
                    self.core.write_seq(SeqState(first - 1, tuple(runs), None))
                    highest = first - 1
                self.core.commit([(e, self.core.day_of(e)) for e in chunk], highest)
                highest = chunk[-1].seq or highest
            self.settle_unfiled()
            return fresh, refused

    def seq_inventory(self, low: int, high: int) -> SeqInventory:
        """What this kiosk has of seqs ``low``..``high``: kept (can be sent again), set aside
        as rejected, and lost (pruned, before this store, unreadable) with their sessions."""
        low = max(1, low)
        with self.core.locked():
            highest = self.core.highest()
            high = min(high, highest)
            kept: list[int] = []
            for start, end, day in self.core.seq_state().ranges(highest):
                if day is None or end < low or start > high:
                    continue
                kept.extend(
                    e.seq
                    for e in self.core.journal(day).events_between(max(start, low), min(end, high))
                    if e.seq is not None
                )
            rejected: dict[int, str] = {}
            for value in self.core.rejected_table().values():
                seq = value.get("event", {}).get("seq")
                if isinstance(seq, int) and low <= seq <= high:
                    rejected[seq] = str(value.get("reason", ""))
            have = set(kept) | set(rejected)
            lost = [s for s in range(low, high + 1) if s not in have]
            spans = self.read().spans(lost) if lost else []
        return SeqInventory(
            low, high, tuple(s for s in sorted(kept) if s not in rejected), rejected, tuple(spans)
        )

    def read(self) -> SeqHistory:
        try:
            return SeqHistory.from_tables(
                self.core.history_file.path, self.core.history_file.peek()
            )
        except CorruptFileError as exc:
            self.core.quarantine.set_aside(
                self.core.history_file,
                exc.reason,
                "Which sessions pruned seqs were for is no longer known; the seqs themselves "
                "stay used.",
            )
            return SeqHistory()

    def write(self, history: SeqHistory) -> None:
        self.core.history_file.write(history.to_tables())

    def note_pruned(
        self,
        doomed: Mapping[date, int],
        ranges: Sequence[tuple[int, int, date | None]],
        now: datetime,
    ) -> None:
        """Before days are pruned: their seq ranges and sessions, in ``history.json``."""
        at = iso(now if now.tzinfo else now.replace(tzinfo=self.core.tz))
        entries = [
            day_summary(
                day.isoformat(),
                [(a, b) for a, b, d in ranges if d == day],
                self.core.journal(day).events(),
                at,
            )
            for day in sorted(doomed)
        ]
        self.write(self.read().with_pruned(entries))

    def settle_unfiled(self) -> None:
        """Seqs filed under no day (pruned, given out before this store, skipped by an adopt)
        are never this store's to send: make sure the outbox says so (also after a crash
        between the seq record and the outbox)."""
        outbox = self.core.outbox_state()
        highest = self.core.highest()
        loose = [
            s
            for start, end, day in self.core.seq_state().ranges(highest)
            if day is None
            for s in range(max(start, outbox.acked_through + 1), end + 1)
            if not outbox.is_done(s)
        ]
        if loose:
            self.core.write_outbox(outbox.with_done(loose))
