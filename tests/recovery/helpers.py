"""Helpers for the recovery tests: the central server and its commands, kiosks and theirs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from central.db import CentralDB, attendances, events
from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.timetable import Timetable, make_slot
from kiosk.store import LocalStore
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    PG_ENV,
    REPO,
    CentralServer,
    Enrolled,
    command,
    enrol,
    subprocess_env,
)


def run(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env=subprocess_env(), cwd=REPO
    )


@dataclass
class Central:
    """A running central server, a handle on its database, and its commands."""

    db: CentralDB
    server: CentralServer
    db_url: str
    backend: str
    folder: Path

    @property
    def url(self) -> str:
        return self.server.url

    def enrol(
        self, device: str = "kiosk-1", site: str = "library", org: str = "lichfield"
    ) -> tuple[Enrolled, Path]:
        enrolled = enrol(self.db, org, site, device)
        token = self.folder / f"{device}.token"
        token.write_text(enrolled.token + "\n")
        token.chmod(0o600)
        return enrolled, token

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return run([*command("kiosk-central", "central.cli"), "--db", self.db_url, *args])

    # -- backup and restore, as an admin would ----------------------------------------------
    def backup(self, name: str) -> Path:
        """An online backup while the server runs: ``kiosk-central backup`` (SQLite) or
        ``pg_dump`` of the test's schema (PostgreSQL)."""
        path = self.folder / name
        if self.backend == "sqlite":
            done = self.cli("backup", str(path))
        else:
            done = run(
                ["pg_dump", "-Fc", "--no-owner", "-n", self._schema(), "-f", str(path), self._pg()]
            )
        assert done.returncode == 0, done.stderr
        return path

    def restore(self, path: Path) -> subprocess.CompletedProcess:
        """Stop the server, put the backup back, start the server again."""
        self.server.stop()
        self.db.close()
        if self.backend == "sqlite":
            done = self.cli("restore", str(path))
            assert done.returncode == 0, done.stderr
        else:
            import psycopg

            with psycopg.connect(self._pg(), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self._schema()} CASCADE")
            restored = run(["pg_restore", "--no-owner", "-d", self._pg(), str(path)])
            assert restored.returncode == 0, restored.stderr
            done = self.cli("mark-restored")
            assert done.returncode == 0, done.stderr
        self.db = CentralDB.open(self.db_url)
        self.server.start()
        return done

    def _schema(self) -> str:
        found = re.search(r"search_path%3D(\w+)", self.db_url)
        assert found, self.db_url
        return found.group(1)

    def _pg(self) -> str:
        if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
            pytest.skip("pg_dump/pg_restore are not installed")
        return os.environ[PG_ENV]

    # -- what the server holds ----------------------------------------------------------------
    def attendance_count(self) -> int:
        return self.db.count(attendances)

    def event_ids(self) -> set[str]:
        with self.db.engine.connect() as conn:
            return set(conn.execute(select(events.c.event_id)).scalars())

    def seq_clashes(self, device: str) -> int:
        """Events of ``device`` sharing a seq (never allowed: the unique constraint)."""
        with self.db.engine.connect() as conn:
            total = conn.execute(
                select(func.count()).select_from(events).where(events.c.device_id == device)
            ).scalar_one()
            distinct = conn.execute(
                select(func.count(func.distinct(events.c.seq))).where(events.c.device_id == device)
            ).scalar_one()
        return total - distinct


def running_central(url: str, folder: Path, backend: str) -> Iterator[Central]:
    """A ``kiosk-central serve`` process on ``url``'s database, for a fixture to yield from."""
    db = CentralDB.open(url)
    server = CentralServer(url, folder / "server.log").start()
    try:
        yield Central(db, server, url, backend, folder)
    finally:
        server.stop()
        db.close()


# -- kiosks ---------------------------------------------------------------------------------------
SLOTS = [(f"play-{day}", day) for day in ("mon", "tue", "wed", "thu", "fri")]


def kiosk_desk(
    folder: Path, device: str, site: str, retention_days: int = 90, timetable: bool = True
) -> DoorDesk:
    """A DoorDesk on a real store (a session 09:00-12:00 every weekday unless not wanted)."""
    folder.mkdir(parents=True, exist_ok=True)
    store = LocalStore(folder, retention_days=retention_days)
    if timetable:
        slots = Timetable()
        for slot_id, day in SLOTS:
            slots = slots.add(make_slot(slot_id, "Stay and Play", "09:00", "12:00", day))
        store.save_timetable(slots)
    return DoorDesk(store, DeviceIdentity(device, site))


def kiosk_sync(data: Path, endpoint: str, token: Path, *extra: str) -> subprocess.CompletedProcess:
    return run(
        [
            *command("kiosk-sync", "sync.daemon"),
            *KEEP_DATED_EVENTS,
            "--data",
            str(data),
            "--endpoint",
            endpoint,
            "--token-file",
            str(token),
            "--once",
            *extra,
        ]
    )


def kiosk_admin(data: Path, *args: str) -> subprocess.CompletedProcess:
    return run([*command("kiosk-admin", "kiosk.admin"), "--data", str(data), *args])


def status(data: Path) -> dict[str, list[str]]:
    """``kiosk-admin status`` as ``key -> [values]`` (a key such as ``missing`` may repeat)."""
    done = kiosk_admin(data, "status")
    assert done.returncode == 0, done.stderr
    out: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        key, _, value = line.partition(": ")
        out.setdefault(key, []).append(value)
    return out


def attendance_ids(store: Any) -> set[str]:
    return {e.event_id for e in store.events() if e.type == "attendance.recorded"}
