"""Several server processes (issue 19): ``kiosk-central --db postgresql://... serve --workers 4``.

One Python process answers one request at a time on each CPU core it can use, so on a server
with several cores more processes answer more kiosks at once. uvicorn starts ``--workers``
processes that share the listening socket; each one builds the app here
(:func:`app_from_environment`, the factory uvicorn imports by name) over its own pool of
database connections. The parent (``kiosk-central serve``) has already checked and migrated the
database, and hands the database URL and log level to its workers in the environment.

What makes several processes safe is that no process keeps anything the others need. Every
piece of state was checked for this (issue 19):

- dashboard sessions: a random id in the cookie, its SHA-256 in ``web_sessions``;
  logging out deletes the row, so the cookie stops working in every process at once;
- login throttling: failures are rows in ``login_failures``, counted by every process;
- CSRF: an ``Origin``/``Referer`` check against the request itself, no token, no secret;
- device tokens, user passwords: hashes in the database; nothing is signed with a key, so there
  is no secret to share, and nothing is generated at start-up except per-process caches of
  what is derived from files (templates, the SQLite file check);
- writes for one organisation (a kiosk's batch, write-offs, erasure, retention, risk lists) and
  the audit log's chain are serialised by a lock in the database (PostgreSQL: a transaction
  advisory lock, ``CentralDB._lock``), so the roster cursor (the events' row id) grows in
  commit order across processes too: a writer takes its ids only once the one before it has
  committed, so a kiosk that has read cursor N can never later miss a row below N;
- the epoch and the schema version: rows, created and migrated under the ``schema`` lock.

Several processes are refused on SQLite (:func:`refusal`): SQLite lets one process write at a
time, so more processes add waiting on its file lock, not capacity, and a writer that waits
past the busy timeout fails its kiosk's batch. PostgreSQL is what several processes are for.
"""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI
from sqlalchemy import make_url

from central.db import CentralDB, normalise_url

#: How the parent hands its choices to the worker processes it starts (uvicorn spawns them).
DB_ENV = "KIOSK_CENTRAL_DB"
LOG_LEVEL_ENV = "KIOSK_CENTRAL_LOG_LEVEL"
#: The factory uvicorn imports in each worker.
FACTORY = "central.workers:app_from_environment"
#: Each line says which process wrote it, so one can see the workers share the load.
LOG_FORMAT = "%(levelname)s %(name)s [pid %(process)d]: %(message)s"


def refusal(url: str, workers: int) -> str | None:
    """Why ``serve --workers`` must not start with this database, or None if it may."""
    if workers < 1:
        return f"--workers {workers}: give 1 or more"
    if workers == 1:
        return None
    backend = make_url(normalise_url(url)).get_backend_name()
    if backend != "postgresql":
        return (
            f"--workers {workers} needs PostgreSQL (--db postgresql://...): SQLite lets one "
            "process write at a time, so more processes only wait on each other. Serve this "
            "database with --workers 1, or move to PostgreSQL."
        )
    return None


def app_from_environment() -> FastAPI:
    """The API over ``$KIOSK_CENTRAL_DB`` in this worker process (the parent migrated it)."""
    from central.app import create_app

    level = os.environ.get(LOG_LEVEL_ENV, "info").upper()
    logging.basicConfig(level=level, format=LOG_FORMAT)
    db = CentralDB.open(os.environ[DB_ENV], migrate=False)
    return create_app(db, on_shutdown=db.close)
