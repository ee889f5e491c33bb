"""Pruning: days older than the retention window whose events the server holds are dropped.

What they were (their seq ranges and sessions) is noted in ``history.json`` first, so a tap's
cost stays bounded after months of use while no seq is ever given twice or left unexplained.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API and
the seq history's public methods.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kiosk.store.atomic import fsync_dir
from kiosk.store.core import StoreCore
from kiosk.store.seqs import Seqs
from kiosk.store.state import SeqState


class Pruner:
    """Drops old, fully acknowledged days (``LocalStore.prune``)."""

    def __init__(self, core: StoreCore, seqs: Seqs) -> None:
        self.core = core
        self.seqs = seqs

    def prune(self, now: datetime) -> int:
        """Drop days older than the retention window whose events are all acknowledged (or
        rejected, which are kept in rejected.json). Returns how many events were dropped.
        """
        self.core.must_write("prune")
        local_now = now.replace(tzinfo=self.core.tz) if now.tzinfo is None else now
        cutoff = local_now.astimezone(self.core.tz).date() - timedelta(
            days=self.core.retention_days
        )
        with self.core.locked():
            outbox = self.core.outbox_state()
            highest = self.core.highest()
            days = sorted({d for d, _ in self.core.part_files() if d < cutoff})
            doomed: dict[date, int] = {}
            for day in days:
                journal = self.core.journal(day)
                if all(outbox.is_done(s) for s in journal.seqs()):
                    doomed[day] = len(journal)
            if not doomed:
                return 0
            state = self.core.seq_state()
            runs = [(start, None if day in doomed else day) for start, day in state.runs]
            while runs and runs[0][1] is None and len(runs) > 1:
                runs.pop(0)
            merged: list[tuple[int, date | None]] = []
            for run in runs:
                if merged and merged[-1][1] is None and run[1] is None:
                    continue
                merged.append(run)
            self.seqs.note_pruned(doomed, state.ranges(highest), now)
            self.core.write_seq(SeqState(max(state.high_water, highest), tuple(merged), None))
            for day in doomed:
                self.core.forget_journal(day)
            for day, path in self.core.part_files():
                if day in doomed:
                    path.unlink(missing_ok=True)
            fsync_dir(self.core.layout.events)
            return sum(doomed.values())
