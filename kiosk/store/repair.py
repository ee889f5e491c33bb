"""Repairs when the store opens, and rebuilding a state file from the kept events.

At open: temporary files of unfinished writes go, the small state files are read (an unreadable
one is set aside and rebuilt from the day files), a write that spanned several files and was cut
short is finished or undone (the intent noted in ``seq.json``), and every day file is checked to
end whole. Opening thus costs the same after a year as after a day.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.domain.erasure import event_family, is_erased
from kiosk.domain.events import Event
from kiosk.store.atomic import temp_target, writer_gone
from kiosk.store.core import StoreCore
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError
from kiosk.store.projections import PROJECTED_TYPES, Projection
from kiosk.store.state import OutboxState, SeqState


class Repair:
    """Opens a store (finishing what a crash left) and rebuilds unreadable state files."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def open(self) -> None:
        """Check and repair the data folder (the caller holds the lock, ``core.opening`` set)."""
        core = self.core
        if not core.read_only:  # a reader ignores them: they are never read
            self.remove_temp_files()
        sync_ok = self.check(core.sync_file, core.outbox_state)
        seq_ok = self.check(core.seq_file, core.seq_state)
        self.check(core.rejected_file, core.rejected_table)
        if seq_ok and sync_ok:
            self.recover_intent()
            self.check_days()
        else:
            found = self.scan_all_days()
            if not seq_ok:
                self.rebuild_seq(found)
            if not sync_ok:
                self.rebuild_outbox(found)
        for projection in (core.families, core.cards):
            try:
                projection.refresh()
                projection.all()  # every record readable; also warms the cache for the first tap
            except CorruptFileError as exc:
                self.rebuild_projection(projection, exc.reason)

    def check(self, storage: AtomicJSONStorage, reader: Any) -> bool:
        """Read a small state file; quarantine it when unreadable. False when it was."""
        try:
            storage.peek()
            reader()
            return True
        except CorruptFileError as exc:
            consequence = {
                str(self.core.layout.sync): (
                    "The outbox was rebuilt from the events kept on the kiosk: every kept event "
                    "not known to be rejected will be sent again (the server ignores duplicates)."
                ),
                str(self.core.layout.seq): "Sequence numbers were rebuilt from the kept events.",
                str(self.core.layout.rejected): (
                    "The list of rejected events starts again empty; the old one is kept here."
                ),
            }.get(storage.path, "")
            self.core.quarantine.set_aside(storage, exc.reason, consequence)
            return False

    def remove_temp_files(self) -> None:
        """Temporary files of writes that never finished (``kiosk.store.atomic``).

        The store's own, and in the data folder itself those of other modules' files (the
        volunteers, the identity) once the process that wrote them has ended: those modules
        keep their files under locks of their own, and a running one may be writing now.
        """
        own = {
            self.core.layout.seq.name,
            self.core.layout.sync.name,
            self.core.layout.rejected.name,
            self.core.layout.history.name,
        }
        folders = (
            self.core.layout.root,
            self.core.layout.events,
            self.core.layout.state,
            self.core.layout.risk,
            self.core.layout.quarantine,
        )
        for folder in folders:
            for name in os.listdir(folder) if folder.is_dir() else []:
                target = temp_target(name)
                if target is None:
                    continue
                if folder == self.core.layout.root and target not in own and not writer_gone(name):
                    continue
                (folder / name).unlink(missing_ok=True)

    def recover_intent(self) -> None:
        """Finish or undo a write that spanned several files and was cut short."""
        state = self.core.seq_state()
        intent = state.pending
        if not intent:
            return
        low, high = intent["from"], intent["to"]
        days = [date.fromisoformat(d) for d in intent["days"]]
        if self.core.read_only:
            self.core.note(
                f"a write of seq {low} to {high} was cut short (a full disk or a power cut?) "
                "and is not finished on disk: this command only reads; the kiosk app or "
                "kiosk-sync finishes it the next time it uses the store, with room on the disk"
            )
        found: dict[int, Event] = {}
        for day in days:
            for event in self.core.journal(day).events_between(low, high):
                found[event.seq or 0] = event
        if len(found) == high - low + 1:
            events = [found[s] for s in sorted(found)]
            for name in intent["projections"]:
                projection = self.core.projection_named(name)
                self.core.refresh_projection(projection)
                if projection.applied_seq < high:
                    changes, _ = projection.plan(events, local=True, strict=False)
                    projection.write(changes, applied_seq=high)
            self.core.write_seq(SeqState(max(state.high_water, high), state.runs, None))
        else:
            for day in days:
                self.core.journal(day).remove_range(low, high)
            runs = tuple(r for r in state.runs if r[0] < low)
            self.core.write_seq(SeqState(min(state.high_water, low - 1), runs, None))

    def check_days(self) -> None:
        """Read the day that holds the highest seq; check that every other day file ends whole.

        A file cut short (the usual damage) is caught here, at start, by its last bytes; other
        damage is caught, and quarantined the same way, when the day is first read. Opening
        thus costs the same after a year as after a day.
        """
        self.core.highest()
        for day, path in self.core.part_files():
            if not self.ends_whole(path):
                self.core.journal(day)  # a full read says exactly what is wrong, and quarantines

    @staticmethod
    def ends_whole(path: Path) -> bool:
        try:
            with open(path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - 64))
                tail = fh.read().rstrip()
        except FileNotFoundError:
            return True
        return tail.endswith(b"}}") or tail == b"{}"

    def scan_all_days(self) -> dict[int, date]:
        """Every kept seq and its day (quarantining unreadable day files on the way)."""
        found: dict[int, date] = {}
        for day in sorted({d for d, _ in self.core.part_files()}):
            for seq in self.core.journal(day).seqs():
                found[seq] = day
        return found

    def rebuild_seq(self, found: dict[int, date]) -> None:
        runs: list[tuple[int, date | None]] = []
        for seq in sorted(found):
            if not runs or runs[-1][1] != found[seq]:
                runs.append((seq, found[seq]))
        outbox = self.core.outbox_state()
        high = max(
            [self.core.seq_state().high_water, outbox.acked_through, *outbox.done_above, *found, 0]
        )
        self.core.write_seq(SeqState(high, tuple(runs), None))

    def rebuild_outbox(self, found: dict[int, date]) -> None:
        highest = self.core.highest()
        low = min(found) - 1 if found else highest
        rejected = {
            int(v["event"]["seq"])
            for v in self.core.rejected_table().values()
            if v.get("event", {}).get("seq") is not None
        }
        done = {s for s in range(low + 1, highest + 1) if s not in found or s in rejected}
        self.core.write_outbox(OutboxState(low, frozenset()).with_done(done))

    def rebuild_projection(self, projection: Projection[Any], reason: str) -> None:
        # Scrubbed events of erased families (the right to erasure) rebuild nothing.
        events = [
            e
            for e in self.all_kept_events()
            if PROJECTED_TYPES.get(e.type) == projection.name
            and not is_erased(event_family(e.to_dict()))
        ]
        days = self.core.retention_days
        self.core.quarantine.set_aside(
            projection.storage,
            reason,
            f"Rebuilt from the {len(events)} {projection.name} events kept on the kiosk; "
            f"{projection.name} recorded elsewhere or more than {days} days ago "
            "come back with the next roster sync.",
        )
        projection.refresh()
        changes, _ = projection.plan(events, local=True, strict=False)
        projection.write(changes, applied_seq=self.core.highest())
        self.core.update_sync_notes({"roster_cursor": None})

    def all_kept_events(self) -> list[Event]:
        out: list[Event] = []
        for start, end, day in self.core.seq_state().ranges(self.core.highest()):
            if day is not None:
                out.extend(self.core.journal(day).events_between(start, end))
        return out
