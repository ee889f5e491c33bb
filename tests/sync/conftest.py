"""Fixtures for sync tests that use real parts: a database per test (SQLite file, or a fresh
PostgreSQL schema when ``KIOSK_TEST_POSTGRES_URL`` is set) and a central server process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from central.db import CentralDB
from tests.sync.servers import CentralServer, Enrolled, enrol


@dataclass
class Central:
    """A running central server and a handle on its database."""

    db: CentralDB
    server: CentralServer
    db_url: str

    @property
    def url(self) -> str:
        return self.server.url

    def enrol(self, device: str = "kiosk-1", site: str = "library", org: str = "lichfield"):
        return enrol(self.db, org, site, device)


@pytest.fixture
def central(db_url: str, tmp_path: Path) -> Iterator[Central]:
    db = CentralDB.open(db_url)
    server = CentralServer(db_url, tmp_path / "server.log").start()
    try:
        yield Central(db, server, db_url)
    finally:
        server.stop()
        db.close()


@pytest.fixture
def kiosk(central: Central) -> Enrolled:
    return central.enrol()
