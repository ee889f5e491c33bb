"""The organisation's salt for erased families' hashes, and pseudonyms for the audit log.

One random salt per organisation (``privacy_salts``), made on first use. The same salt makes
``family_hash`` (kept by an erasure, sent to kiosks) and the pseudonym the audit log records
for an export, so the log never holds a family id that an erasure would have to remove.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from central.db import privacy_salts
from central.db.batch_rows import salt_of
from kiosk.domain.erasure import family_hash, new_salt


def org_salt(conn: Connection, org_id: str, now: datetime) -> str:
    """The organisation's salt, made now if it has none (inside the caller's transaction,
    which holds the organisation's lock)."""
    salt = salt_of(conn, org_id)
    if salt is not None:
        return salt
    salt = new_salt()  # callers hold the organisation's lock: nobody makes one meanwhile
    conn.execute(insert(privacy_salts).values(org_id=org_id, salt=salt, created_at=now))
    return salt


def pseudonym(salt: str, family_id: str) -> str:
    """``family-`` and 16 hex digits: names a family in the audit log without its id."""
    return "family-" + family_hash(salt, family_id)[:16]
