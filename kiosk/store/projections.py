"""Families and cards: projections of ``member.*`` and ``card.*`` events, cached in memory.

``state/families.json`` and ``state/cards.json`` are TinyDB files (tables ``families`` and
``cards``; table ``meta`` holds ``applied_seq``, the highest local seq applied). Each document
keeps the value and which event set it (``event_id``, ``at``), so that applying the same event
twice changes nothing and a roster event from another kiosk only wins when it is newer.

Reads come from memory; the file is parsed again only when another process replaced it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kiosk.domain.errors import KioskError, ValidationError
from kiosk.domain.events import Event
from kiosk.domain.families import Card, Family
from kiosk.store.durable import AtomicJSONStorage
from kiosk.store.errors import CorruptFileError

if TYPE_CHECKING:
    from kiosk.store.overlay import Overlay

T = TypeVar("T")

FAMILIES = "families"
CARDS = "cards"

#: Which projection each event type changes.
PROJECTED_TYPES: Mapping[str, str] = {
    "member.registered": FAMILIES,
    "member.updated": FAMILIES,
    "card.assigned": CARDS,
    "card.revoked": CARDS,
}


def projections_of(events: Iterable[Event]) -> list[str]:
    """The projections that ``events`` change, in a fixed order."""
    names = {PROJECTED_TYPES[e.type] for e in events if e.type in PROJECTED_TYPES}
    return [n for n in (FAMILIES, CARDS) if n in names]


def _change(event: Event, current: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The key and the new value an event sets (raises KeyError/ValueError on a bad event)."""
    data = event.data
    if event.type in ("member.registered", "member.updated"):
        family = Family.from_dict(data["family"])
        return family.family_id, family.to_dict()
    uid = str(data["uid"])
    if event.type == "card.assigned":
        return uid, Card(uid, str(data["family_id"]), True).to_dict()
    family_id = data.get("family_id") or (current or {}).get("value", {}).get("family_id", "")
    return uid, Card(uid, str(family_id), False).to_dict()


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _is_newer(event: Event, current: Mapping[str, Any]) -> bool:
    try:
        at = _at(current["at"])
    except (KeyError, TypeError, ValueError):
        return True
    return (event.at, event.event_id) > (at, str(current.get("event_id", "")))


class Projection(Generic[T]):
    """One projection file: documents by key, domain objects built lazily and cached."""

    def __init__(
        self,
        path: os.PathLike[str] | str,
        name: str,
        factory: Callable[[Mapping[str, Any]], T],
        overlay: Overlay | None = None,
    ) -> None:
        self.storage = AtomicJSONStorage(path, overlay=overlay)
        self.path = self.storage.path
        self.name = name
        self._factory = factory
        self._generation = -1
        self.records: dict[str, dict[str, Any]] = {}
        self._doc_ids: dict[str, str] = {}
        self._next_id = 1
        self.applied_seq = 0
        self._objects: dict[str, T] = {}
        self._all: list[T] | None = None

    def refresh(self) -> None:
        """Re-read the file if another process replaced it (raises CorruptFileError)."""
        data = self.storage.peek()
        if self.storage.generation == self._generation:
            return
        records: dict[str, dict[str, Any]] = {}
        doc_ids: dict[str, str] = {}
        next_id = 1
        applied = 0
        if data is not None:
            for doc_id, doc in data.get(self.name, {}).items():
                try:
                    key = self.key_of(doc)
                    next_id = max(next_id, int(doc_id) + 1)
                except (KeyError, TypeError, ValueError) as exc:
                    raise CorruptFileError(
                        self.path, f"document {doc_id} is not a {self.name} record ({exc})"
                    ) from None
                records[key] = doc
                doc_ids[key] = doc_id
            meta = data.get("meta", {}).get("1", {})
            try:
                applied = int(meta.get("applied_seq", 0))
            except (TypeError, ValueError):
                raise CorruptFileError(self.path, "applied_seq is not a number") from None
        self.records, self._doc_ids, self._next_id = records, doc_ids, next_id
        self.applied_seq = applied
        self._objects, self._all = {}, None
        self._generation = self.storage.generation

    def key_of(self, doc: Mapping[str, Any]) -> str:
        """The key of a stored record: its family id or card uid."""
        value = doc["value"]
        return str(value["family_id"] if self.name == FAMILIES else value["uid"])

    def get(self, key: str) -> T | None:
        obj = self._objects.get(key)
        if obj is None:
            doc = self.records.get(key)
            if doc is None:
                return None
            try:
                obj = self._factory(doc["value"])
            except (KeyError, TypeError, ValueError, KioskError) as exc:
                raise CorruptFileError(
                    self.path, f"the {self.name} record {key!r} cannot be read ({exc})"
                ) from None
            self._objects[key] = obj
        return obj

    def all(self) -> list[T]:
        if self._all is None:
            self._all = [obj for key in self.records if (obj := self.get(key)) is not None]
        return list(self._all)

    def plan(
        self, events: Iterable[Event], local: bool, strict: bool | None = None
    ) -> tuple[dict[str, dict[str, Any]], int]:
        """The records ``events`` change, and how many events changed something.

        Local events are applied in seq order as they happen; a remote one (from the roster)
        only replaces a record set by an older event. The same event twice changes nothing.
        A malformed event raises ValidationError when ``strict`` (default: for local events,
        which are checked before anything is written) and is skipped otherwise.
        """
        strict = local if strict is None else strict
        changes: dict[str, dict[str, Any]] = {}
        count = 0
        for event in events:
            if PROJECTED_TYPES.get(event.type) != self.name:
                continue
            key = _key_hint(event)
            current = changes.get(key) or self.records.get(key)
            if current is not None and current.get("event_id") == event.event_id:
                continue
            if not local and current is not None and not _is_newer(event, current):
                continue
            try:
                key, value = _change(event, current)
            except (KeyError, TypeError, ValueError, KioskError) as exc:
                if strict:
                    raise ValidationError(
                        f"{event.type} event {event.event_id} cannot be applied: "
                        f"{type(exc).__name__}: {exc}"
                    ) from None
                continue  # a malformed roster event changes nothing here
            changes[key] = {
                "value": value,
                "event_id": event.event_id,
                "at": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "device_id": event.device_id,
                "seq": event.seq if local else None,
            }
            count += 1
        return changes, count

    def write(self, changes: Mapping[str, dict[str, Any]], applied_seq: int | None) -> None:
        """Write the file with ``changes`` applied (and ``applied_seq`` when given)."""
        self.refresh()
        records = dict(self.records)
        doc_ids = dict(self._doc_ids)
        next_id = self._next_id
        for key, doc in changes.items():
            records[key] = doc
            if key not in doc_ids:
                doc_ids[key] = str(next_id)
                next_id += 1
        table = {doc_ids[key]: records[key] for key in records}
        applied = self.applied_seq if applied_seq is None else max(self.applied_seq, applied_seq)
        meta = {"1": {"applied_seq": applied}}
        self.storage.write({self.name: table, "meta": meta})
        self.refresh()

    def close(self) -> None:
        self.storage.close()


def _key_hint(event: Event) -> str:
    try:
        if event.type.startswith("member."):
            return str(event.data["family"]["family_id"])
        return str(event.data["uid"])
    except (KeyError, TypeError):
        return ""


def families_projection(
    path: os.PathLike[str] | str, overlay: Overlay | None = None
) -> Projection[Family]:
    return Projection(path, FAMILIES, Family.from_dict, overlay)


def cards_projection(
    path: os.PathLike[str] | str, overlay: Overlay | None = None
) -> Projection[Card]:
    return Projection(path, CARDS, Card.from_dict, overlay)
