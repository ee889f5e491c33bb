"""The roster: families and cards registered at the organisation's other kiosks.

Roster events from the server update the projections (``state/families.json``,
``state/cards.json``) without being journalled or given a seq of this kiosk; erasure notices
remove a family everywhere in the store (``kiosk.store.erasure``).

A piece of ``LocalStore`` (``kiosk.store.local``): it uses only ``StoreCore``'s internal API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kiosk.domain.events import Event
from kiosk.store.core import StoreCore
from kiosk.store.erasure import erase_in_store
from kiosk.store.projections import PROJECTED_TYPES


class Roster:
    """Applies the server's roster (events and erasure notices) to this store."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def apply_remote(self, events: Sequence[Event]) -> int:
        """Apply roster events from other kiosks to families and cards; how many changed something.

        They are not journalled, not put in this kiosk's outbox and get no seq of this kiosk.
        Applying the same event again changes nothing; an event older than what a family or
        card already reflects is ignored.
        """
        self.core.must_write("apply_remote")
        batch = [e for e in events if isinstance(e, Event) and e.type in PROJECTED_TYPES]
        if not batch:
            return 0
        batch.sort(key=lambda e: (e.at, e.event_id))
        with self.core.locked():
            total = 0
            for projection in (self.core.families, self.core.cards):
                self.core.refresh_projection(projection)
                changes, count = projection.plan(batch, local=False)
                if changes:
                    projection.write(changes, applied_seq=None)
                    total += count
            return total

    def apply_erasures(self, notices: Sequence[Mapping[str, Any]]) -> int:
        """Remove families erased on the server; how many families were here."""
        self.core.must_write("apply_erasures")
        if not notices:
            return 0
        with self.core.locked():
            return len(erase_in_store(self.core, notices))
