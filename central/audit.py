"""The central server's audit log: who did what to personal data and its safeguards, and when.

Every row is chained to the one before: ``hash = sha256(prev_hash + content)``, where the content
is the row's time, actor, action, subject and detail (canonical JSON); the chain itself is
``kiosk.domain.auditchain``, shared with the kiosk's log. Changing, removing or inserting a row
breaks the chain at that row, and ``kiosk-central audit verify`` names it. The
table is append-only in the database itself (triggers refuse UPDATE and DELETE, and TRUNCATE on
PostgreSQL; see ``central.db``), so an edit needs someone who can drop a trigger, and then
``verify`` still sees it. Removing the newest rows leaves a shorter chain that is still whole:
note the head hash ``verify`` prints (e.g. in the monthly invoice e-mail) to catch that too.

    >>> record(db, "alice", "report.download", "lichfield", {"report": "csv"})  # doctest: +SKIP
    >>> verify(db).ok                                                             # doctest: +SKIP
    True

Never put a password, PIN, token or family name in ``detail``: references only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from central.db import CentralDB, audit_log, utcnow
from kiosk.cli_io import os_actor
from kiosk.domain.auditchain import GENESIS, SECRET_KEYS, Break, ChainWalk, canonical, link_hash
from kiosk.domain.auditchain import secret_in as _secret_in

__all__ = [
    "GENESIS",
    "SECRET_KEYS",
    "AuditEntry",
    "AuditError",
    "Verdict",
    "canonical",
    "entries",
    "entry_hash",
    "os_actor",
    "record",
    "verify",
]
_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_PAGE = 1000


class AuditError(ValueError):
    """A record the log will not take (a developer's mistake: the message says which)."""


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def line(self) -> str:
        """One tab-separated line for ``kiosk-central audit show``."""
        detail = canonical(self.detail) if self.detail else ""
        when = self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.id}\t{when}\t{self.actor}\t{self.action}\t{self.subject}\t{detail}"


@dataclass(frozen=True)
class Verdict:
    """What ``verify`` found: ``ok``, the rows checked, and the first broken row if any."""

    ok: bool
    rows: int
    head: str
    broken_id: int | None = None
    problem: str = ""


def _fields(at: datetime, actor: str, action: str, subject: str, detail_text: str) -> list[str]:
    """What a row's hash covers (the detail as the stored text, not re-encoded)."""
    return [
        at.astimezone(UTC).isoformat(timespec="microseconds"),
        actor,
        action,
        subject,
        detail_text,
    ]


def entry_hash(
    prev_hash: str, at: datetime, actor: str, action: str, subject: str, detail_text: str
) -> str:
    """A row's hash, chained onto ``prev_hash``."""
    return link_hash(prev_hash, _fields(at, actor, action, subject, detail_text))


def record(
    db: CentralDB,
    actor: str,
    action: str,
    subject: str = "",
    detail: Mapping[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Append one row: ``actor`` (a user or OS account) did ``action`` (``family.export``,
    ``login.failed``...) to ``subject`` (an organisation, user, device or family reference).

    Rows are chained under a lock (PostgreSQL: an advisory lock; SQLite: ``BEGIN IMMEDIATE``),
    so two server processes never fork the chain.
    """
    if not _ACTION.match(action):
        raise AuditError(f"action {action!r} must be dotted lower-case words (e.g. user.add)")
    detail = dict(detail or {})
    secret = _secret_in(detail)
    if secret:
        raise AuditError(f"{secret}: secrets are never written to the audit log")
    try:
        detail_text = canonical(detail)
    except (TypeError, ValueError) as exc:
        raise AuditError(f"detail of {action} is not plain JSON: {exc}") from None
    actor = (actor or "unknown")[:200]
    subject = (subject or "")[:200]
    at = (now or utcnow()).astimezone(UTC)
    with db.writing_shared("audit_log") as conn:
        prev = conn.execute(
            select(audit_log.c.hash).order_by(audit_log.c.id.desc()).limit(1)
        ).scalar()
        prev = prev or GENESIS
        conn.execute(
            insert(audit_log).values(
                at=at,
                actor=actor,
                action=action,
                subject=subject,
                detail=detail_text,
                prev_hash=prev,
                hash=entry_hash(prev, at, actor, action, subject, detail_text),
            )
        )


def _entry(row: Any) -> AuditEntry:
    try:
        detail = json.loads(row.detail)
    except ValueError:
        detail = {"unreadable": row.detail}
    return AuditEntry(
        int(row.id),
        row.at,
        row.actor,
        row.action,
        row.subject,
        detail if isinstance(detail, dict) else {"value": detail},
        row.prev_hash,
        row.hash,
    )


def _rows(db: CentralDB, query: Any) -> Iterator[Any]:
    """Rows of ``query`` in id order, a page at a time (the log can be long)."""
    after = 0
    while True:
        with db.reading() as conn:
            page = conn.execute(
                query.where(audit_log.c.id > after).order_by(audit_log.c.id).limit(_PAGE)
            ).all()
        yield from page
        if len(page) < _PAGE:
            return
        after = int(page[-1].id)


def entries(
    db: CentralDB,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> Iterator[AuditEntry]:
    """The log, oldest first: from ``since``, by ``actor``, with actions starting ``action``
    (``login`` gives ``login.ok``, ``login.failed``... ; ``login.ok`` only that)."""
    query = select(audit_log)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if action:
        prefix = action.rstrip(".")
        query = query.where(
            (audit_log.c.action == prefix) | audit_log.c.action.startswith(prefix + ".")
        )
    for row in _rows(db, query):
        yield _entry(row)


def verify(db: CentralDB) -> Verdict:
    """Walk the whole chain; the first row whose link or hash is wrong is reported."""
    walk = ChainWalk()
    for row in _rows(db, select(audit_log)):
        fields = _fields(row.at, row.actor, row.action, row.subject, row.detail)
        broken = walk.step(row.prev_hash, fields, row.hash)
        if broken is Break.UNLINKED:
            problem = (
                f"row {row.id} does not follow the row before it (a row was removed, inserted "
                "or changed before it)"
            )
        elif broken is Break.CHANGED:
            problem = f"row {row.id} ({row.action} by {row.actor}) was changed after it was written"
        else:
            continue
        return Verdict(False, walk.length + 1, walk.head, int(row.id), problem)
    return Verdict(True, walk.length, walk.head)
