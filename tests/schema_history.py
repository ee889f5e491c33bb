"""Databases as an older release left them, made by running the real revisions backwards.

Tests of one schema step used to make an "old" database by dropping today's tables by hand;
now they put a database back to the revision before the step (``central.migrations``' own
downgrades, which keep the rows of every table that stays) and let it upgrade again.
"""

from __future__ import annotations

from central import migrations
from central.db import CentralDB


def rewind(db: CentralDB, version: int) -> None:
    """Put ``db`` back to schema revision ``version`` (e.g. 7: as a version 7 server left it)."""
    with db.engine.begin() as conn:
        migrations.run_revisions(conn, f"{version:04d}")


def upgrade_again(db: CentralDB) -> tuple[str | None, str]:
    """Run :meth:`CentralDB.migrate` once more: (before, after), equal when nothing changed."""
    return db.migrate()
