"""Fixtures shared by every test of the central server: one database per test on each backend.

Loaded by the root conftest (``pytest_plugins``) so the sync, recovery, central and reports tests
use one definition: a SQLite file, and a fresh PostgreSQL schema when ``KIOSK_TEST_POSTGRES_URL``
is set (tests marked ``postgres`` skip without it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from central.db import CentralDB
from tests.sync.servers import database_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(autouse=True)
def _restore_sync_logger() -> Iterator[None]:
    """``configure_logging`` (called by ``kiosk-sync``'s ``main``) changes the ``sync`` logger:
    undo it after every test."""
    logger = logging.getLogger("sync")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path: Path) -> Iterator[str]:
    with database_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[CentralDB]:
    database = CentralDB.open(db_url)
    try:
        yield database
    finally:
        database.close()
