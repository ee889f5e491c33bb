"""A fresh central database per test: a SQLite file, and a new PostgreSQL schema when
``KIOSK_TEST_POSTGRES_URL`` is set (tests marked ``postgres`` skip without it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from central.db import CentralDB
from tests.sync.servers import database_url

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def db(db_url: str) -> Iterator[CentralDB]:
    database = CentralDB.open(db_url)
    try:
        yield database
    finally:
        database.close()
