"""A real central server (a subprocess on loopback) over a database of its own, SQLite and,
when ``KIOSK_TEST_POSTGRES_URL`` is set, PostgreSQL; two organisations with data in them; and
a snapshot of every table, to prove a refused request changed nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sqlalchemy import select

from central import db as central_db
from central.db import CentralDB
from kiosk.domain.events import DeviceIdentity
from sync.protocol import EVENTS_PATH
from tests.sync.fakes import attendance, registration
from tests.sync.servers import CentralServer, Enrolled, database_url, enrol

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

#: Columns that change on every authenticated request that reaches the database, by design.
VOLATILE = {("devices", "last_seen_at")}


@dataclass
class World:
    """The server, its database, and who is enrolled where."""

    db: CentralDB
    server: CentralServer
    north: Enrolled  # org "north", site "library"
    north_hall: Enrolled  # org "north", site "hall"
    south: Enrolled  # org "south", site "school": holds a family, a card and an attendance
    south_family_id: str
    south_attendance_id: str
    south_card: str

    @property
    def url(self) -> str:
        return self.server.url

    def post(self, path: str, body: Any = None, token: str | None = None, **kw: Any):
        headers = dict(kw.pop("headers", {}))
        headers.setdefault("Authorization", f"Bearer {token or self.north.token}")
        if body is not None and "data" not in kw:
            kw["json"] = body
        return requests.post(self.url + path, headers=headers, timeout=60, **kw)

    def get(self, path: str, token: str | None = None, **kw: Any):
        headers = {"Authorization": f"Bearer {token or self.north.token}"}
        return requests.get(self.url + path, headers=headers, timeout=60, **kw)

    def snapshot(self, skip: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
        """Every row of every table (less the volatile columns and ``skip`` tables)."""
        out: dict[str, list[tuple]] = {}
        with self.db.engine.connect() as conn:
            for table in central_db.metadata.sorted_tables:
                if table.name in skip:
                    continue
                cols = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
                rows = conn.execute(select(*cols)).all()
                out[table.name] = sorted((tuple(map(repr, r)) for r in rows), key=repr)
        return out


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, tmp_path_factory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp(f"hardening-{request.param}")
    with database_url(request.param, folder) as url:
        db = CentralDB.open(url)
        north = enrol(db, "north", "library", "k-north")
        north_hall = enrol(db, "north", "hall", "k-north-hall")
        south = enrol(db, "south", "school", "k-south")
        family, events = registration(DeviceIdentity("k-south", "school"), uid="0A0B0C0D")
        recorded = attendance(DeviceIdentity("k-south", "school"), family)
        batch = [e.with_seq(n).to_dict() for n, e in enumerate([*events, recorded], start=1)]
        server = CentralServer(url, folder / "server.log").start()
        try:
            answer = requests.post(
                server.url + EVENTS_PATH,
                json={"events": batch},
                headers={"Authorization": f"Bearer {south.token}"},
                timeout=60,
            )
            assert answer.status_code == 200, answer.text
            assert {r["status"] for r in answer.json()["results"]} == {"accepted"}
            yield World(
                db,
                server,
                north,
                north_hall,
                south,
                family.family_id,
                recorded.event_id,
                "0A0B0C0D",
            )
        finally:
            server.stop()
            db.close()
