"""How fast a kiosk's backlog drains, and how fast the central server ingests.

    .venv/bin/python bench/sync_throughput.py [--events 2000] [--batch-size 200]

For SQLite (always) and PostgreSQL (when ``KIOSK_TEST_POSTGRES_URL`` is set), each on a fresh
database:

1. drain: a real kiosk store holding a backlog of ``--events`` events (a busy week or two of
   registrations and taps) is drained by the sync daemon's pass to a real ``kiosk-central``
   server process on loopback: events per second and total seconds (target: under 5 s);
2. ingest: the same events POSTed in batches straight to the server (HTTP, validation,
   duplicate checks, projections, one transaction per batch), and the server's ingest function
   called in-process, beside a raw ``executemany`` of the same rows into a fresh database of
   the same kind, batch by batch, one transaction each: the ratio of the rates (target: at
   least 30%). Two baselines: every row the ingest wrote (events, attendances and their
   children, families, children, cards: what the server must write), and the event rows alone.

Prints figures only; no assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import Table, insert, select  # noqa: E402

from central.db import (  # noqa: E402
    CentralDB,
    attendance_children,
    attendances,
    cards,
    children,
    families,
)
from central.db import events as events_table  # noqa: E402
from kiosk.domain.attendance import attendance_data  # noqa: E402
from kiosk.domain.events import DeviceIdentity, Event  # noqa: E402
from kiosk.domain.families import new_family  # noqa: E402
from kiosk.domain.risk import IncentiveDecision  # noqa: E402
from kiosk.domain.timetable import SessionOccurrence  # noqa: E402
from sync.client import SyncClient  # noqa: E402
from sync.syncer import Syncer  # noqa: E402

DEVICE = DeviceIdentity("bench-kiosk", "bench-site")
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


# -- a realistic backlog ---------------------------------------------------------------------
def backlog(count: int, device_id: str = DEVICE.device_id) -> list[Event]:
    """Registrations (with cards) and attendances: one family in six is new (fresh ids)."""
    out: list[Event] = []
    families = []
    n = 0
    while len(out) < count:
        at = START + timedelta(days=n // 40, minutes=n % 40)
        if len(families) < 20 or n % 6 == 0:
            kids = [("Ben", "2024-03"), ("Cara", None)]
            fam = new_family(f"Parent {n}", "WS7 1AA", kids, today=date(2026, 11, 23))
            families.append(fam)
            registered = {"family": fam.to_dict(), "volunteer": None}
            card = {"uid": f"{len(families):08X}", "family_id": fam.family_id, "volunteer": None}
            out.append(_event("member.registered", at, registered, device_id))
            out.append(_event("card.assigned", at, card, device_id))
        else:
            fam = families[n % len(families)]
            session = SessionOccurrence(f"s{n}", "Stay and Play", at.date(), dtime(9), dtime(12))
            data = attendance_data(
                session,
                fam.family_id,
                [c.child_id for c in fam.children],
                1,
                "card",
                None,
                IncentiveDecision(n % 3 == 0, ("postcode",) if n % 3 == 0 else (), "v1-abc"),
            )
            out.append(_event("attendance.recorded", at, data, device_id))
        n += 1
    return out[:count]


def _event(type_: str, at: datetime, data: dict, device_id: str) -> Event:
    return Event(type_, at, data, device_id, DEVICE.site_id, event_id=str(uuid.uuid4()))


# -- databases and servers -------------------------------------------------------------------
@contextlib.contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    import psycopg

    base = os.environ["KIOSK_TEST_POSTGRES_URL"]
    schema = "bench_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def enrol(db: CentralDB) -> str:
    db.add_org("bench-org")
    db.add_site("bench-org", DEVICE.site_id)
    return db.add_device("bench-org", DEVICE.site_id, DEVICE.device_id)


@contextlib.contextmanager
def server(db_url: str) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central.cli",
            "--db",
            db_url,
            "serve",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


# -- the measurements ------------------------------------------------------------------------
REPEATS = 3  # each figure is the best of this many runs (the machine may be busy)
DATA_TABLES = (families, children, cards, events_table, attendances, attendance_children)


def wire(events: list[Event]) -> list[dict]:
    return [e.with_seq(i + 1).to_dict() for i, e in enumerate(events)]


def batches(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def measure_drain(kind: str, folder: Path, count: int, batch_size: int) -> float:
    """The sync pass draining a real kiosk store's backlog to a real server process."""
    from kiosk.store import LocalStore

    best = float("inf")
    with fresh_database(kind, folder) as url:
        db = CentralDB.open(url)
        db.add_org("bench-org")
        db.add_site("bench-org", DEVICE.site_id)
        with server(url) as endpoint:
            for rep in range(REPEATS):
                device = f"drain-{rep}"
                token = db.add_device("bench-org", DEVICE.site_id, device)
                store = LocalStore(folder / f"kiosk-{rep}")
                mine = backlog(count, device)
                for start in range(0, len(mine), 500):
                    store.record(mine[start : start + 500])
                syncer = Syncer(store, SyncClient(endpoint, token), batch_size=batch_size)
                began = time.perf_counter()
                report = syncer.run_pass()
                best = min(best, time.perf_counter() - began)
                assert report.outcome == "ok" and store.waiting_count() == 0, report.error
                assert db.count(events_table, device_id=device) == count
                store.close()
        db.close()
    return best


def measure_http_ingest(kind: str, folder: Path, count: int, batch_size: int) -> float:
    """The same events POSTed straight to the server, batch by batch (no kiosk store)."""
    best = float("inf")
    with fresh_database(kind, folder) as url:
        db = CentralDB.open(url)
        db.add_org("bench-org")
        db.add_site("bench-org", DEVICE.site_id)
        with server(url) as endpoint:
            for rep in range(REPEATS):
                device = f"http-{rep}"
                client = SyncClient(endpoint, db.add_device("bench-org", DEVICE.site_id, device))
                chunks = batches(wire(backlog(count, device)), batch_size)
                began = time.perf_counter()
                for chunk in chunks:
                    client.send_events(chunk)
                best = min(best, time.perf_counter() - began)
                assert db.count(events_table, device_id=device) == count
        db.close()
    return best


def measure_db_ingest(
    kind: str, folder: Path, raw: list[dict], batch_size: int
) -> tuple[float, list[dict[Table, list[dict]]]]:
    """``CentralDB.ingest`` in this process; also returns the rows each batch wrote."""
    best = float("inf")
    written: list[dict[Table, list[dict]]] = []
    for _ in range(REPEATS):
        with fresh_database(kind, folder) as url:
            db = CentralDB.open(url)
            enrol(db)
            device = db.devices()[0]
            chunks = batches(raw, batch_size)
            began = time.perf_counter()
            for chunk in chunks:
                db.ingest(device, chunk)
            best = min(best, time.perf_counter() - began)
            assert db.count(events_table) == len(raw)
            written = rows_by_batch(db, chunks)
            db.close()
    return best, written


def rows_by_batch(db: CentralDB, chunks: list[list[dict]]) -> list[dict[Table, list[dict]]]:
    """Every row the ingest wrote, grouped by the batch that wrote it."""
    batch_of = {e["event_id"]: n for n, chunk in enumerate(chunks) for e in chunk}
    out: list[dict[Table, list[dict]]] = [{t: [] for t in DATA_TABLES} for _ in chunks]
    with db.engine.connect() as conn:
        table_rows = {t: [dict(r._mapping) for r in conn.execute(select(t))] for t in DATA_TABLES}
    family_batch = {r["family_id"]: batch_of[r["updated_event_id"]] for r in table_rows[families]}
    keys = {
        families: lambda r: batch_of[r["updated_event_id"]],
        children: lambda r: family_batch[r["family_id"]],
        cards: lambda r: batch_of[r["updated_event_id"]],
        events_table: lambda r: batch_of[r["event_id"]],
        attendances: lambda r: batch_of[r["attendance_id"]],
        attendance_children: lambda r: batch_of[r["attendance_id"]],
    }
    for table, rows in table_rows.items():
        for row in rows:
            if table is events_table:
                row.pop("id")
            out[keys[table](row)][table].append(row)
    return out


def measure_raw_insert(
    kind: str, folder: Path, written: list[dict[Table, list[dict]]], tables: tuple[Table, ...]
) -> float:
    """The same rows straight in with ``executemany``, one transaction per batch."""
    best = float("inf")
    for _ in range(REPEATS):
        with fresh_database(kind, folder) as url:
            db = CentralDB.open(url)
            began = time.perf_counter()
            for batch in written:
                with db.engine.begin() as conn:
                    for table in tables:
                        if batch[table]:
                            conn.execute(insert(table), batch[table])
            best = min(best, time.perf_counter() - began)
            db.close()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=200)
    args = parser.parse_args(argv)
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("KIOSK_TEST_POSTGRES_URL") else [])
    events = backlog(args.events)
    raw = wire(events)
    counts: dict[str, int] = {}
    for e in events:
        counts[e.type] = counts.get(e.type, 0) + 1
    print(f"backlog: {len(events)} events ({', '.join(f'{v} {k}' for k, v in counts.items())})")
    print(f"batch size {args.batch_size}; loopback; fresh database per run; best of {REPEATS} runs")
    if "postgres" not in kinds:
        print("(PostgreSQL skipped: KIOSK_TEST_POSTGRES_URL is not set)")
    n = len(events)
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="doorstep-bench-") as tmp:
            folder = Path(tmp)
            drain = measure_drain(kind, folder, args.events, args.batch_size)
            http = measure_http_ingest(kind, folder, args.events, args.batch_size)
            inproc, written = measure_db_ingest(kind, folder, raw, args.batch_size)
            raw_events = measure_raw_insert(kind, folder, written, (events_table,))
            raw_all = measure_raw_insert(kind, folder, written, DATA_TABLES)
        rows = sum(len(b[t]) for b in written for t in DATA_TABLES)

        def line(label: str, seconds: float) -> None:
            print(f"  {label:<46}{seconds:6.3f} s {n / seconds:8.0f} events/s")

        print(f"\n== {kind}")
        line("drain the backlog: kiosk store -> server", drain)
        print(f"    target: a week's backlog in under 5 s: {'met' if drain < 5 else 'MISSED'}")
        line("server ingest over HTTP (POST batches)", http)
        line("server ingest in-process (CentralDB.ingest)", inproc)
        line(f"raw executemany, every row ingest wrote ({rows})", raw_all)
        line(f"raw executemany, the event rows only ({n})", raw_events)
        for label, seconds, base, base_label in (
            ("HTTP", http, raw_all, "every row"),
            ("in-process", inproc, raw_all, "every row"),
            ("HTTP", http, raw_events, "event rows only"),
            ("in-process", inproc, raw_events, "event rows only"),
        ):
            ratio = base / seconds
            print(
                f"    ingest rate / raw rate ({label}, {base_label}): {ratio:4.0%}"
                f"   (target >= 30%: {'met' if ratio >= 0.3 else 'MISSED'})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
