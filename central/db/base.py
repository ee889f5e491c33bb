"""The connection to the central database: open, migrate, and the gates to read it and to
write an organisation's rows (:meth:`Database.reading`, :meth:`Database.writing`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Self

from sqlalchemy import Connection, Engine, func, literal, text

from central import migrations
from central.db.engine import (
    READ_ONLY,
    default_database_url,
    lock_key,
    lock_key_sql,
    make_engine,
)
from central.db.errors import SchemaBehind, too_new
from central.db.schema import metadata

#: The prefix of an organisation's lock name ("org:lichfield").
_ORG_LOCK = "org:"
#: Built once: ``text()`` parses its SQL for parameters each time it is made, and every batch
#: takes this lock.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def org_lock_sql(org_id: Any) -> Any:
    """PostgreSQL: take the lock of the organisation ``org_id`` (an SQL expression) names, as
    :meth:`Database.writing` does, within a statement that reads it (``device_by_token``)."""
    return func.pg_advisory_xact_lock(lock_key_sql(literal(_ORG_LOCK) + org_id))


class Database:
    """An open central database: its engine, its schema, and the gates to read and write it.

    :class:`central.db.CentralDB` is this with its parts (enrolment, users, kiosk data, kiosk
    health) mixed in; each part is a subclass of this and reaches the database only through
    :meth:`reading` and :meth:`writing` (or, for rows of no organisation, ``engine.begin()``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | None = None, migrate: bool = True, upgrade: bool = True) -> Self:
        """Open the database at ``url``. ``migrate``: create it if it is empty and, with
        ``upgrade`` (tests, scripts), bring an older one to the latest revision; without
        ``upgrade`` (the ``kiosk-central`` commands) an older one is refused
        (:class:`SchemaBehind`, saying what to run). ``migrate=False`` opens it as it is."""
        db = cls(make_engine(url or default_database_url()))
        try:
            if migrate and upgrade:
                db.migrate()
            elif migrate:
                db.require_current(create=True)
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only (on SQLite it does not queue behind writers).

        >>> with db.reading() as conn:                                 # doctest: +SKIP
        ...     conn.execute(select(orgs.c.org_id)).all()
        """
        with self.engine.connect() as conn:
            yield conn.execution_options(**{READ_ONLY: True})

    @contextlib.contextmanager
    def writing(self, org_id: str) -> Iterator[Connection]:
        """A transaction holding organisation ``org_id``'s lock, committed when the block ends
        (rolled back if it raises). Every write to an organisation's rows goes through here.

        Writers of one organisation take turns (PostgreSQL: an advisory lock for the length of
        the transaction; SQLite: every writer is already alone, ``BEGIN IMMEDIATE``), so the
        roster cursor (the events' row id) only ever grows in commit order, and a batch never
        lands half way through an erasure, an export or a retention run. Do not call another
        writer of the same organisation inside the block: on PostgreSQL it would wait for
        this one forever.

            >>> with db.writing("lichfield") as conn:                      # doctest: +SKIP
            ...     conn.execute(insert(org_rates).values(...))
        """
        with self.engine.begin() as conn:
            self._lock_org(conn, org_id)
            yield conn

    @contextlib.contextmanager
    def writing_shared(self, name: str) -> Iterator[Connection]:
        """A transaction serialised with every other writer of ``name``: data that belongs to
        no one organisation (``"population"``, ``"directory"``, ``"boundaries"``,
        ``"audit_log"``), where two imports must not interleave."""
        if name.startswith(_ORG_LOCK):
            raise ValueError(f"{name!r}: an organisation's rows are written with writing(org_id)")
        with self.engine.begin() as conn:
            self._lock(conn, name)
            yield conn

    # -- schema ------------------------------------------------------------------------------
    def schema_state(self) -> migrations.SchemaState:
        """Where the database stands against this server's revisions (changes nothing)."""
        with self.reading() as conn:
            return migrations.state(conn)

    def schema_version(self) -> int:
        """The revision in force as a number (0 for an empty database)."""
        return migrations.revision_number(self.schema_state().current)

    def migrate(self) -> tuple[str | None, str]:
        """Create or upgrade the schema to the latest revision, in one transaction; returns
        (revision before, revision after): equal when there was nothing to do, None before
        for a database that was empty."""
        with self.engine.begin() as conn:
            self._lock(conn, "schema")
            found = migrations.state(conn)
            if found.too_new:
                raise too_new(found)
            return migrations.upgrade(conn, metadata)

    def require_current(self, create: bool = False) -> None:
        """Refuse a database that is behind (or ahead of) this server, saying what to run;
        ``create``: an empty one is created at the latest revision (there is nothing to keep).
        """
        found = self.schema_state()
        if found.too_new:
            raise too_new(found)
        if found.behind:
            how = "kiosk-central backup FILE" if self.dialect == "sqlite" else "pg_dump"
            raise SchemaBehind(
                f"the database is at schema revision {found.current} but this server needs "
                f"{found.head}: back it up ({how}), then run 'kiosk-central migrate' with the "
                "server stopped (docs/upgrades.md)"
            )
        if found.empty and create:
            self.migrate()

    def _lock(self, conn: Connection, name: str) -> None:
        """Serialise writers on ``name`` (SQLite is already serialised by BEGIN IMMEDIATE)."""
        if self.dialect == "postgresql":
            conn.execute(_ADVISORY_LOCK, {"k": lock_key(name)})

    def _lock_org(self, conn: Connection, org_id: str) -> None:
        """Take organisation ``org_id``'s lock in ``conn``'s transaction (see :meth:`writing`),
        for a writer that learns which organisation only once inside it."""
        self._lock(conn, _ORG_LOCK + org_id)
