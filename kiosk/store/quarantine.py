"""Setting unreadable files aside: the store's ``quarantine/`` folder and ``problems()``.

A file that cannot be read is moved to ``quarantine/`` with a plain-words note saying what was
wrong and what the store did instead; nothing is deleted. A day file is moved so that seqs stay
gap-free and the outbox counts stay true. A read-only store moves nothing: the file reads as
gone in its overlay and a note says the next writer will move it. ``problems()`` reads the notes.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from kiosk.store.atomic import atomic_write, fsync_dir, is_temp_name
from kiosk.store.core import StoreCore
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError
from kiosk.store.journal import JournalPart
from kiosk.store.layout import REASON_SUFFIX, parse_part_name
from kiosk.store.state import SeqState

_SEQ_IN_RAW = re.compile(rb'"seq"\s*:\s*(\d+)')


class Quarantine:
    """Moves unreadable files aside with a note, and reports them (``problems``)."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def set_aside(self, storage: AtomicJSONStorage, reason: str, consequence: str = "") -> None:
        with self.core.locked():
            path = Path(storage.path)
            storage.forget()
            if storage.exists():
                dest = self.move(path)
                self.write_note(path, dest, reason, consequence)
            storage.forget()

    def move(self, path: Path) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        rel = self.core.layout.relative(path).replace("/", "--")
        dest = self.core.layout.quarantine / f"{stamp}--{rel}"
        if self.core.overlay is not None:  # read-only: it reads as gone, and stays where it is
            self.core.overlay.put(path, None)
            return dest
        os.replace(path, dest)
        fsync_dir(path.parent)
        fsync_dir(self.core.layout.quarantine)
        return dest

    def write_note(self, path: Path, dest: Path, reason: str, consequence: str) -> None:
        """The plain-words note beside a quarantined file, which ``problems()`` reports."""
        if self.core.read_only:
            self.core.note(
                f"{self.core.layout.relative(path)} could not be read: {reason}. It was not moved "
                "(this command only reads): the kiosk app or kiosk-sync moves it to "
                f"quarantine/ the next time it uses the store. {consequence}".strip()
            )
            return
        moved = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = (
            f"{self.core.layout.relative(path)} could not be read: {reason}. It was moved to "
            f"quarantine/{dest.name} on {moved}. {consequence}"
        ).strip()
        note = dest.with_name(dest.name + REASON_SUFFIX)
        atomic_write(note, (text + "\n").encode("utf-8"))

    def day_part(self, path: Path, reason: str) -> None:
        """Move an unreadable day file aside, keeping seqs gap-free and the outbox counts true."""
        with self.core.locked():
            probe = JournalPart(path, self.core.overlay)
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
            state = self.core.seq_state()
            outbox = self.core.outbox_state()
            last_start = state.runs[-1][0] - 1 if state.runs else 0
            journal = self.core.journals.pop(day, None)
            known = journal.max_seq() if journal is not None else 0  # from before the damage
            if journal is not None:
                journal.close()
            server = self.core.sync_tables().get("sync", {}).get("1", {}).get("server_holds_up_to")
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
            dest = self.move(path)
            if self.core.layout.part(day, index + 1).exists():  # keep the part numbers contiguous
                placeholder = AtomicJSONStorage(path, overlay=self.core.overlay)
                placeholder.write({"events": {}})
                placeholder.close()
            highest = max(bound, self.core.highest())
            if highest > state.high_water:
                self.core.write_seq(SeqState(highest, state.runs, state.pending))
            present = set(self.core.journal(day).seqs())
            lost = [
                s
                for start, end, run_day in self.core.seq_state().ranges(highest)
                if run_day == day
                for s in range(start, end + 1)
                if s not in present and not outbox.is_done(s)
            ]
            if lost:
                self.core.write_outbox(self.core.outbox_state().with_done(lost))
                consequence = (
                    f"{len(lost)} event(s) not yet sent (seq {lost[0]} to {lost[-1]}) are only "
                    "in that file: they left the outbox and need a person to recover them."
                )
            elif salvaged:
                consequence = "Its events had all been acknowledged by the server already."
            else:
                consequence = ""
            self.write_note(path, dest, reason, consequence)

    def problems(self) -> list[str]:
        """What is wrong with the data folder, in plain words (quarantined files and the like)."""
        with self.core.mutex:
            out: list[str] = []
            folder = self.core.layout.quarantine
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
            out.extend(self.core.notes)
            for journal in self.core.journals.values():
                out.extend(
                    f"an attendance event could not be read: {u}" for u in journal.unreadable
                )
            return out
