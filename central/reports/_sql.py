"""Small helpers the report queries share (read-only SQL over :mod:`central.db`'s tables)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, case, cast, distinct, func, literal, true

from central.db import CentralDB, attendances

#: PostgreSQL's working memory for one report's queries (per sort or hash, per worker).
REPORT_WORK_MEM = "128MB"


@contextlib.contextmanager
def reading(db: CentralDB) -> Iterator[Connection]:
    """A read-only connection on one snapshot: every query of a report sees the same data.

    SQLite's read transaction is a snapshot that never waits for a writer; on PostgreSQL the
    transaction is REPEATABLE READ (read-only transactions never fail to serialise).
    """
    with db.reading() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            _report_settings(conn)
        yield conn


def _report_settings(conn: Connection) -> None:
    # Report queries group a month of a county in memory (hash aggregates): give them room for
    # this transaction only, instead of spilling to disk.
    conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
    conn.exec_driver_sql("SET LOCAL jit = off")  # compiling costs more than it saves


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")


@contextlib.contextmanager
def alongside(db: CentralDB, conn: Connection) -> Iterator[Connection | None]:
    """A second read connection on ``conn``'s snapshot, so one big query can run at the same
    time as the others (on another core) and still see exactly the same data; None on SQLite,
    where the report runs its queries one after another.

    PostgreSQL exports the snapshot of ``conn``'s transaction (opened by :func:`reading`) and
    the second transaction imports it (``SET TRANSACTION SNAPSHOT``, as ``pg_dump --jobs``).
    """
    if db.dialect != "postgresql":
        yield None
        return
    snapshot = str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise RuntimeError(f"unexpected snapshot id from PostgreSQL: {snapshot!r}")
    with db.reading() as other:
        other = other.execution_options(isolation_level="REPEATABLE READ")
        other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # first in its transaction
        _report_settings(other)
        yield other


def qualifies(column: Any = attendances.c.qualifies) -> Any:
    """``attendances.qualifies`` (or its copy on ``attendance_children``) as a condition that
    reads the same on SQLite and PostgreSQL."""
    return column == true()


def as_int(expr: Any) -> Any:
    """1 where ``expr`` holds, else 0 (for sums)."""
    return case((expr, literal(1)), else_=literal(0))


def month_of(db: CentralDB, column: Any) -> Any:
    """``YYYY-MM`` of a date column."""
    if db.dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def month_number(db: CentralDB, column: Any) -> Any:
    """A date column's month as one whole number, ``year x 12 + month`` (for ages in months)."""
    if db.dialect == "postgresql":
        # date_part gives a double, cheaper per row than extract's numeric
        year, month = func.date_part("year", column), func.date_part("month", column)
    else:
        year, month = func.strftime("%Y", column), func.strftime("%m", column)
    return cast(year, Integer) * 12 + cast(month, Integer)


def birth_month_number(column: Any) -> Any:
    """A child's birth month (``YYYY-MM`` text) as ``year x 12 + month``; NULL stays NULL."""
    return cast(func.substr(column, 1, 4), Integer) * 12 + cast(func.substr(column, 6, 2), Integer)


#: Months a bitmask of months (:func:`month_bits`) can hold: a BIGINT, its sign bit unused.
MASK_MONTHS = 62


def month_bit(db: CentralDB, column: Any, first_month: int) -> Any:
    """``1 << (the date's month - first_month)``, a BIGINT: one bit per month of a range, so
    one row per child or family can say which months it came in (``first_month`` as
    :func:`month_number` gives it; the range at most :data:`MASK_MONTHS` long)."""
    return literal(1, BigInteger).op("<<")(month_number(db, column) - first_month)


def bits_or(db: CentralDB, bit: Any) -> Any:
    """The OR of single-bit values over a group (SQLite has no ``bit_or``: the sum of the
    distinct bits is the same number)."""
    if db.dialect == "postgresql":
        return func.bit_or(bit)
    return func.sum(distinct(bit))


def has_bit(mask: Any, n: Any) -> Any:
    """1 if bit ``n`` of ``mask`` is set, else 0."""
    return mask.op(">>")(n).op("&")(1)
