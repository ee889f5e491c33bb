"""Many kiosks syncing at once: 300 by default, against a real server on PostgreSQL.

    .venv/bin/python bench/load.py [--kiosks 300] [--batches 3] [--events 50] [--orgs 30]
                                   [--workers 1,2,4] [--rounds 1] [--deadline 300] [--db URL]

Needs PostgreSQL: ``--db URL``, else a fresh schema in ``$KIOSK_TEST_POSTGRES_URL`` (``eval
"$(bash scripts/ci-postgres.sh)"``), dropped afterwards. Enrols ``--kiosks`` devices (spread
over ``--orgs`` organisations, three sites each), starts the server (``kiosk-central serve
--workers N``, on a free port on 127.0.0.1 only) and releases one thread per kiosk at the same
moment. Each kiosk, with its own token and its own HTTP connection, does what the sync daemon
does: asks who it is (``GET /api/v1/device``), sends its events oldest first in ``--batches``
batches of ``--events`` (registrations with cards, then attendances), and pulls a page of its
organisation's roster. Then the server's database is compared with what was sent, exactly:
every event held once, none lost, none duplicated, none refused, every kiosk's seqs all held.

Every request body (the JSON bytes of each batch) is built before the kiosks are released, so
the time measured is the server's answering, not this client encoding JSON on the same cores
while the server works (a fairness fix to the client only: what is measured, and how it is
checked, is unchanged). For the same reason each kiosk speaks HTTP with the standard library's
``http.client`` on one kept-alive connection, as ``requests`` did: ``requests``' own work per
call (a prepared request, hooks, cookies, a pool) took 2-4 s of the same two cores a run, and
the kiosks it stands for are Pis of their own. The server gets a central.toml with a
``[server] secret`` of its own, since ``--workers`` above 1 refuses to start without one
(issue 19).

Prints: errors, lost/duplicated events, answer times (p50, p95, p99, max) per request kind,
events per second, and the server's capacity (workers x database pool). ``--workers 1,2,4``
runs the same load against each setting (a fresh schema each) and then prints them side by
side: p50 and p99 per request kind, wall time, lost, duplicated, refused, errors.
``--rounds N`` runs every setting N times, the settings taking turns (1,2,4,1,2,4...), and
prints the medians side by side with the range of the batches' p99: a shared machine's speed
changes from minute to minute, by as much as a third, and taking turns gives every setting the
same spells. Exits 1 on any error, loss or duplicate; everything is bounded by ``--deadline``
seconds a run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from central import db as central_db  # noqa: E402
from central.db import CentralDB  # noqa: E402
from central.process_tuning import REQUEST_THREADS  # noqa: E402
from kiosk.domain.attendance import attendance_data  # noqa: E402
from kiosk.domain.events import Event  # noqa: E402
from kiosk.domain.families import new_family  # noqa: E402
from kiosk.domain.risk import IncentiveDecision  # noqa: E402
from kiosk.domain.timetable import SessionOccurrence  # noqa: E402
from sync.protocol import DEVICE_PATH, EVENTS_PATH, ROSTER_PATH  # noqa: E402

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HOST = "127.0.0.1"  # loopback only: this drives a server of ours, nowhere else


# -- the server ------------------------------------------------------------------------------
@contextlib.contextmanager
def running_server(db_url: str, workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """``kiosk-central serve --workers N``, the command a deployment runs, on a free port."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # Several processes need central.toml's shared secret (central.workers.refusal).
    config = log.with_suffix(".toml")
    config.write_text(f'[server]\nsecret = "{uuid.uuid4().hex}"\n', encoding="utf-8")
    args = [sys.executable, "-m", "central.cli", "--db", db_url, "--config", str(config)]
    args += ["serve", "--host", HOST]
    # At info, each worker logs every batch it applies with its pid (central.workers).
    args += ["--port", str(port), "--workers", str(workers), "--log-level", "info"]
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    url = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not come up: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        # Every worker must be up, not just the first: ask until the answers stop failing.
        for _ in range(workers * 5):
            requests.get(url + "/healthz", timeout=5)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextlib.contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema in the PostgreSQL at ``base`` (dropped afterwards), as a database URL."""
    import psycopg

    schema = "load_" + uuid.uuid4().hex[:12]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# -- where the time goes (Linux /proc; zeros elsewhere) -------------------------------------
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str]:
    """``/proc/PID/stat`` after the command name: [state, ppid, ...], utime at 11."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def tree_cpu_seconds(pid: int, reaped: bool = False) -> float:
    """CPU time used so far by ``pid`` and every process under it (the server's workers);
    ``reaped`` adds what its ended children used (PostgreSQL's finished sessions)."""
    try:
        fields = _stat(pid)
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        if reaped:
            ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return 0.0
    return ticks / _TICK + sum(tree_cpu_seconds(int(k)) for k in kids)


def postgres_cpu_seconds(db: CentralDB) -> float:
    """CPU time used so far by the PostgreSQL the bench runs on, when it runs on this machine
    (its postmaster is the parent of our session's backend); 0 if it cannot be seen."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
    try:
        postmaster = int(_stat(backend)[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return tree_cpu_seconds(postmaster, reaped=True)


def machine_cpu_seconds() -> float:
    """CPU time used by everything on the machine so far (all cores; /proc/stat)."""
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in first[1:8])
    return (user + nice + system + irq + softirq) / _TICK


def sessions_so_far(db: CentralDB) -> int:
    """Connections PostgreSQL has accepted into this database so far (pg_stat_database; a
    session is counted when its backend next reports its statistics, so a run's figure can
    fall short by the connections still open at its end)."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            ).scalar_one()
        )


def batches_per_process(log: Path) -> list[int]:
    """How many batches each server process applied, most first: uvicorn's workers share one
    socket, and each keeps the connections it accepted, so the split shows in the answers."""
    import re

    found = re.findall(r"\[pid (\d+)\]: device \S+: ", log.read_text(errors="replace"))
    if not found:  # one process logs without its pid
        found = ["-"] * len(
            re.findall(r"central.api: device \S+: ", log.read_text("utf-8", "replace"))
        )
    return sorted(Counter(found).values(), reverse=True)


def own_cpu_seconds() -> float:
    """This process's CPU time: the load client's threads (JSON, HTTP)."""
    return time.process_time()


# -- the kiosks ------------------------------------------------------------------------------
@dataclass
class Kiosk:
    number: int
    org: str
    site: str
    device: str
    token: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)


def make_events(kiosk: Kiosk, count: int) -> list[dict[str, Any]]:
    """A realistic backlog: families registered with cards, then their attendances."""
    out: list[Event] = []
    families = []
    n = 0
    while len(out) < count:
        at = START + timedelta(days=n // 40, minutes=n % 40)
        if len(families) < 3 or n % 6 == 0:
            fam = new_family(
                f"Parent {kiosk.number}-{n}",
                "WS7 1AA",
                [("Ben", "2024-03"), ("Cara", None)],
                today=date(2026, 11, 23),
            )
            families.append(fam)
            uid = f"{kiosk.number:04X}{len(families):04X}"
            out.append(_event(kiosk, "member.registered", at, {"family": fam.to_dict()}))
            card = {"uid": uid, "family_id": fam.family_id, "volunteer": None}
            out.append(_event(kiosk, "card.assigned", at, card))
        else:
            fam = families[n % len(families)]
            session = SessionOccurrence(f"s{n}", "Stay and Play", at.date(), dtime(9), dtime(12))
            decision = IncentiveDecision(n % 3 == 0, ("postcode",) if n % 3 == 0 else (), "v1-a")
            kids = [c.child_id for c in fam.children]
            data = attendance_data(session, fam.family_id, kids, 1, "card", None, decision)
            out.append(_event(kiosk, "attendance.recorded", at, data))
        n += 1
    return [e.with_seq(i).to_dict() for i, e in enumerate(out[:count], start=1)]


def _event(kiosk: Kiosk, type_: str, at: datetime, data: dict[str, Any]) -> Event:
    return Event(type_, at, data, kiosk.device, kiosk.site, event_id=str(uuid.uuid4()))


@dataclass
class Outcome:
    """What every kiosk saw, merged."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def took(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def run_kiosk(
    kiosk: Kiosk, url: str, batches: int, start: threading.Barrier, outcome: Outcome
) -> None:
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
    auth = {"Authorization": f"Bearer {kiosk.token}"}
    size = -(-len(kiosk.events) // batches)
    # Every body is encoded now, before the start: the clock then times the server alone.
    batches_sent = [kiosk.events[i : i + size] for i in range(0, len(kiosk.events), size)]
    bodies = [json.dumps({"events": batch}).encode("utf-8") for batch in batches_sent]
    json_body = {**auth, "Content-Type": "application/json"}

    def call(kind: str, method: str, path: str, body: bytes | None = None) -> Any | None:
        """One request on the kiosk's kept-alive connection; its answer's JSON, or None."""
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=json_body if body else auth)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            outcome.error(f"{kiosk.device} {kind}: {type(exc).__name__}: {exc}")
            connection.close()  # the next request opens a new connection
            return None
        outcome.took(kind, time.perf_counter() - began)
        if response.status != 200:
            text = data[:200].decode("utf-8", "replace")
            outcome.error(f"{kiosk.device} {kind}: HTTP {response.status} {text}")
            return None
        return json.loads(data)

    try:
        start.wait(timeout=120)
    except threading.BrokenBarrierError:
        outcome.error(f"{kiosk.device}: never started")
        return
    try:
        if call("device", "GET", DEVICE_PATH) is None:
            return
        for batch, body in zip(batches_sent, bodies, strict=True):
            answer = call("events", "POST", EVENTS_PATH, body)
            if answer is None:
                return
            results = answer["results"]
            if [r["event_id"] for r in results] != [e["event_id"] for e in batch]:
                outcome.error(f"{kiosk.device}: answers do not match the batch")
            with outcome.lock:
                outcome.statuses.update(r["status"] for r in results)
            refused = [r for r in results if r["status"] == "rejected"]
            if refused:
                outcome.error(f"{kiosk.device}: {len(refused)} refused: {refused[0]['reason']}")
        call("roster", "GET", f"{ROSTER_PATH}?{urlencode({'cursor': 0, 'limit': 100})}")
    except Exception as exc:  # report, never hang the bench
        outcome.error(f"{kiosk.device}: {type(exc).__name__}: {exc}")
    finally:
        connection.close()


# -- the run ---------------------------------------------------------------------------------
@dataclass
class LoadResult:
    kiosks: int
    sent: int
    wall_seconds: float
    statuses: Counter
    errors: list[str]
    held: int
    distinct: int
    lost: int
    duplicated: int
    refused: int
    kiosks_not_fully_held: int
    latencies: dict[str, list[float]]
    capacity: str
    #: CPU seconds during the run: the server's processes, this load client, the whole machine
    #: (PostgreSQL, and anyone else's work, is the rest), and the cores there are.
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    postgres_cpu: float = 0.0
    machine_cpu: float = 0.0
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    #: PostgreSQL sessions (connections) opened during the run: each costs a process and a
    #: password exchange on the database's side, so a pool that keeps them should open few.
    sessions_opened: int = 0
    #: Batches each server process applied, most first (from the server's log).
    batches_per_process: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and self.lost == 0 and self.duplicated == 0 and self.refused == 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run_load(
    db_url: str,
    kiosks: int = 300,
    batches: int = 3,
    events: int = 50,
    orgs: int = 30,
    workers: int = 2,
    deadline: float = 300.0,
    log: Path | None = None,
) -> LoadResult:
    """Enrol, start the server, let every kiosk sync at once, then count what the server holds."""
    db = CentralDB.open(db_url)
    try:
        fleet: list[Kiosk] = []
        for number in range(kiosks):
            org = f"org-{number % orgs:03d}"
            site = f"site-{(number // orgs) % 3}"
            fleet.append(Kiosk(number, org, site, f"kiosk-{number:04d}"))
        for org in sorted({k.org for k in fleet}):
            db.add_org(org)
            for site in sorted({k.site for k in fleet if k.org == org}):
                db.add_site(org, site)
        for kiosk in fleet:
            kiosk.token = db.add_device(kiosk.org, kiosk.site, kiosk.device)
            kiosk.events = make_events(kiosk, events * batches)
        sent = sum(len(k.events) for k in fleet)
        pool = db.engine.pool
        capacity = (
            f"{workers} uvicorn worker process(es) x (database pool {pool.size()} + overflow "
            f"{getattr(pool, '_max_overflow', '?')}) connections, "
            f"{REQUEST_THREADS} request threads each"
        )
        outcome = Outcome()
        log = log or Path(os.environ.get("TMPDIR", "/tmp")) / f"load-{uuid.uuid4().hex[:8]}.log"
        with running_server(db_url, workers, log) as (url, server_pid):
            start = threading.Barrier(kiosks + 1)
            threads = [
                threading.Thread(
                    target=run_kiosk, args=(k, url, batches, start, outcome), daemon=True
                )
                for k in fleet
            ]
            for t in threads:
                t.start()
            start.wait(timeout=120)
            began = time.perf_counter()
            cpu_before = (tree_cpu_seconds(server_pid), own_cpu_seconds(), machine_cpu_seconds())
            sessions_before = sessions_so_far(db)
            pg_before = postgres_cpu_seconds(db)
            stop_at = time.monotonic() + deadline
            for t in threads:
                t.join(max(0.0, stop_at - time.monotonic()))
            wall = time.perf_counter() - began
            cpu_after = (tree_cpu_seconds(server_pid), own_cpu_seconds(), machine_cpu_seconds())
            sessions_opened = sessions_so_far(db) - sessions_before
            pg_cpu = postgres_cpu_seconds(db) - pg_before
            stuck = sum(t.is_alive() for t in threads)
            if stuck:
                outcome.error(f"{stuck} kiosk(s) still syncing after the {deadline:.0f} s deadline")
        ours = [k.device for k in fleet]
        with db.engine.connect() as conn:
            ev = central_db.events
            held = conn.execute(
                select(func.count()).select_from(ev).where(ev.c.device_id.in_(ours))
            ).scalar_one()
            distinct = conn.execute(
                select(func.count(func.distinct(ev.c.event_id))).where(ev.c.device_id.in_(ours))
            ).scalar_one()
            per_device = dict(
                conn.execute(select(ev.c.device_id, func.count()).group_by(ev.c.device_id)).all()
            )
            refused = conn.execute(
                select(func.count()).select_from(central_db.rejections)
            ).scalar_one()
        sent_ids = {e["event_id"] for k in fleet for e in k.events}
        not_held = sum(
            1
            for k in fleet
            if per_device.get(k.device, 0) != len(k.events)
            or db.holds_up_to(k.device) != len(k.events)
        )
        return LoadResult(
            kiosks=kiosks,
            sent=sent,
            wall_seconds=wall,
            statuses=outcome.statuses,
            errors=outcome.errors,
            held=held,
            distinct=distinct,
            lost=len(sent_ids) - distinct,
            duplicated=held - distinct,
            refused=refused,
            kiosks_not_fully_held=not_held,
            latencies=outcome.latencies,
            capacity=capacity,
            server_cpu=cpu_after[0] - cpu_before[0],
            client_cpu=cpu_after[1] - cpu_before[1],
            machine_cpu=cpu_after[2] - cpu_before[2],
            sessions_opened=sessions_opened,
            postgres_cpu=pg_cpu,
            batches_per_process=batches_per_process(log),
        )
    finally:
        db.close()


def report(result: LoadResult) -> str:
    lines = [
        f"kiosks: {result.kiosks} syncing at once; events sent: {result.sent}",
        f"server: {result.capacity}",
        f"wall time: {result.wall_seconds:.1f} s; {result.sent / result.wall_seconds:.0f} events/s",
        f"answers: {dict(result.statuses)}",
        f"held by the server: {result.held} ({result.distinct} distinct); lost: {result.lost}; "
        f"duplicated: {result.duplicated}; refused: {result.refused}; kiosks not fully held: "
        f"{result.kiosks_not_fully_held}",
        f"errors: {len(result.errors)}",
        f"CPU during the run: {where_time_went(result)}",
        f"database sessions opened during the run: {result.sessions_opened}",
        f"batches applied by each server process: {result.batches_per_process}",
    ]
    lines += [f"  {e}" for e in result.errors[:10]]
    for kind, values in sorted(result.latencies.items()):
        ms = [v * 1000 for v in values]
        lines.append(
            f"{kind:>7}: {len(ms)} requests; p50 {percentile(ms, 0.5):.0f} ms, "
            f"p95 {percentile(ms, 0.95):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
            f"max {max(ms):.0f} ms, mean {statistics.fmean(ms):.0f} ms"
        )
    lines.append("result: " + ("ok" if result.ok else "FAILED"))
    return "\n".join(lines)


def where_time_went(result: LoadResult) -> str:
    """CPU seconds by whom, against what the machine's cores could give in the wall time."""
    could = result.wall_seconds * result.cores
    return (
        f"server {result.server_cpu:.0f} s, PostgreSQL {result.postgres_cpu:.0f} s, load client "
        f"{result.client_cpu:.0f} s, the rest of the machine {_others(result):.0f} s, of "
        f"{could:.0f} s the {result.cores} core(s) had ({result.machine_cpu / could:.0%} busy)"
    )


def _others(r: LoadResult) -> float:
    return max(0.0, r.machine_cpu - r.server_cpu - r.client_cpu - r.postgres_cpu)


def side_by_side(results: dict[int, list[LoadResult]]) -> str:
    """One column per ``--workers`` setting: answer times per request kind, then the counts.

    With several rounds each figure is the median of the setting's runs (the counts: the
    sum), and a row gives the range of the batches' p99 over the rounds: a shared machine's
    speed changes from minute to minute, and the settings took turns, so each met the same
    spells.
    """
    runs = list(results.values())
    head = f"{'':<22}" + "".join(f"{f'--workers {w}':>18}" for w in results)
    lines = [head, "-" * len(head)]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"{label:<22}" + "".join(f"{c:>18}" for c in cells))

    def median(rs: list[LoadResult], figure: Callable[[LoadResult], float]) -> float:
        return statistics.median(figure(r) for r in rs)

    def answer_ms(r: LoadResult, kind: str, q: float) -> float:
        ms = [v * 1000 for v in r.latencies.get(kind, [])]
        return percentile(ms, q) if ms else float("nan")

    kinds = sorted({k for rs in runs for r in rs for k in r.latencies})
    for kind in kinds:
        for name, q in (("p50", 0.5), ("p99", 0.99)):
            cells = [
                f"{statistics.median(answer_ms(r, kind, q) for r in rs):.0f} ms" for rs in runs
            ]
            row(f"{kind} {name}", cells)
    if max(len(rs) for rs in runs) > 1:
        spread = []
        for rs in runs:
            p99s = [answer_ms(r, "events", 0.99) for r in rs]
            spread.append(f"{min(p99s):.0f}-{max(p99s):.0f} ms")
        row("events p99, range", spread)
        row("rounds", [str(len(rs)) for rs in runs])
    row("wall time", [f"{median(rs, lambda r: r.wall_seconds):.1f} s" for rs in runs])
    row("events/s", [f"{median(rs, lambda r: r.sent / r.wall_seconds):.0f}" for rs in runs])
    row("server CPU", [f"{median(rs, lambda r: r.server_cpu):.0f} s" for rs in runs])
    row("load client CPU", [f"{median(rs, lambda r: r.client_cpu):.0f} s" for rs in runs])
    row("PostgreSQL CPU", [f"{median(rs, lambda r: r.postgres_cpu):.0f} s" for rs in runs])
    row("others' CPU", [f"{median(rs, _others):.0f} s" for rs in runs])
    busy = [median(rs, lambda r: r.machine_cpu / (r.wall_seconds * r.cores)) for rs in runs]
    row("machine busy", [f"{b:.0%}" for b in busy])
    row("database sessions", [f"{median(rs, lambda r: r.sessions_opened):.0f}" for rs in runs])
    split = ["/".join(map(str, rs[-1].batches_per_process)) for rs in runs]
    row("batches per process", split)
    for label, attr in (("lost", "lost"), ("duplicated", "duplicated"), ("refused", "refused")):
        row(label, [str(sum(getattr(r, attr) for r in rs)) for rs in runs])
    row("errors", [str(sum(len(r.errors) for r in rs)) for rs in runs])
    row("result", ["ok" if all(r.ok for r in rs) else "FAILED" for rs in runs])
    return "\n".join(lines)


def _settings(text: str) -> list[int]:
    """``--workers 1,2,4``: the process counts to run the same load against, in order."""
    try:
        found = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give numbers, e.g. 1,2,4") from None
    if not found or min(found) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 1 or more processes, e.g. 1,2,4")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kiosks", type=int, default=300)
    parser.add_argument("--batches", type=int, default=3, help="batches per kiosk")
    parser.add_argument("--events", type=int, default=50, help="events per batch")
    parser.add_argument("--orgs", type=int, default=30, help="organisations the kiosks belong to")
    parser.add_argument(
        "--workers",
        type=_settings,
        default=[2],
        help="server processes; several settings (1,2,4) run the same load against each and "
        "print them side by side",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run every --workers setting this many times, taking turns (1,2,4,1,2,4...), "
        "and print the medians side by side with the range of the batches' p99",
    )
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds, at most, per run")
    parser.add_argument(
        "--db", help="PostgreSQL URL (default: a schema in $KIOSK_TEST_POSTGRES_URL per run)"
    )
    args = parser.parse_args(argv)
    base = os.environ.get("KIOSK_TEST_POSTGRES_URL")
    if not args.db and not base:
        print("load: give --db or set KIOSK_TEST_POSTGRES_URL", file=sys.stderr)
        return 2
    if args.db and len(args.workers) > 1:
        print("load: several --workers settings need a schema each: drop --db", file=sys.stderr)
        return 2
    if args.rounds < 1:
        print("load: --rounds must be 1 or more", file=sys.stderr)
        return 2
    results: dict[int, list[LoadResult]] = {workers: [] for workers in args.workers}
    for round_, workers in ((n, w) for n in range(args.rounds) for w in args.workers):
        with contextlib.ExitStack() as stack:
            url = args.db or stack.enter_context(postgres_schema(base or ""))
            result = run_load(
                url,
                kiosks=args.kiosks,
                batches=args.batches,
                events=args.events,
                orgs=args.orgs,
                workers=workers,
                deadline=args.deadline,
            )
        rounds = f" (round {round_ + 1} of {args.rounds})" if args.rounds > 1 else ""
        print(f"== --workers {workers}{rounds}", flush=True)
        print(report(result), flush=True)
        results[workers].append(result)
    if len(results) > 1 or args.rounds > 1:
        print(f"\n{args.kiosks} kiosks, {args.batches} batches of {args.events} events each")
        print(side_by_side(results))
    return 0 if all(r.ok for rs in results.values() for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
