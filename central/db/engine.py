"""Database URLs and engines: SQLite files (WAL, ``BEGIN IMMEDIATE``) or PostgreSQL."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, cast, create_engine, event, func, literal
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.engine import make_url

from central.db.errors import CentralError
from central.files import private_sqlite

#: The data folder used when no database URL is given (``$KIOSK_CENTRAL_DATA`` overrides).
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "doorstep-central"

# -- engines ---------------------------------------------------------------------------------------
READ_ONLY = "doorstep_read_only"
#: PostgreSQL connections each server process keeps open and uses at most. All kept, none
#: "overflow": an overflow connection is closed as soon as it is handed back, and opening one
#: costs PostgreSQL a process and a password exchange, which under load (300 kiosks) came to
#: 58 new connections a run with 10 kept + 10 overflow. ``serve --workers N`` opens up to N
#: times this many: 4 x 20 is within PostgreSQL's default max_connections of 100.
POSTGRES_POOL_SIZE = 20


def default_database_url() -> str:
    """``$KIOSK_CENTRAL_DB``, else a SQLite file in ``$KIOSK_CENTRAL_DATA`` (or the default)."""
    if os.environ.get("KIOSK_CENTRAL_DB"):
        return os.environ["KIOSK_CENTRAL_DB"]
    folder = Path(os.environ.get("KIOSK_CENTRAL_DATA") or DEFAULT_DATA_DIR)
    return f"sqlite:///{folder / 'central.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` (we use psycopg 3) and ``sqlite:///``."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL, a busy timeout and ``BEGIN IMMEDIATE``, and
    are made private (``central.files``: 0600, a new folder 0700)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise CentralError("use a SQLite file (sqlite:///path/to/central.sqlite3)")
        # 0600 before SQLite creates it: its -wal and -shm take the file's mode.
        private_sqlite(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # One writer at a time, decided up front: no "database is locked" half way through
            # a batch, and rows become visible in the order their ids were given. Readers
            # (CentralDB.reading) take a plain snapshot and never wait for a writer (WAL).
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(
            parsed, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=0
        )
    raise CentralError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def lock_key(org_id: str) -> int:
    return int.from_bytes(hashlib.sha256(org_id.encode()).digest()[:8], "big", signed=True)


def lock_key_sql(name: Any) -> Any:
    """:func:`lock_key` of the text ``name`` (an SQL expression), worked out by PostgreSQL:
    for a statement that takes a lock on what it has just read (the first 8 bytes of the
    SHA-256, as a signed big-endian 64-bit number)."""
    digest = func.sha256(func.convert_to(name, "UTF8"))
    first_8_bytes = func.substr(func.encode(digest, "hex"), 1, 16)
    return cast(cast(literal("x") + first_8_bytes, BIT(64)), BigInteger)
