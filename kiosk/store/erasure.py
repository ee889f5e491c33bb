"""Removing an erased family from the kiosk's store (the right to erasure).

The central server tells each kiosk of the organisation, with the roster, that a family was
erased: a token, the salted hash of the family id, the salt (``sync.protocol.ErasureNotice``).
The kiosk finds the family by hashing the ids it holds, then:

- drops the family's record and its cards from ``state/families.json`` and ``state/cards.json``;
- rewrites every kept event about the family in the day files (``events/*.json``) and in
  ``rejected.json`` with ``kiosk.domain.erasure.scrub_event``: the family and its children
  become their tokens, names, postcode, criteria and card uids go. Seq numbers, event ids and
  the attendances stay, so the outbox and the server's ``holds_up_to`` are untouched and events
  not yet sent still go, scrubbed, and still count;
- takes the family's ids and names out of quarantined files and the sync notes.

Applying the same notice again changes nothing (the family is no longer found). Called by
:meth:`kiosk.store.local.LocalStore.apply_erasures` (through ``kiosk.store.roster``), which
holds the store's lock; it works through the store's internal API, ``kiosk.store.core.StoreCore``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.domain.erasure import (
    REDACTED,
    SCRUBBED_UID,
    Erasure,
    event_family,
    family_hash,
    is_erased,
    redact,
    scrub_event,
)
from kiosk.store.atomic import atomic_write

if TYPE_CHECKING:
    from kiosk.store.core import StoreCore


@dataclass
class ErasedHere:
    """What was removed from this kiosk for one erased family."""

    token: str
    family: bool = False
    cards: int = 0
    events: int = 0
    rejected: int = 0
    secrets: set[str] = field(default_factory=set, repr=False)


def match_notices(notices: Iterable[Mapping[str, Any]], family_ids: Iterable[str]) -> list[Erasure]:
    """The erasures among ``notices`` whose family is one of ``family_ids``."""
    wanted: dict[tuple[str, str], str] = {}
    for notice in notices:
        try:
            wanted[(str(notice["salt"] or ""), str(notice["family_hash"]))] = str(notice["token"])
        except (KeyError, TypeError):
            continue
    found: dict[str, Erasure] = {}
    ids = sorted({f for f in family_ids if f and not is_erased(f)})
    for salt in {salt for salt, _ in wanted}:
        for family_id in ids:
            token = wanted.get((salt, family_hash(salt, family_id)))
            if token is not None:
                found[family_id] = Erasure(family_id, token, salt)
    return list(found.values())


def erase_in_store(core: StoreCore, notices: Sequence[Mapping[str, Any]]) -> list[ErasedHere]:
    """Remove every family named by ``notices`` from the store (the lock is held)."""
    families = core.families
    cards = core.cards
    core.refresh_projection(families)
    core.refresh_projection(cards)
    days = sorted({day for day, _ in core.part_files()})
    known = set(families.records)
    known.update(str(doc["value"].get("family_id", "")) for doc in cards.records.values())
    for day in days:
        for event in core.journal(day).events():
            known.add(event_family(event.to_dict()) or "")
    for entry in core.rejected_table().values():
        known.add(event_family(entry.get("event", {})) or "")
    out = []
    for erasure in match_notices(notices, known):
        out.append(_erase_one(core, erasure, days))
    return out


def _erase_one(core: StoreCore, erasure: Erasure, days: Sequence[Any]) -> ErasedHere:
    done = ErasedHere(erasure.token)
    secrets = done.secrets
    secrets.add(erasure.family_id)
    record = core.families.records.get(erasure.family_id)
    if record is not None:
        _note_family(record.get("value", {}), secrets)
    own_cards = {
        uid
        for uid, doc in core.cards.records.items()
        if doc.get("value", {}).get("family_id") == erasure.family_id
    }
    uids = set(own_cards)  # and the uids its events name (a card since given to another)
    # The day files: scrub the family's events, keeping seq and event id.
    for day in days:
        journal = core.journal(day)
        for part in list(journal.parts):
            table = dict(part.table)
            changed = False
            for doc_id, doc in part.table.items():
                if event_family(doc) != erasure.family_id:
                    continue
                _note_event(doc, secrets, uids)
                table[doc_id] = scrub_event(doc, erasure)
                changed = True
                done.events += 1
            if changed:
                part.write(table)
        # Cached attendances were built from the old documents: read the day afresh.
        core.journals.pop(day, None)
        journal.close()
    # Set-aside events.
    rejected = dict(core.rejected_table())
    touched = False
    for doc_id, entry in rejected.items():
        event = entry.get("event", {})
        if event_family(event) != erasure.family_id:
            continue
        _note_event(event, secrets, uids)
        rejected[doc_id] = {
            **entry,
            "event": scrub_event(event, erasure),
            "reason": redact(str(entry.get("reason", "")), secrets),
        }
        touched = True
        done.rejected += 1
    if touched:
        core.write_rejected(rejected)
    secrets.update(uids)
    # The projections: the family's record and cards go.
    if record is not None:
        _drop(core.families, "families", {erasure.family_id})
        done.family = True
    if own_cards:
        _drop(core.cards, "cards", own_cards)
        done.cards = len(own_cards)
    redact_quarantine(core, secrets, erasure)
    _redact_sync_notes(core, secrets)
    return done


def _note_family(value: Mapping[str, Any], secrets: set[str]) -> None:
    for key in ("family_id", "greeting_name", "postcode"):
        if isinstance(value.get(key), str):
            secrets.add(value[key])
    for child in value.get("children", ()) or ():
        if isinstance(child, Mapping):
            for key in ("child_id", "first_name"):
                if isinstance(child.get(key), str):
                    secrets.add(child[key])


def _note_event(doc: Mapping[str, Any], secrets: set[str], uids: set[str]) -> None:
    data = doc.get("data", {})
    if not isinstance(data, Mapping):
        return
    if isinstance(data.get("family"), Mapping):
        _note_family(data["family"], secrets)
    if isinstance(data.get("uid"), str) and data["uid"] != SCRUBBED_UID:
        uids.add(data["uid"])
    for child in data.get("children", ()) if isinstance(data.get("children"), list) else ():
        if isinstance(child, str) and not is_erased(child):
            secrets.add(child)


def _drop(projection: Any, table_name: str, keys: set[str]) -> None:
    """Remove records from a projection file, keeping its other records and ``applied_seq``."""
    data = projection.storage.peek() or {}
    table = {
        doc_id: doc
        for doc_id, doc in data.get(table_name, {}).items()
        if projection.key_of(doc) not in keys
    }
    projection.storage.write({**data, table_name: table})
    projection.refresh()


def redact_quarantine(core: StoreCore, secrets: set[str], erasure: Erasure) -> None:
    """Quarantined files are unreadable copies kept for a person: take the family out of them
    as text (ids, names and postcode as JSON strings), since they cannot be parsed."""
    folder = core.layout.quarantine
    quoted = [s for s in secrets if len(s) >= 2]
    for name in sorted(os.listdir(folder)) if folder.exists() else []:
        path = folder / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        clean = text.replace(erasure.family_id, erasure.token)
        for secret in quoted:
            clean = clean.replace(json.dumps(secret)[1:-1], REDACTED)
        if clean != text:
            atomic_write(path, clean.encode("utf-8", errors="surrogateescape"))


def _redact_sync_notes(core: StoreCore, secrets: set[str]) -> None:
    notes = dict(core.sync_tables().get("sync", {}).get("1", {}))
    changes = {
        key: redact(value, secrets)
        for key, value in notes.items()
        if isinstance(value, str) and redact(value, secrets) != value
    }
    if changes:
        core.update_sync_notes(changes)
