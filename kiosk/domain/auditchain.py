"""The hash chain under both audit logs: the kiosk's ``audit.jsonl`` and the server's table.

Each entry stores the hash of the one before it (``prev``) and its own hash,
``sha256(prev + canonical JSON of its fields)``; the first entry follows :data:`GENESIS`. Changing,
removing or inserting an entry breaks the chain at that entry, and :class:`ChainWalk` says
where and how. Where the entries are kept, and which fields each log hashes, stay with each log
(``kiosk.audit``, ``central.audit``); only the chain is here, so the two cannot drift apart.

The hashes of entries already written depend on the exact text hashed, so :func:`canonical` and
:func:`link_hash` must never change: both logs' tests verify logs written before this module.

    >>> walk = ChainWalk()
    >>> first = link_hash(GENESIS, ["2026-11-23T10:00:00+00:00", "jo", "login.ok"])
    >>> walk.step(GENESIS, ["2026-11-23T10:00:00+00:00", "jo", "login.ok"], first) is None
    True
    >>> walk.step(GENESIS, ["another"], "0" * 64)
    <Break.UNLINKED: 'does not follow the one before it'>
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The ``prev`` of the first entry.
GENESIS = "0" * 64
#: Keys refused in an entry's detail, at any depth: secrets never go into an audit log.
SECRET_KEYS = frozenset({"password", "pin", "token", "secret"})


def canonical(value: Any) -> str:
    """The JSON text that is hashed (and stored): sorted keys, no spaces, UTF-8 as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(prev: str, fields: Sequence[Any]) -> str:
    """An entry's hash: SHA-256 of the previous entry's hash followed by its fields' JSON."""
    return hashlib.sha256((prev + canonical(list(fields))).encode("utf-8")).hexdigest()


def secret_in(detail: Mapping[str, Any], where: str = "detail") -> str | None:
    """Where the first secret-looking key in ``detail`` is (``detail.a.pin``), or None, so each
    log can refuse the entry with its own error before anything is written."""
    for key, value in detail.items():
        if str(key).lower() in SECRET_KEYS:
            return f"{where}.{key}"
        if isinstance(value, Mapping):
            found = secret_in(value, f"{where}.{key}")
            if found:
                return found
    return None


class Break(enum.Enum):
    """How an entry breaks the chain (each log words it with its own noun: row, line)."""

    #: Its ``prev`` is not the hash of the entry before it: one was removed, inserted or
    #: changed before it.
    UNLINKED = "does not follow the one before it"
    #: Its own fields no longer give its hash: it was changed after it was written.
    CHANGED = "was changed after it was written"


@dataclass
class ChainWalk:
    """Walks a chain oldest first: ``head`` is the hash of the last entry that held, ``length``
    how many held. Stops being useful at the first break (the caller reports it and stops)."""

    head: str = GENESIS
    length: int = 0

    def step(self, prev: str, fields: Sequence[Any], stored_hash: str) -> Break | None:
        """Check the next entry; None (and the walk moves on) if it holds, else the break."""
        if prev != self.head:
            return Break.UNLINKED
        if link_hash(prev, fields) != stored_hash:
            return Break.CHANGED
        self.head = stored_hash
        self.length += 1
        return None
