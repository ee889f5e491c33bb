"""Real parts for the end-to-end tests: a central server process on loopback, databases
(a SQLite file, or a fresh schema in the PostgreSQL named by ``KIOSK_TEST_POSTGRES_URL``),
and the real kiosk store with a door desk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from central.db import CentralDB
from kiosk.store import LocalStore
from tests.helpers import stop_process, wait_for

REPO = Path(__file__).resolve().parents[2]
PG_ENV = "KIOSK_TEST_POSTGRES_URL"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def command(name: str, module: str) -> list[str]:
    """The installed console script (``kiosk-sync``) if there is one, else ``python -m``."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    found = shutil.which(name)
    return [found] if found else [sys.executable, "-m", module]


#: For ``kiosk-sync`` runs on events dated in the past (``MONDAY``): a retention window long
#: enough that the daemon's housekeeping never drops them as the real date moves on, since
#: these tests look at the kiosk's store afterwards (tests/recovery/test_kiosk_retention.py
#: is where the window is tested).
KEEP_DATED_EVENTS = ("--retention-days", "3650")


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.pop("JOURNAL_STREAM", None)
    env.pop("NOTIFY_SOCKET", None)
    env.update(extra)
    return env


# -- databases -------------------------------------------------------------------------------
@contextlib.contextmanager
def database_url(kind: str, folder: Path) -> Iterator[str]:
    """A database nobody else uses: a new SQLite file, or a new PostgreSQL schema (dropped
    afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'central.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (run scripts/ci-postgres.sh)")
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@dataclass
class Enrolled:
    org: str
    site: str
    device: str
    token: str


def enrol(
    db: CentralDB, org: str, site: str, device: str, in_use_since: datetime | None = None
) -> Enrolled:
    """Enrol ``device``; ``in_use_since`` for kiosks replaying an old term (the server checks
    events' dates against it, ``central.claims``)."""
    with contextlib.suppress(Exception):
        db.add_org(org)
    with contextlib.suppress(Exception):
        db.add_site(org, site)
    return Enrolled(org, site, device, db.add_device(org, site, device, enrolled_at=in_use_since))


# -- the server ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TLSFiles:
    """A certificate and key for the server, signed by the CA in ``ca`` (a council's own)."""

    cert: Path
    key: Path
    ca: Path


def make_tls(folder: Path) -> TLSFiles:
    """A throw-away CA and a certificate for ``localhost`` signed by it (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Doorstep Test Council CA",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    )
    (folder / "ext.cnf").write_text(
        "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
    )
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return TLSFiles(folder / "server.pem", folder / "server.key", folder / "ca.pem")


class CentralServer:
    """``kiosk-central --db URL serve`` in its own process, on a free loopback port."""

    def __init__(
        self,
        db_url: str,
        log_path: Path,
        port: int | None = None,
        ssl: TLSFiles | None = None,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.extra = extra  # more ``serve`` options, e.g. ("--forwarded-allow-ips", "127.0.0.1")
        self.db_url = db_url
        self.port = port or free_port()
        self.log_path = log_path
        self.ssl = ssl
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl else "http"
        host = "localhost" if self.ssl else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}"

    def start(self, timeout: float = 30.0) -> CentralServer:
        args = [
            *command("kiosk-central", "central.cli"),
            "--db",
            self.db_url,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *self.extra,
        ]
        if self.ssl:
            args += ["--ssl-certfile", str(self.ssl.cert), "--ssl-keyfile", str(self.ssl.key)]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, env=subprocess_env(), cwd=REPO
        )
        log.close()
        process = self.process
        verify = str(self.ssl.ca) if self.ssl else True

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                return requests.get(self.url + "/healthz", timeout=1, verify=verify).ok
            except requests.RequestException:
                return False

        try:
            wait_for(answers, "the central server to answer /healthz", timeout)
        except AssertionError:
            self.stop()
            raise RuntimeError(
                f"server did not come up: {self.log_path.read_text()[-2000:]}"
            ) from None
        return self

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def __enter__(self) -> CentralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the kiosk side --------------------------------------------------------------------------
def local_store(folder: Path) -> LocalStore:
    """The real kiosk store in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return LocalStore(folder)


MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 09:00 UTC = 09:00 in London in November


def door(folder: Path, device_id: str, site_id: str) -> Any:
    """A DoorDesk on a real store, with a session every weekday 09:00-12:00."""
    from kiosk.domain.desk import DoorDesk
    from kiosk.domain.events import DeviceIdentity
    from kiosk.domain.timetable import Timetable, make_slot

    store = local_store(folder)
    timetable = Timetable()
    for day in ("mon", "tue", "wed", "thu", "fri"):
        timetable = timetable.add(make_slot(f"play-{day}", "Stay and Play", "09:00", "12:00", day))
    store.save_timetable(timetable)
    return DoorDesk(store, DeviceIdentity(device_id, site_id))


def register_families(desk: Any, count: int, at: datetime = MONDAY, prefix: str = "A") -> list:
    """``count`` families, each with a card ``<prefix>0000001`` and so on; returns the uids."""
    uids = []
    for n in range(count):
        uid = f"{prefix}{n + 1:07X}"[-8:]
        desk.register_family(
            f"Parent {prefix}{n}",
            "WS7 1AA",
            [("Ben", "2024-03"), ("Cara", None)],
            at=at,
            card_uid=uid,
        )
        uids.append(uid)
    return uids


def week_of_taps(desk: Any, uids: list[str], start: datetime = MONDAY) -> int:
    """Each family taps on three days of the week; returns the number of attendances."""
    count = 0
    for day in range(5):
        for n, uid in enumerate(uids):
            if (n + day) % 5 < 3:
                at = start + timedelta(days=day, minutes=5 + n % 120)
                assert desk.tap(uid, at).kind == "welcome"
                count += 1
    return count
