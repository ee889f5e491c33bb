"""What kiosks send and pull: ingest, the roster, and the bookkeeping of their seqs."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from central.claims import DateWindow, write_off_refusal
from central.db import holds
from central.db.base import Database
from central.db.batch_rows import at_path, salt_of
from central.db.enrolment import device_by_token
from central.db.errors import NotFound, WriteOffRefused
from central.db.ingest import Batch
from central.db.records import Device, IngestResult, RosterPage
from central.db.schema import (
    devices,
    erasures,
    event_conflicts,
    events,
    rejections,
    seq_gaps,
    server_meta,
    utcnow,
)
from kiosk.domain.erasure import ERASED_PREFIX
from sync.protocol import ROSTER_PAGE_SIZE, ROSTER_TYPES, Checked, validate_event

#: Tries at a batch: an IntegrityError means another request for the same events (a retry
#: racing the original) committed first, and the next try answers them as duplicates.
_ATTEMPTS = (1, 2, 3)

# -- the statements of every batch's holds, built once (see batch_rows.InLookup) -----------------
_HOLDS_UP_TO = select(devices.c.holds_up_to).where(devices.c.device_id == bindparam("device"))
_EPOCH = select(server_meta.c.value).where(server_meta.c.key == "epoch")
_MAX_CURSOR = select(func.max(events.c.id))


def _roster_query(own: bool) -> Any:
    """A page of the organisation's member and card events after ``cursor``, from its other
    kiosks (and, with ``own``, the asking kiosk's own up to ``own_through``), built once."""
    others = events.c.device_id != bindparam("device")
    if own:
        others = or_(others, events.c.seq <= bindparam("own_through", type_=BigInteger))
    return (
        select(events.c.id, events.c.raw)
        .where(
            events.c.org_id == bindparam("org"),
            events.c.type.in_(ROSTER_TYPES),
            events.c.id > bindparam("cursor", type_=BigInteger),
            others,
            ~events.c.subject_id.startswith(ERASED_PREFIX, autoescape=True),
        )
        .order_by(events.c.id)
        .limit(bindparam("page"))
    )


_ROSTER = _roster_query(own=False)
_ROSTER_WITH_OWN = _roster_query(own=True)
#: The highest seq of a device held as an event and as a refusal (``_HIGHEST_SEQ_SENT``), and
#: the furthest end of its write-offs too (``_HIGHEST_SEQ``).
_HIGHEST = [
    select(func.max(column)).where(table.c.device_id == bindparam("device")).scalar_subquery()
    for table, column in (
        (events, events.c.seq),
        (rejections, rejections.c.seq),
        (seq_gaps, seq_gaps.c.to_seq),
    )
]
_HIGHEST_SEQ_SENT = select(*_HIGHEST[:2])
_HIGHEST_SEQ = select(*_HIGHEST)


class KioskData(Database):
    """Ingest, the roster, seq bookkeeping (held, set aside, written off) and the epoch."""

    # -- ingest ------------------------------------------------------------------------------------
    def ingest(
        self,
        device: Device,
        raw_events: Sequence[Any],
        now: datetime | None = None,
        window: DateWindow | None = None,
    ) -> IngestResult:
        """Validate and apply a batch from ``device``; one answer per event, in order.

        Idempotent by ``event_id``: an event already held is answered ``duplicate`` and changes
        nothing. All of the batch is applied in one transaction, or none of it. ``window``
        replaces the dates a kiosk's events may carry (``central.claims``) for what the
        server's admin types in (paper registers of any past term).
        """
        return self._ingest(lambda _conn: device, raw_events, now or utcnow(), window)[1]

    def ingest_for_token(
        self, token: str, raw_events: Sequence[Any], admit: Callable[[Device | None], Device]
    ) -> tuple[Device, IngestResult]:
        """:meth:`ingest` for the device ``token`` belongs to, looked up in the batch's own
        transaction: one connection and transaction per batch, where a lookup first and then
        the batch took two (each a pool checkout with its ping, a BEGIN and an end).

        ``admit`` gets the device found (None for an unknown token) and returns it, or raises
        to refuse the batch (``central.app``: 401, 403, 413); nothing is written then.
        On PostgreSQL the organisation's lock is taken by the token's statement.
        """
        locks = self.dialect == "postgresql"
        return self._ingest(
            lambda conn: admit(device_by_token(conn, token, lock_org=locks)),
            raw_events,
            utcnow(),
            None,
            org_locked=locks,
        )

    def _ingest(
        self,
        find: Callable[[Connection], Device],
        raw_events: Sequence[Any],
        now: datetime,
        window: DateWindow | None,
        org_locked: bool = False,
    ) -> tuple[Device, IngestResult]:
        """The batch from the device ``find`` names (asked in the batch's transaction), with
        the organisation's lock taken once the device is known, as :meth:`writing` does
        (``org_locked``: ``find`` took it)."""
        checked: dict[tuple[str, str], list[Checked]] = {}  # validated once, not once a try
        for attempt in _ATTEMPTS:
            try:
                with self.engine.begin() as conn:
                    device = find(conn)
                    where = (device.device_id, device.site_id)
                    if where not in checked:
                        checked[where] = [validate_event(raw, *where) for raw in raw_events]
                    if not org_locked:
                        self._lock_org(conn, device.org_id)
                    results = Batch(conn, device, checked[where], now, window).apply()
                    held_up_to = holds.advance(conn, device.device_id, now)
                    return device, IngestResult(results, held_up_to)
            except IntegrityError:
                if attempt == _ATTEMPTS[-1]:
                    raise
        raise AssertionError("unreachable")

    # -- roster ------------------------------------------------------------------------------------
    def roster(
        self,
        device: Device,
        cursor: int,
        limit: int = ROSTER_PAGE_SIZE,
        own_through: int = 0,
        erasures_after: int | None = None,
    ) -> RosterPage:
        """Member and card events of ``device``'s organisation from its other kiosks, and its
        own with ``seq <= own_through`` (those a replaced or restored store no longer has).

        Events of erased families (scrubbed, their subject an ``erased-`` token) are never
        served. ``erasures_after`` also asks for the organisation's erasures after
        that cursor; they are read after the events, so a kiosk that applies the events and
        then the erasures never keeps a family erased meanwhile.
        """
        with self.reading() as conn:
            page = self._roster_events(conn, device, cursor, limit, own_through)
        return self._with_erasures(page, device, limit, erasures_after)

    def roster_for_token(
        self,
        token: str,
        admit: Callable[[Device | None], Device],
        cursor: int,
        limit: int = ROSTER_PAGE_SIZE,
        own_through: int = 0,
        erasures_after: int | None = None,
    ) -> tuple[RosterPage, str, int]:
        """:meth:`roster` for the device ``token`` belongs to (``admit`` as for
        :meth:`ingest_for_token`), with the epoch and the highest cursor: the token, the page,
        the epoch and the cursor are read on one connection, where they took four (the
        erasures, when asked, are still read after, on their own)."""
        with self.reading() as conn:
            device = admit(device_by_token(conn, token))
            page = self._roster_events(conn, device, cursor, limit, own_through)
            epoch = conn.execute(_EPOCH).scalar()
            highest = int(conn.execute(_MAX_CURSOR).scalar() or 0)
        if epoch is None:
            epoch = self.renew_epoch(only_if_missing=True)
        return self._with_erasures(page, device, limit, erasures_after), epoch, highest

    @staticmethod
    def _roster_events(
        conn: Connection, device: Device, cursor: int, limit: int, own_through: int
    ) -> RosterPage:
        """One page of the roster's events (no erasures), read on ``conn``."""
        query = _ROSTER_WITH_OWN if own_through > 0 else _ROSTER
        params = {"org": device.org_id, "cursor": cursor, "device": device.device_id}
        params |= {"own_through": own_through, "page": limit + 1}
        rows = conn.execute(query, params).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return RosterPage([r.raw for r in rows], rows[-1].id if rows else cursor, more)

    def _with_erasures(
        self, page: RosterPage, device: Device, limit: int, erasures_after: int | None
    ) -> RosterPage:
        """``page`` with the organisation's erasures after ``erasures_after`` (when asked),
        read after the events, so a kiosk that applies the events and then the erasures
        never keeps a family erased meanwhile."""
        if erasures_after is None:
            return page
        with self.reading() as conn:
            salt = salt_of(conn, device.org_id)
            found = conn.execute(
                select(
                    erasures.c.id, erasures.c.token, erasures.c.family_hash, erasures.c.erased_at
                )
                .where(erasures.c.org_id == device.org_id, erasures.c.id > erasures_after)
                .order_by(erasures.c.id)
                .limit(limit + 1)
            ).all()
        erasures_more = len(found) > limit
        found = found[:limit]
        gone = [
            {
                "cursor": int(r.id),
                "token": r.token,
                "family_hash": r.family_hash,
                "salt": salt,
                "erased_at": r.erased_at.isoformat().replace("+00:00", "Z"),
            }
            for r in found
        ]
        return RosterPage(
            page.texts,
            page.cursor,
            page.more,
            erasures=gone,
            erasure_cursor=int(found[-1].id) if found else erasures_after,
            erasures_more=erasures_more,
        )

    # -- counts, for status and tests --------------------------------------------------------------
    def count(self, table: Table, **where: Any) -> int:
        with self.reading() as conn:
            query = select(func.count()).select_from(table)
            for key, value in where.items():
                query = query.where(table.c[key] == value)
            return int(conn.execute(query).scalar_one())

    def holds_up_to(self, device_id: str) -> int:
        with self.reading() as conn:
            value = conn.execute(_HOLDS_UP_TO, {"device": device_id}).scalar()
        return int(value or 0)

    # -- recovery: seqs held, written off, the epoch -----------------------------------------------
    def device_and_highest_seq(
        self, token: str, admit: Callable[[Device | None], Device]
    ) -> tuple[Device, int]:
        """The device ``token`` belongs to (``admit`` as for :meth:`ingest_for_token`; its
        ``holds_up_to`` is read with it) and its highest seq held, on one connection."""
        with self.reading() as conn:
            device = admit(device_by_token(conn, token))
            return device, self._highest_seq(conn, device.device_id)

    def highest_seq(self, device_id: str) -> int:
        """The highest seq of ``device_id`` the server knows: held, set aside or written off.

        A kiosk whose store is behind it (new SD card, restored backup) continues above it.
        """
        with self.reading() as conn:
            return self._highest_seq(conn, device_id)

    @staticmethod
    def _highest_seq(conn: Connection, device_id: str, write_offs: bool = True) -> int:
        """The highest seq of ``device_id`` the server holds: as an event, a refusal set aside,
        or (with ``write_offs``) the end of a range written off. One statement: every
        ``GET /device`` asks."""
        query = _HIGHEST_SEQ if write_offs else _HIGHEST_SEQ_SENT
        found = conn.execute(query, {"device": device_id}).one()
        return max((int(v) for v in found if v is not None), default=0)

    def undo_write_off(self, device_id: str, gap_id: int, now: datetime | None = None) -> int:
        """Take back a write-off (``kiosk-central device undo-gap``): the seqs it covered are
        no longer counted as held, so ``holds_up_to`` is worked out again from the start.
        Returns ``holds_up_to`` afterwards."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            device = conn.execute(select(devices).where(devices.c.device_id == device_id)).first()
            if device is None:
                raise NotFound(f"no device {device_id!r} is enrolled")
            self._lock_org(conn, device.org_id)
            gone = conn.execute(
                delete(seq_gaps).where(seq_gaps.c.device_id == device_id, seq_gaps.c.id == gap_id)
            ).rowcount
            if not gone:
                raise NotFound(
                    f"device {device_id!r} has no write-off {gap_id}: "
                    f"'kiosk-central device gaps {device_id}' lists them"
                )
            conn.execute(
                update(devices).where(devices.c.device_id == device_id).values(holds_up_to=0)
            )
            return holds.advance(conn, device_id, now)

    def record_gaps(self, device: Device, gaps: Sequence[Any], now: datetime | None = None) -> int:
        """Write off seqs ``device`` can never send (``sync.protocol.Gap``); the same gap
        reported again is kept once. Returns ``holds_up_to`` afterwards."""
        now = now or utcnow()
        with self.writing(device.org_id) as conn:
            highest = self._highest_seq(conn, device.device_id, write_offs=False)
            for index, gap in enumerate(gaps):
                refusal = write_off_refusal(gap.from_seq, gap.to_seq, highest)
                if refusal:
                    raise WriteOffRefused(refusal, index)
            for gap in gaps:
                exists = conn.execute(
                    select(seq_gaps.c.id).where(
                        seq_gaps.c.device_id == device.device_id,
                        seq_gaps.c.from_seq == gap.from_seq,
                        seq_gaps.c.to_seq == gap.to_seq,
                        seq_gaps.c.kind == gap.kind,
                    )
                ).first()
                if exists is None:
                    conn.execute(
                        insert(seq_gaps).values(
                            device_id=device.device_id,
                            from_seq=gap.from_seq,
                            to_seq=gap.to_seq,
                            kind=gap.kind,
                            detail=gap.detail,
                            sessions=list(gap.sessions),
                            events=gap.events,
                            reported_at=now,
                        )
                    )
            return holds.advance(conn, device.device_id, now)

    def conflicts(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """Copies of held events sent with other content, oldest first, each with
        the differing fields' values in the server's copy (``held``) and the other (``sent``).
        """
        query = (
            select(event_conflicts, events.c.raw.label("held_raw"))
            .select_from(
                event_conflicts.outerjoin(events, events.c.event_id == event_conflicts.c.event_id)
            )
            .order_by(event_conflicts.c.id)
        )
        if device_id is not None:
            query = query.where(event_conflicts.c.device_id == device_id)
        out = []
        with self.reading() as conn:
            for row in conn.execute(query):
                held = json.loads(row.held_raw) if row.held_raw else {}
                sent = json.loads(row.raw)
                out.append(
                    {
                        "device_id": row.device_id,
                        "event_id": row.event_id,
                        "received_at": row.received_at,
                        "differs": list(row.differs),
                        "held": {p: at_path(held, p) for p in row.differs},
                        "sent": {p: at_path(sent, p) for p in row.differs},
                    }
                )
        return out

    def gaps(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """Written-off seq ranges, oldest report first (for reports and ``device list``)."""
        query = select(seq_gaps).order_by(seq_gaps.c.device_id, seq_gaps.c.from_seq)
        if device_id is not None:
            query = query.where(seq_gaps.c.device_id == device_id)
        with self.reading() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def epoch(self) -> str:
        """This database's history: renewed by :meth:`renew_epoch` after a restore."""
        with self.reading() as conn:
            value = conn.execute(_EPOCH).scalar()
        return value if value is not None else self.renew_epoch(only_if_missing=True)

    def renew_epoch(self, only_if_missing: bool = False) -> str:
        """A new epoch (``kiosk-central restore`` and ``mark-restored`` call this): every
        kiosk's roster cursor is then treated as stale and the roster pulled again."""
        fresh = secrets.token_hex(8)
        with self.engine.begin() as conn:
            self._lock(conn, "schema")
            current = conn.execute(
                select(server_meta.c.value).where(server_meta.c.key == "epoch")
            ).scalar()
            if current is not None and only_if_missing:
                return current
            if current is None:
                conn.execute(
                    insert(server_meta).values(key="epoch", value=fresh, updated_at=utcnow())
                )
            else:
                conn.execute(
                    update(server_meta)
                    .where(server_meta.c.key == "epoch")
                    .values(value=fresh, updated_at=utcnow())
                )
        return fresh

    def max_cursor(self) -> int:
        """The highest roster cursor (event row id) given so far."""
        with self.reading() as conn:
            return int(conn.execute(_MAX_CURSOR).scalar() or 0)
