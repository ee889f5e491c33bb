"""Moving a device's ``holds_up_to`` forward: the highest seq up to which the server holds every
one of its seqs, as an event, a refusal set aside, or a range the kiosk wrote off.

Run at the end of every batch, so it is read in one statement (:data:`_AFTER_HOLDS`): the
device's ``holds_up_to``, the next page of seqs held after it (events and refusals), and the
written-off ranges that reach past it. The walk forward is then worked out here. Only a device
more than a page (``HOLDS_PAGE``) ahead of its ``holds_up_to`` reads further, a page a statement.
Before, the same answer took four statements a batch, each a round trip under the
organisation's lock (300 kiosks at once: ``bench/load.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Table,
    bindparam,
    cast,
    literal_column,
    null,
    select,
    union_all,
    update,
)

from central.db import batch_rows
from central.db.schema import devices, events, rejections, seq_gaps

#: What each row of :data:`_AFTER_HOLDS` is (its ``kind``).
_HOLDS, _EVENT, _REFUSAL, _WRITE_OFF = 0, 1, 2, 3

_CURRENT = (
    select(devices.c.holds_up_to)
    .where(devices.c.device_id == bindparam("device"))
    .scalar_subquery()
)


def _seqs_after(table: Table, after: Any, kind: int) -> Any:
    """The next page of ``table``'s seqs of the device after ``after``, as rows of ``kind``."""
    page = (
        select(table.c.seq.label("a"))
        .where(table.c.device_id == bindparam("device"), table.c.seq > after)
        .order_by(table.c.seq)
        .limit(bindparam("page"))
        .subquery()
    )
    return select(_kind(kind), page.c.a, cast(null(), BigInteger).label("b"))


def _kind(kind: int) -> Any:
    return cast(literal_column(str(kind)), Integer).label("kind")


#: The device's holds_up_to, the next page of seqs held after it, and the write-offs past it.
_AFTER_HOLDS = union_all(
    select(
        _kind(_HOLDS), devices.c.holds_up_to.label("a"), cast(null(), BigInteger).label("b")
    ).where(devices.c.device_id == bindparam("device")),
    _seqs_after(events, _CURRENT, _EVENT),
    _seqs_after(rejections, _CURRENT, _REFUSAL),
    select(_kind(_WRITE_OFF), seq_gaps.c.from_seq, seq_gaps.c.to_seq).where(
        seq_gaps.c.device_id == bindparam("device"), seq_gaps.c.to_seq > _CURRENT
    ),
)
#: The next page of seqs held after ``current``, for a device more than a page ahead.
_NEXT_PAGE = union_all(
    *(
        _seqs_after(table, bindparam("current", type_=BigInteger), kind)
        for table, kind in ((events, _EVENT), (rejections, _REFUSAL))
    )
)


def advance(conn: Connection, device_id: str, now: datetime) -> int:
    """Move ``holds_up_to`` past every seq now held (applied, set aside as rejected, or written
    off), note ``now`` as the device's last contact, and return ``holds_up_to``.

    A device more than a page ahead (a restored server, a kiosk that sent a term's backlog
    out of order) reads the next page and walks on, until the walk stops short of a page's end.
    """
    page = batch_rows.HOLDS_PAGE
    first = _Read(conn.execute(_AFTER_HOLDS, {"device": device_id, "page": page}))
    if first.holds_up_to is None:
        raise LookupError(f"no device {device_id!r} is enrolled")
    start = current = first.holds_up_to
    seqs = first.seqs
    while True:
        # A full page may stop short of seqs held beyond it: walk no further than its last.
        full = [max(found) for found in seqs.values() if len(found) == page]
        held = [seq for found in seqs.values() for seq in found]
        current, stopped = walk(current, held, min(full, default=None), first.write_offs)
        if not stopped:
            break
        params = {"device": device_id, "current": current, "page": page}
        seqs = _Read(conn.execute(_NEXT_PAGE, params)).seqs
    values: dict[str, Any] = {"last_seen_at": now}
    if current != start:
        values["holds_up_to"] = current
    conn.execute(update(devices).where(devices.c.device_id == device_id).values(**values))
    return current


class _Read:
    """The rows of :data:`_AFTER_HOLDS` (or :data:`_NEXT_PAGE`), by kind. The first read
    has every write-off reaching past ``holds_up_to``, so the later pages need none."""

    def __init__(self, rows: Iterable[Any]) -> None:
        self.holds_up_to: int | None = None
        self.seqs: dict[int, list[int]] = {_EVENT: [], _REFUSAL: []}
        self.write_offs: list[tuple[int, int]] = []
        for kind, a, b in rows:
            if kind == _HOLDS:
                self.holds_up_to = int(a)
            elif kind == _WRITE_OFF:
                self.write_offs.append((int(a), int(b)))
            else:
                self.seqs[kind].append(int(a))


def walk(
    current: int,
    held: Iterable[int],
    limit_at: int | None,
    write_offs: Sequence[tuple[int, int]],
) -> tuple[int, bool]:
    """From ``current``, step over each next seq in ``held`` (up to ``limit_at``, when the
    seqs read stop there) and jump over each written-off range (``from_seq, to_seq``) that
    starts at or before the next seq and reaches past ``current``.

    Returns where it stopped, and whether it stopped only because it reached ``limit_at``
    (then the seqs after it must be read before going on).
    """
    ordered = sorted(set(held))
    i = 0
    while True:
        while i < len(ordered) and ordered[i] <= current:
            i += 1
        while (
            i < len(ordered)
            and ordered[i] == current + 1
            and (limit_at is None or ordered[i] <= limit_at)
        ):
            current = ordered[i]
            i += 1
        if limit_at is not None and current >= limit_at:
            return current, True
        jump = max(
            (to for start, to in write_offs if start <= current + 1 and to > current),
            default=None,
        )
        if jump is None:
            return current, False
        current = jump
