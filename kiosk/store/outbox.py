"""The outbox: events waiting for the server, those it refused, and the sync daemon's notes.

``sync.json`` holds the outbox (every seq up to ``acked_through`` is done, plus the few done
above it) and the daemon's notes; ``rejected.json`` the events the server refused, kept aside
with the reason, never deleted. Waiting events are read from the day journals by seq.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from kiosk.domain.errors import NotFoundError
from kiosk.domain.events import Event
from kiosk.store.core import StoreCore, iso
from kiosk.store.state import OutboxState

#: How many event ids ``pending()`` remembers so that ``mark_sent`` finds them at once.
ID_HINTS = 10_000


class Outbox:
    """Pending, sent and rejected events, and the sync daemon's notes."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core
        self._id_hints: dict[str, tuple[int, date]] = {}

    def pending(self, limit: int) -> list[Event]:
        """Up to ``limit`` events not yet acknowledged nor rejected, lowest seq first."""
        if limit <= 0:
            return []
        with self.core.locked():
            outbox = self.core.outbox_state()
            highest = self.core.highest()
            found: list[Event] = []
            for start, end, day in self.core.seq_state().ranges(highest):
                if end <= outbox.acked_through or day is None:
                    continue
                low = max(start, outbox.acked_through + 1)
                for event in self.core.journal(day).events_between(low, end):
                    if event.seq is not None and not outbox.is_done(event.seq):
                        found.append(event)
                        if len(found) >= limit:
                            break
                if len(found) >= limit:
                    break
            if len(self._id_hints) > ID_HINTS:
                self._id_hints.clear()
            for event in found:
                self._id_hints[event.event_id] = (event.seq or 0, self.core.day_of(event))
            return found

    def mark_sent(self, event_ids: Iterable[str], at: datetime | None = None) -> None:
        """The server holds these events (accepted or duplicate): take them out of the outbox.

        Durable when it returns. Unknown or already acknowledged ids are ignored.
        """
        self.core.must_write("mark_sent")
        ids = [str(i) for i in event_ids]
        if not ids:
            return
        when = iso(at or datetime.now(UTC))
        with self.core.locked():
            outbox = self.core.outbox_state()
            seqs = self._locate(ids, outbox)
            fresh = [s for s in seqs.values() if not outbox.is_done(s)]
            if not fresh:
                return
            updated = outbox.with_done(fresh)
            self.core.write_outbox(
                OutboxState(updated.acked_through, updated.done_above, when),
            )
            # One put back in the outbox by a retry that a power cut interrupted may still be
            # listed as refused: the server holds it now, so it is refused no longer.
            table = self.core.rejected_table()
            if table:
                held = set(seqs)
                kept = {k: v for k, v in table.items() if v["event"].get("event_id") not in held}
                if len(kept) != len(table):
                    self.core.write_rejected(kept)

    def mark_rejected(self, event_id: str, reason: str, kind: str = "refused") -> None:
        """The server refused this event: keep it aside with the reason, out of the outbox.

        ``kind`` is ``conflict`` when the server holds a different copy of it (a replayed or
        forged id): it is then not for sending again but for comparing
        (:meth:`keep_server_copy`)."""
        self.core.must_write("mark_rejected")
        with self.core.locked():
            outbox = self.core.outbox_state()
            seq = self._locate([event_id], outbox).get(event_id)
            event = self._event_by_seq(seq) if seq is not None else self._find_anywhere(event_id)
            if event is None or event.seq is None:
                raise NotFoundError(f"no event {event_id} on this kiosk to mark as rejected")
            table = dict(self.core.rejected_table())
            entry = {"event": event.to_dict(), "reason": str(reason), "at": iso(datetime.now(UTC))}
            if kind != "refused":
                entry["kind"] = kind
            doc_id = next(
                (k for k, v in table.items() if v.get("event", {}).get("event_id") == event_id),
                str(max((int(k) for k in table), default=0) + 1),
            )
            table[doc_id] = entry
            self.core.write_rejected(table)
            if not outbox.is_done(event.seq):
                self.core.write_outbox(outbox.with_done([event.seq]))

    def rejected(self) -> list[dict]:
        """Events the server rejected, oldest first: ``{"event": {...}, "reason", "at"}``."""
        with self.core.mutex:
            self.core.ensure_open()
            table = self.core.rejected_table()
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
        self.core.must_write("keep_server_copy")
        wanted = {str(i) for i in event_ids}
        with self.core.locked():
            table = dict(self.core.rejected_table())
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
            self.core.write_rejected(table)
            return sorted(str(v) for v in settled.values())

    def waiting_count(self) -> int:
        """How many events wait to be sent (cheap: two counters and the highest seq)."""
        with self.core.locked():
            outbox = self.core.outbox_state()
            highest = self.core.highest()
            above = sum(1 for s in outbox.done_above if s <= highest)
            return max(0, highest - outbox.acked_through - above)

    def requeue_from(self, seq: int) -> int:
        """Send again every kept event from ``seq`` on (the server lost them, e.g. restored
        from a backup); rejected events stay aside. Returns how many now wait.
        """
        self.core.must_write("requeue_from")
        seq = max(1, seq)
        with self.core.locked():
            outbox = self.core.outbox_state()
            highest = self.core.highest()
            if seq > highest:
                return 0
            before = highest - outbox.acked_through - len(outbox.done_above)
            kept: set[int] = set()
            for start, end, day in self.core.seq_state().ranges(highest):
                if day is None or end < seq:
                    continue
                kept.update(
                    e.seq
                    for e in self.core.journal(day).events_between(max(start, seq), end)
                    if e.seq is not None
                )
            rejected = {
                int(v["event"]["seq"])
                for v in self.core.rejected_table().values()
                if v.get("event", {}).get("seq") is not None
            }
            low = min(outbox.acked_through, seq - 1)
            done = {s for s in outbox.done_above if s < seq}
            done.update(s for s in range(seq, highest + 1) if s not in kept or s in rejected)
            updated = OutboxState(low, frozenset(), outbox.last_ack_at).with_done(done)
            self.core.write_outbox(updated)
            after = highest - updated.acked_through - len(updated.done_above)
            return max(0, after - before)

    def retry_rejected(self, event_ids: Iterable[str] | None = None) -> list[str]:
        """Put refused events back in the outbox, to be sent again (all of them, or those
        named): for after the cause was put right (a family registered on the server, a
        device enrolled at the right site). Events no longer kept here stay aside. Returns
        the ids put back."""
        self.core.must_write("retry_rejected")
        wanted = None if event_ids is None else {str(i) for i in event_ids}
        with self.core.locked():
            table = self.core.rejected_table()
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
            kept = self.kept_seqs(chosen)
            return [ids[s] for s in self.requeue_rejected({s: chosen[s] for s in kept})]

    def requeue_rejected(self, docs: Mapping[int, str]) -> list[int]:
        """Take refused events (seq -> their entry in rejected.json) back into the outbox."""
        requeued = sorted(docs)
        if not requeued:
            return []
        # The outbox first: a power cut in between leaves the event both waiting and listed
        # as refused (the next call tidies the list), never in neither.
        outbox = self.core.outbox_state()
        low = min(outbox.acked_through, requeued[0] - 1)
        done = set(outbox.done_above)
        done.update(range(low + 1, outbox.acked_through + 1))
        done.difference_update(requeued)
        self.core.write_outbox(OutboxState(low, frozenset(), outbox.last_ack_at).with_done(done))
        rejected = dict(self.core.rejected_table())
        for seq in requeued:
            rejected.pop(docs[seq], None)
        self.core.write_rejected(rejected)
        return requeued

    def kept_seqs(self, seqs: Iterable[int]) -> set[int]:
        """Which of ``seqs`` are still kept in a day file (the rest were pruned)."""
        wanted = set(seqs)
        found: set[int] = set()
        for start, end, day in self.core.seq_state().ranges(self.core.highest()):
            if day is None:
                continue
            hits = [s for s in wanted if start <= s <= end]
            if hits:
                journal = self.core.journal(day)
                found.update(s for s in hits if journal.events_between(s, s))
        return found

    def _locate(self, ids: Sequence[str], outbox: OutboxState) -> dict[str, int]:
        """The seqs of waiting events with these ids (ids not waiting are left out)."""
        found: dict[str, int] = {}
        missing: set[str] = set()
        for event_id in ids:
            hint = self._id_hints.get(event_id)
            if hint is not None:
                event = self.core.journal(hint[1]).get(event_id)
                if event is not None and event.seq == hint[0]:
                    found[event_id] = hint[0]
                    continue
            missing.add(event_id)
        if missing:
            for start, end, day in self.core.seq_state().ranges(self.core.highest()):
                if day is None or end <= outbox.acked_through:
                    continue
                journal = self.core.journal(day)
                for event_id in list(missing):
                    event = journal.get(event_id)
                    if event is not None and event.seq is not None and start <= event.seq <= end:
                        found[event_id] = event.seq
                        missing.discard(event_id)
                if not missing:
                    break
        return found

    def _event_by_seq(self, seq: int) -> Event | None:
        for start, end, day in self.core.seq_state().ranges(self.core.highest()):
            if start <= seq <= end and day is not None:
                found = self.core.journal(day).events_between(seq, seq)
                return found[0] if found else None
        return None

    def _find_anywhere(self, event_id: str) -> Event | None:
        for day, _ in reversed(self.core.part_files()):
            event = self.core.journal(day).get(event_id)
            if event is not None:
                return event
        return None

    def sync_state(self) -> dict:
        """The sync daemon's notes (last success, last error, roster cursor...)."""
        with self.core.mutex:
            self.core.ensure_open()
            return dict(self.core.sync_tables().get("sync", {}).get("1", {}))

    def update_sync_state(self, **changes: Any) -> None:
        """Change some of the sync daemon's notes (datetimes are stored as ISO text)."""
        self.core.must_write("update_sync_state")
        with self.core.locked():
            self.core.update_sync_notes(changes)
