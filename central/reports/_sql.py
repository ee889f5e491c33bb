"""Small helpers the report queries share (read-only SQL over :mod:`central.db`'s tables)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, case, func, literal, true

from central.db import CentralDB, attendances

#: PostgreSQL's working memory for one report's queries (per sort or hash, per worker).
REPORT_WORK_MEM = "128MB"


@contextlib.contextmanager
def reading(db: CentralDB) -> Iterator[Connection]:
    """A read-only connection: on SQLite it takes a snapshot and never waits for a writer."""
    with db._reading() as conn:  # the data-access module's own read path
        if db.dialect == "postgresql":
            # Report queries group a month of a county in memory (hash aggregates): give them
            # room for this transaction only, instead of spilling to disk.
            conn.exec_driver_sql(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'")
            conn.exec_driver_sql("SET LOCAL jit = off")  # compiling costs more than it saves
        yield conn


def qualifies() -> Any:
    """``attendances.qualifies`` as a condition that reads the same on SQLite and PostgreSQL."""
    return attendances.c.qualifies == true()


def as_int(expr: Any) -> Any:
    """1 where ``expr`` holds, else 0 (for sums)."""
    return case((expr, literal(1)), else_=literal(0))


def month_of(db: CentralDB, column: Any) -> Any:
    """``YYYY-MM`` of a date column."""
    if db.dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)
