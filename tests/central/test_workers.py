"""Several server processes on one PostgreSQL (issue 19): ``kiosk-central serve --workers N``.

Real processes throughout: ``kiosk-central serve --workers 2`` and ``--workers 4`` on a fresh
PostgreSQL schema, real kiosk stores synced by ``kiosk-sync --once`` processes running at the
same time, and the dashboard's sessions and login throttle used through two servers at once.
What the issue asks is checked exactly: every event held once (none lost, none twice), every
kiosk's seqs all held, a roster reader that never misses a row, and more than one worker
process answering. Kept small (a few kiosks): ``bench/load.py`` is the load test.
"""

from __future__ import annotations

import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from central.db import CentralDB, attendances, events
from central.web.auth import COOKIE
from central.workers import refusal
from sync.protocol import EVENTS_PATH, ROSTER_PATH, ROSTER_TYPES
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    REPO,
    CentralServer,
    command,
    database_url,
    door,
    enrol,
    register_families,
    subprocess_env,
    week_of_taps,
)

postgres = pytest.mark.postgres

#: What a worker writes for each batch it applies (central.app), with its pid (central.workers).
BATCH_LINE = re.compile(r"\[pid (\d+)\]: device (\S+): ")


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with database_url("postgres", tmp_path) as url:
        yield url


@pytest.fixture
def db(pg_url: str) -> Iterator[CentralDB]:
    db = CentralDB.open(pg_url)
    yield db
    db.close()


def shared_secret(folder: Path) -> Path:
    """A central.toml that sets the secret every worker shares (``--workers`` needs one)."""
    path = folder / "central-workers.toml"
    path.write_text('[server]\nsecret = "workers-test-secret"\n', encoding="utf-8")
    return path


def serve(url: str, log: Path, workers: int) -> CentralServer:
    """``kiosk-central serve --workers N``, logging each batch with the pid that applied it."""
    config = shared_secret(log.parent)
    extra = ("--config", str(config), "--workers", str(workers), "--log-level", "info")
    return CentralServer(url, log, extra=extra).start(timeout=90)


def pids_that_applied_batches(log: Path) -> set[str]:
    found = [m.group(1) for m in BATCH_LINE.finditer(log.read_text(errors="replace"))]
    print("batches applied per worker pid:", {pid: found.count(pid) for pid in set(found)})
    return set(found)


def kiosk_sync(data: Path, endpoint: str, token_file: Path) -> subprocess.Popen:
    args = [*command("kiosk-sync", "sync.daemon"), *KEEP_DATED_EVENTS, "--data", str(data)]
    args += ["--endpoint", endpoint, "--token-file", str(token_file), "--once"]
    return subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        cwd=REPO,
    )


def sync_all_at_once(kiosks: list[tuple[Path, Path]], endpoint: str) -> None:
    running = [kiosk_sync(data, endpoint, token) for data, token in kiosks]
    for process in running:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err


@postgres
@pytest.mark.parametrize("workers", [2, 4])
def test_kiosks_syncing_at_once_through_every_worker_land_exactly_once(
    tmp_path: Path, pg_url: str, db: CentralDB, workers: int
) -> None:
    desks, kiosks, uids = [], [], []
    for n in range(6):  # two organisations, three kiosks each
        org = ("north", "south")[n % 2]
        enrolled = enrol(db, org, f"site-{n}", f"kiosk-{n}")
        desk = door(tmp_path / f"kiosk-{n}", enrolled.device, enrolled.site)
        token = tmp_path / f"kiosk-{n}.token"
        token.write_text(enrolled.token + "\n")
        token.chmod(0o600)
        desks.append(desk)
        kiosks.append((tmp_path / f"kiosk-{n}", token))

    log = tmp_path / "server.log"
    server = serve(pg_url, log, workers)
    try:
        # Three rounds, every kiosk at once in each: a connection each time, so the batches
        # fall to different processes (each keeps the connections it accepted).
        for desk in desks:
            uids.append(register_families(desk, 5, prefix=desk.device.device_id[-1]))
        sync_all_at_once(kiosks, server.url)  # the families: sends, pulls what is there
        taps = sum(week_of_taps(desk, found) for desk, found in zip(desks, uids, strict=True))
        sync_all_at_once(kiosks, server.url)  # the week's taps; the others' families
        sync_all_at_once(kiosks, server.url)  # what the others sent meanwhile
    finally:
        server.stop()
    recorded = {d.device.device_id: d.store.highest_seq() for d in desks}
    sent_ids = {e.event_id for d in desks for e in d.store.events()}
    families_known = [len(d.store.families()) for d in desks]
    for desk in desks:
        desk.store.close()

    with db.engine.connect() as conn:
        held = conn.execute(select(func.count()).select_from(events)).scalar_one()
        held_ids = set(conn.execute(select(events.c.event_id)).scalars())
        attended = conn.execute(select(func.count()).select_from(attendances)).scalar_one()
    assert held == len(sent_ids) == sum(recorded.values())  # none lost, none twice
    assert held_ids == sent_ids
    assert attended == taps
    for device, seq in recorded.items():
        assert db.holds_up_to(device) == seq
    assert families_known == [15] * 6  # each kiosk knows its organisation's families
    assert len(pids_that_applied_batches(log)) >= 2, "one worker process answered every batch"


@postgres
def test_a_roster_reader_never_misses_a_row_written_through_other_workers(
    tmp_path: Path, pg_url: str, db: CentralDB
) -> None:
    """Four kiosks write one organisation's roster through four processes while a fifth pages
    through it: rows must reach it in cursor order, so paging on from its last cursor it
    has seen each one, once, by the end. A row committed late below a cursor already read
    (ids taken outside the organisation's lock) would be skipped for good."""
    from bench.load import Kiosk, make_events

    writers = []
    for n in range(4):
        kiosk = Kiosk(n, "north", f"site-{n}", f"writer-{n}")
        kiosk.token = enrol(db, kiosk.org, kiosk.site, kiosk.device).token
        kiosk.events = make_events(kiosk, 120)
        writers.append(kiosk)
    reader = enrol(db, "north", "site-r", "reader")
    expected = {e["event_id"] for k in writers for e in k.events if e["type"] in ROSTER_TYPES}
    failures: list[str] = []

    def write(kiosk: Kiosk, url: str) -> None:
        # A connection per batch, so the batches are spread over the processes (one kept-alive
        # connection stays with the process that accepted it).
        headers = {"Authorization": f"Bearer {kiosk.token}", "Connection": "close"}
        for first in range(0, len(kiosk.events), 10):
            batch = kiosk.events[first : first + 10]
            answer = requests.post(
                url + EVENTS_PATH, json={"events": batch}, headers=headers, timeout=60
            )
            if answer.status_code != 200:
                failures.append(f"{kiosk.device}: {answer.status_code} {answer.text[:200]}")
                return

    log = tmp_path / "server.log"
    server = serve(pg_url, log, 4)
    try:
        threads = [threading.Thread(target=write, args=(k, server.url)) for k in writers]
        for t in threads:
            t.start()
        seen: list[str] = []
        cursor, pages = 0, 0
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {reader.token}"
            while True:
                writing = any(t.is_alive() for t in threads)  # before the page is read
                page = http.get(
                    server.url + ROSTER_PATH, params={"cursor": cursor, "limit": 25}, timeout=60
                ).json()
                pages += 1
                assert page["cursor"] >= cursor
                cursor = page["cursor"]
                seen += [e["event_id"] for e in page["events"]]
                if not writing and not page["more"]:
                    break
        for t in threads:
            t.join(60)
    finally:
        server.stop()

    assert not failures
    assert len(seen) == len(set(seen)), "a roster row was served twice"
    assert set(seen) == expected, f"{len(expected - set(seen))} roster row(s) never served"
    assert pages > 5  # it really did read while the others wrote
    assert len(pids_that_applied_batches(log)) >= 2


# -- the dashboard across processes ----------------------------------------------------------
PAGE = "/dashboard/org/lichfield"  # the staff user's own organisation's page


def login(base: str, name: str, password: str) -> requests.Response:
    return requests.post(
        f"{base}/dashboard/login",
        data={"name": name, "password": password, "next": "/dashboard"},
        allow_redirects=False,
        timeout=30,
    )


@pytest.fixture
def two_servers(tmp_path: Path, pg_url: str, db: CentralDB) -> Iterator[tuple[str, str]]:
    """``serve --workers 2`` and a second, separate ``serve`` on the same database: what one
    process knows that the other does not shows up as a difference between them."""
    first = serve(pg_url, tmp_path / "first.log", 2)
    try:
        second = CentralServer(pg_url, tmp_path / "second.log").start()
        try:
            yield first.url, second.url
        finally:
            second.stop()
    finally:
        first.stop()


@postgres
def test_a_login_on_one_process_is_valid_on_another_until_logout_anywhere(
    db: CentralDB, two_servers: tuple[str, str]
) -> None:
    db.add_org("lichfield")
    password = db.add_user("alice", "staff", "lichfield")
    first, second = two_servers
    signed_in = login(first, "alice", password)
    assert signed_in.status_code == 303
    cookies = {COOKIE: signed_in.cookies[COOKIE]}
    for base in (first, second, first, second):
        page = requests.get(f"{base}{PAGE}", cookies=cookies, allow_redirects=False, timeout=30)
        assert page.status_code == 200, base

    out = requests.post(
        f"{second}/dashboard/logout", cookies=cookies, allow_redirects=False, timeout=30
    )
    assert out.status_code == 303
    for base in (first, first, second):  # several asks: the first server has two processes
        page = requests.get(f"{base}{PAGE}", cookies=cookies, allow_redirects=False, timeout=30)
        assert page.status_code == 303 and "/dashboard/login" in page.headers["location"]


@postgres
def test_failed_logins_are_counted_across_processes(
    db: CentralDB, two_servers: tuple[str, str]
) -> None:
    db.add_org("lichfield")
    password = db.add_user("alice", "staff", "lichfield")
    first, second = two_servers
    for n in range(5):  # NAME_LIMIT failures for one name, spread over the processes
        assert login((first, second)[n % 2], "alice", "wrong").status_code == 401
    for base in (first, second):
        refused = login(base, "alice", password)  # the right password, but too late
        assert refused.status_code == 429 and "Retry-After" in refused.headers


# -- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", ["2", "0"])
def test_several_processes_are_refused_on_sqlite_before_the_file_is_made(
    tmp_path: Path, workers: str
) -> None:
    path = tmp_path / "central.sqlite3"
    done = subprocess.run(
        [*command("kiosk-central", "central.cli"), "--db", f"sqlite:///{path}"]
        + ["serve", "--workers", workers],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(),
        cwd=REPO,
    )
    assert done.returncode == 1
    expected = "needs PostgreSQL" if workers == "2" else "give 1 or more"
    assert expected in done.stderr
    assert not path.exists()


@postgres
@pytest.mark.parametrize("toml", [None, "", "[server]\nport = 8700\n", '[server]\nsecret = ""\n'])
def test_several_processes_are_refused_without_a_shared_secret(
    tmp_path: Path, pg_url: str, toml: str | None
) -> None:
    """Issue 19: several processes must share one secret written in central.toml; with no
    file, a file without ``[server] secret`` or an empty one, ``--workers 2`` does not start
    (and ``--workers 1`` is not asked for one)."""
    args = [*command("kiosk-central", "central.cli"), "--db", pg_url, "serve", "--port", "0"]
    env = subprocess_env()
    env.pop("KIOSK_CENTRAL_CONFIG", None)
    if toml is not None:
        config = tmp_path / "central.toml"
        config.write_text(toml, encoding="utf-8")
        env["KIOSK_CENTRAL_CONFIG"] = str(config)  # the environment names the file
    done = subprocess.run(
        [*args, "--workers", "2"], capture_output=True, text=True, timeout=60, env=env, cwd=REPO
    )
    assert done.returncode == 1
    assert "--workers 2 needs the secret every process shares" in done.stderr
    assert "[server] secret" in done.stderr
    assert "listening" not in done.stderr.lower()
    assert refusal(pg_url, 1, None) is None  # one process has nothing to share
    assert refusal(pg_url, 2, "a secret") is None


@postgres
def test_a_port_another_server_listens_on_is_refused(tmp_path: Path, pg_url: str) -> None:
    """Each worker listens with SO_REUSEPORT; without this check a second server of the same
    user on the same port would quietly take some of the kiosks' connections."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        done = subprocess.run(
            [*command("kiosk-central", "central.cli"), "--db", pg_url, "serve"]
            + ["--port", str(port), "--workers", "2", "--config", str(shared_secret(tmp_path))],
            capture_output=True,
            text=True,
            timeout=60,
            env=subprocess_env(),
            cwd=REPO,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
