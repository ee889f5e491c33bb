"""Schema upgrades by Alembic revisions: the history of the central database.

Each revision in ``versions/`` is written with frozen operations (``op.create_table`` with its
columns spelled out, never an import of today's tables), so an upgrade from any release does
what it did the day the revision was written. Revisions are numbered ``0001``, ``0002``...:
``0001`` is the first landed release's schema and ``0002``-``0012`` are the home-made
migrator's steps 2-12, one for one, so a database it left at version N is *adopted* by stamping
revision N and upgraded from there. The number is also written to ``schema_version`` after an
upgrade, so an older server (which reads only that table) refuses a database newer than itself.

A new, empty database is created from today's tables in one go and stamped at the head
(``tests/upgrades`` proves that equals running every revision). Everything here runs on a
connection the caller holds inside its transaction: one upgrade commits or rolls back whole.

    >>> with engine.begin() as conn:                        # doctest: +SKIP
    ...     state(conn).behind
    ...     upgrade(conn, metadata)                          # ('0011', '0012')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, func, insert, inspect, select

#: Where env.py and versions/ are.
SCRIPT_LOCATION = Path(__file__).resolve().parent
#: The home-made migrator's record, kept up to date for older servers to read.
LEGACY_TABLE = "schema_version"


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against this server's revisions.

    ``current`` is the revision in force (None: an empty database), ``head`` the newest this
    server knows; ``adopt`` is true when ``current`` was read from the home-made migrator's
    ``schema_version`` (the database has never seen Alembic).
    """

    current: str | None
    head: str
    adopt: bool = False
    known: bool = True

    @property
    def empty(self) -> bool:
        return self.current is None

    @property
    def behind(self) -> bool:
        """A database an upgrade would change (not an empty one: that is only created)."""
        return self.current is not None and self.known and self.current != self.head

    @property
    def too_new(self) -> bool:
        """Stamped by a newer server: a revision this one has never heard of."""
        return self.current is not None and not self.known


def revision_number(revision: str | None) -> int:
    """``"0012"`` -> 12 (0 for none): the number ``schema_version`` and ``/health`` show."""
    return int(revision) if revision else 0


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions in ``versions/`` (read once per process)."""
    return ScriptDirectory(str(SCRIPT_LOCATION))


def head() -> str:
    """The newest revision this server knows."""
    found = scripts().get_current_head()
    assert found is not None, "central/migrations/versions holds no revision"
    return found


def state(conn: Connection) -> SchemaState:
    """Read where the database on ``conn`` stands (no changes)."""
    tables = set(inspect(conn).get_table_names())
    newest = head()
    if "alembic_version" in tables:
        current = MigrationContext.configure(conn).get_current_revision()
        adopt = False
    elif LEGACY_TABLE in tables:
        number = conn.exec_driver_sql(f"SELECT max(version) FROM {LEGACY_TABLE}").scalar()
        current = f"{int(number):04d}" if number else None
        adopt = current is not None
    else:
        current, adopt = None, False
    known = current is None or _known(current)
    return SchemaState(current, newest, adopt, known)


def _config(conn: Connection) -> Config:
    """Alembic's configuration without an alembic.ini: env.py runs on ``conn``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = conn
    return config


def _known(revision: str) -> bool:
    return revision in {script.revision for script in scripts().walk_revisions()}


def upgrade(conn: Connection, metadata: MetaData) -> tuple[str | None, str]:
    """Bring the database on ``conn`` to the head; returns (revision before, revision after).

    An empty database gets ``metadata``'s tables and is stamped at the head; one from the
    home-made migrator is stamped at its version first; then every missing revision runs.
    The caller checks :attr:`SchemaState.too_new` first.
    """
    before = state(conn)
    context = MigrationContext.configure(conn)
    if before.empty:
        metadata.create_all(conn)
        context.stamp(scripts(), before.head)
    else:
        if before.adopt:
            context.stamp(scripts(), before.current)
        if before.current != before.head:
            command.upgrade(_config(conn), "head")
    _record_for_older_servers(conn, metadata)
    return before.current, before.head


def _record_for_older_servers(conn: Connection, metadata: MetaData) -> None:
    """One ``schema_version`` row per revision in force, as the home-made migrator kept them:
    a server from before Alembic reads its maximum and refuses a newer database."""
    table = metadata.tables[LEGACY_TABLE]
    have = int(conn.execute(select(func.coalesce(func.max(table.c.version), 0))).scalar() or 0)
    missing = [
        script
        for script in reversed(list(scripts().walk_revisions()))
        if revision_number(script.revision) > have
    ]
    if missing:
        now = datetime.now(UTC)
        conn.execute(
            insert(table),
            [
                {
                    "version": revision_number(script.revision),
                    "description": (script.doc or script.revision)[:200],
                    "applied_at": now,
                }
                for script in missing
            ],
        )


def run_revisions(conn: Connection, target: str) -> None:
    """Upgrade or downgrade the database on ``conn`` to revision ``target`` by running the
    revisions between (tests use it to put a database back where an older release left it)."""
    found = state(conn)
    config = _config(conn)
    if found.adopt:
        MigrationContext.configure(conn).stamp(scripts(), found.current)
    if found.current is not None and revision_number(target) < revision_number(found.current):
        command.downgrade(config, target)
        conn.exec_driver_sql(
            f"DELETE FROM {LEGACY_TABLE} WHERE version > {revision_number(target)}"
        )
    else:
        command.upgrade(config, target)
