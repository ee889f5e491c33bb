"""A fresh central database per test: a SQLite file, and a new PostgreSQL schema when
``KIOSK_TEST_POSTGRES_URL`` is set (tests marked ``postgres`` skip without it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from central.db import CentralDB
from tests.reports.helpers import MON_PLAY, WED_BABY, Kiosk
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


@pytest.fixture
def kiosk(db: CentralDB) -> Kiosk:
    """lichfield's kiosk at the library: Stay and Play on Mondays, Baby Group on Wednesdays,
    a risk list of WS7 1AA, WS11 4 and WS12."""
    k = Kiosk(db).timetable(MON_PLAY, WED_BABY)
    k.risk("WS7 1AA", "WS11 4", "WS12")
    return k
