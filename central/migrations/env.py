"""Alembic's entry point, configured by :mod:`central.migrations` rather than an alembic.ini.

The runner hands over a connection that is already inside its transaction (and holds the
schema lock on PostgreSQL), so every revision of one upgrade commits or rolls back together.
``target_metadata`` is today's tables, for ``alembic revision --autogenerate`` only: a revision
itself never imports them (its operations are frozen when it is written).
"""

from __future__ import annotations

from alembic import context

from central.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "central.migrations runs on a connection it is given: use 'kiosk-central migrate'"
    )
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite alters most things by rebuilding the table: let autogenerate write it that way.
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
