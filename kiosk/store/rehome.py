"""Re-homing: every event not yet held by the server becomes the enrolled device's.

A kiosk's events belong to the device that recorded them, whatever name it used then (DESIGN.md,
the seams: Identity). Enrolment rewrites waiting events, and those refused for their identity,
to the enrolled device and site, exactly once.

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API and
the outbox's public methods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kiosk.domain.events import DeviceIdentity, is_identity_refusal
from kiosk.store.core import StoreCore, iso
from kiosk.store.outbox import Outbox


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
            "at": iso(at),
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


class Rehoming:
    """Gives the store's events the enrolled identity (``LocalStore.rehome``)."""

    def __init__(self, core: StoreCore, outbox: Outbox) -> None:
        self.core = core
        self.outbox = outbox

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
        self.core.must_write("rehome")
        wanted = {"device_id": identity.device_id, "site_id": identity.site_id}
        with self.core.locked():
            outbox = self.core.outbox_state()
            highest = self.core.highest()
            rejected = dict(self.core.rejected_table())
            back = {
                int(entry["event"]["seq"]): doc_id
                for doc_id, entry in rejected.items()
                if isinstance(entry["event"].get("seq"), int)
                and is_identity_refusal(str(entry.get("reason", "")))
                and _identity_of(entry["event"]) != wanted
            }
            names: set[tuple[str, str]] = set()
            moved: list[int] = []
            for start, end, day in self.core.seq_state().ranges(highest):
                if day is None or (end <= outbox.acked_through and not back):
                    continue
                journal = self.core.journal(day)
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
                    self.core.journals.pop(day, None)
                    journal.close()
            requeued = self.outbox.requeue_rejected(
                {s: back[s] for s in self.outbox.kept_seqs(back)}
            )
            result = Rehomed(
                identity.device_id,
                identity.site_id,
                len(moved),
                len(requeued),
                tuple(sorted(f"{d} at {s}" for d, s in names)),
            )
            if moved or requeued:
                self.core.update_sync_notes({"rehomed": result.note(at or datetime.now(UTC))})
            return result
