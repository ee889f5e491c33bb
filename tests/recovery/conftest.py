"""Real parts for the recovery tests: a ``kiosk-central serve`` process on loopback
over a SQLite file (or a fresh PostgreSQL schema when ``KIOSK_TEST_POSTGRES_URL`` is set), real
kiosk stores in temporary folders, and the real commands (``kiosk-sync``, ``kiosk-admin``,
``kiosk-central``) run as subprocesses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from central.db import CentralDB
from tests.recovery.helpers import Central, running_central
from tests.sync.servers import database_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with database_url("sqlite", tmp_path) as url:
        yield url


@pytest.fixture
def central(db_url: str, backend: str, tmp_path: Path) -> Iterator[Central]:
    """A central server on SQLite and, when available, on PostgreSQL."""
    yield from running_central(db_url, tmp_path, backend)


@pytest.fixture
def central_sqlite(sqlite_url: str, tmp_path: Path) -> Iterator[Central]:
    """A central server on the SQLite default only."""
    yield from running_central(sqlite_url, tmp_path, "sqlite")


@pytest.fixture
def db(db_url: str) -> Iterator[CentralDB]:
    """A central database (no server process), SQLite and PostgreSQL."""
    database = CentralDB.open(db_url)
    try:
        yield database
    finally:
        database.close()
