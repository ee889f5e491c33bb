"""Tap latency: card tap -> durable record, through DoorDesk and LocalStore.

Measures ``DoorDesk.tap`` (a welcome: one attendance written durably) on

* an empty store (no events; 5,000 families and cards loaded from the roster), and
* a year of data (the same families, 60,000 attendances spread over the past 365 days),

with the taps falling as at a busy centre: four sessions a day, 50 families each, on the
days after the history ends (the same days for both stores),

beside, on the same disk and for the same record:

* the floor: one append of the event's JSON to a file, then fsync;
* SQLite in WAL mode with ``synchronous=FULL``: one INSERT and COMMIT;
* the store's write mechanism alone: one event more in a part, through AtomicJSONStorage.

The five are measured in interleaved rounds, in a new random order each round, so that the
disk's moods (and the cost one writer's journal commit leaves to the next) fall on all of them
alike, after a short warm-up. The garbage collector is left at its defaults. Prints median
and p99 in milliseconds, and the ratios the design asks for: tap p99 / floor p99 (target:
within 5x) and year / empty (target: no growth).

    .venv/bin/python bench/tap_latency.py [--taps 1000] [--dir PATH]

``--dir`` must be on the disk under test (not a tmpfs, where fsync costs nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.domain.attendance import attendance_data  # noqa: E402
from kiosk.domain.desk import DoorDesk  # noqa: E402
from kiosk.domain.events import DeviceIdentity, Event  # noqa: E402
from kiosk.domain.families import Family, new_family  # noqa: E402
from kiosk.domain.risk import IncentiveDecision  # noqa: E402
from kiosk.domain.timetable import Timetable, make_slot  # noqa: E402
from kiosk.store import LocalStore  # noqa: E402
from kiosk.store.durable import AtomicJSONStorage  # noqa: E402
from kiosk.store.layout import EVENTS_PER_PART, Layout  # noqa: E402

LONDON = ZoneInfo("Europe/London")
DEVICE = DeviceIdentity("bench-kiosk", "bench-site")
FAMILIES = 5_000
YEAR_ATTENDANCES = 60_000
TODAY = date(2026, 11, 23)
WARM_UP = 20
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Four two-hour sessions a day, every day; taps come 30 minutes in.
SESSIONS = (("09:00", "11:00"), ("11:00", "13:00"), ("13:00", "15:00"), ("15:00", "17:00"))
PER_SESSION = 50


def every_day_timetable() -> Timetable:
    timetable = Timetable()
    for day in WEEKDAYS:
        for n, (start, end) in enumerate(SESSIONS):
            timetable = timetable.add(make_slot(f"{day}-{n}", "Stay and Play", start, end, day))
    return timetable


def tap_time(day: date, session: int) -> datetime:
    hour, minute = map(int, SESSIONS[session][0].split(":"))
    return datetime.combine(day, datetime.min.time(), tzinfo=LONDON) + timedelta(
        hours=hour, minutes=minute + 30
    )


def make_families(rng: random.Random) -> list[tuple[Family, str]]:
    out = []
    for n in range(FAMILIES):
        kids = [(f"Child{k}", "2024-03") for k in range(rng.randint(1, 3))]
        family = new_family(f"Family {n}", "WS7 1AA", kids)
        out.append((family, f"{n + 1:08X}"))
    return out


def remote(type_: str, data: dict, at: datetime) -> Event:
    return Event(type_, at, data, "roster-kiosk", "other-site")


def load_roster(store: LocalStore, families: list[tuple[Family, str]]) -> None:
    at = datetime(2025, 1, 1, 9, 0, tzinfo=LONDON)
    events = []
    for family, uid in families:
        events.append(remote("member.registered", {"family": family.to_dict()}, at))
        events.append(remote("card.assigned", {"uid": uid, "family_id": family.family_id}, at))
    store.apply_remote(events)


def build_year(root: Path, families: list[tuple[Family, str]], rng: random.Random) -> None:
    """Write a year of day files directly in the store's format (fast, no per-event fsync)."""
    layout = Layout(root)
    decision = IncentiveDecision(True, ("postcode",), "v0-none")
    days = [TODAY - timedelta(days=n) for n in range(365, 0, -1)]
    per_day = [YEAR_ATTENDANCES // len(days)] * len(days)
    for n in range(YEAR_ATTENDANCES - sum(per_day)):
        per_day[n] += 1
    seq = 0
    runs = []
    timetable = every_day_timetable()
    for day, count in zip(days, per_day, strict=True):
        runs.append([seq + 1, day.isoformat()])
        sessions = [(tap_time(day, k), timetable.session_at(tap_time(day, k))) for k in range(4)]
        chosen = rng.sample(families, count)
        docs = []
        for n, (family, _) in enumerate(chosen):
            at, occurrence = sessions[n % len(SESSIONS)]
            assert occurrence is not None
            seq += 1
            data = attendance_data(
                occurrence,
                family.family_id,
                [c.child_id for c in family.children],
                family.adults,
                "card",
                None,
                decision,
            )
            event = Event("attendance.recorded", at, data, DEVICE.device_id, DEVICE.site_id)
            docs.append(event.with_seq(seq).to_dict())
        for part, start in enumerate(range(0, len(docs), EVENTS_PER_PART)):
            chunk = docs[start : start + EVENTS_PER_PART]
            table = {str(d["seq"]): d for d in chunk}
            AtomicJSONStorage(layout.part(day, part)).write({"events": table})
    AtomicJSONStorage(layout.seq).write(
        {"seq": {"1": {"high_water": seq, "runs": runs, "pending": None}}}
    )
    acked = seq - 200  # the sync daemon is a little behind
    AtomicJSONStorage(layout.sync).write(
        {"outbox": {"1": {"acked_through": acked, "done_above": [], "last_ack_at": None}}}
    )


class Floor:
    """One fsync'd append of the record: the least a durable write can cost here."""

    def __init__(self, folder: Path) -> None:
        self.fd = os.open(folder / "floor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def write(self, record: bytes) -> None:
        os.write(self.fd, record + b"\n")
        os.fsync(self.fd)


class AtomicPart:
    """The store's write mechanism alone: AtomicJSONStorage rewriting a part with one event more
    (temporary file, fsync, rename, fsync of the folder), as a tap does, without DoorDesk."""

    def __init__(self, folder: Path, record: bytes) -> None:
        self.storage = AtomicJSONStorage(folder / "atomic" / "part.json")
        self.doc = json.loads(record)
        self.table: dict[str, dict] = {}

    def write(self, n: int) -> None:
        if len(self.table) >= EVENTS_PER_PART:
            self.table = {}
        self.table = {**self.table, str(n): dict(self.doc, seq=n)}
        self.storage.write({"events": self.table})


class Sqlite:
    """SQLite, WAL, synchronous=FULL: INSERT then COMMIT."""

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "bench.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute(
            "CREATE TABLE events (event_id TEXT PRIMARY KEY, seq INTEGER, body TEXT NOT NULL)"
        )
        self.seq = 0

    def write(self, record: bytes) -> None:
        self.seq += 1
        self.db.execute("BEGIN")
        self.db.execute(
            "INSERT INTO events VALUES (?, ?, ?)", (f"id-{self.seq}", self.seq, record.decode())
        )
        self.db.execute("COMMIT")


def tapper(store: LocalStore, families: list[tuple[Family, str]]) -> Callable[[int], None]:
    """Tap ``n``: session ``n // 50`` counted from the first session of the day after TODAY."""
    desk = DoorDesk(store, DEVICE)
    per_day = PER_SESSION * len(SESSIONS)

    def tap(n: int) -> None:
        day = TODAY + timedelta(days=n // per_day)
        at = tap_time(day, (n % per_day) // PER_SESSION)
        outcome = desk.tap(families[n][1], at)
        if outcome.kind != "welcome":
            raise SystemExit(f"tap {n} gave {outcome.kind}, not welcome: the bench is broken")

    return tap


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def on_tmpfs(path: Path) -> bool:
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    best = ("", "")
    for line in mounts:
        fields = line.split()
        if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best[0]):
            best = (fields[1], fields[2])
    return best[1] in ("tmpfs", "ramfs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=1000, help="measured taps per method")
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk under test")
    args = parser.parse_args()
    if args.taps + WARM_UP > FAMILIES:
        parser.error(f"--taps must be at most {FAMILIES - WARM_UP}")
    base = Path(tempfile.mkdtemp(prefix="tap-latency-", dir=args.dir or Path.cwd()))
    rng = random.Random(42)
    try:
        warning = "  (tmpfs: fsync costs nothing here, the figures mean little)"
        print(f"data on {base}{warning if on_tmpfs(base) else ''}")
        families = make_families(rng)
        started = time.perf_counter()
        empty = LocalStore(base / "empty")
        empty.save_timetable(every_day_timetable())
        load_roster(empty, families)
        build_year(base / "year", families, rng)
        year = LocalStore(base / "year")
        year.save_timetable(every_day_timetable())
        load_roster(year, families)
        print(
            f"built in {time.perf_counter() - started:.1f} s: year store holds "
            f"{year.highest_seq():,} events in {len(os.listdir(base / 'year' / 'events'))} "
            f"files, {year.size_bytes() / 1e6:.1f} MB; families.json "
            f"{(base / 'year' / 'state' / 'families.json').stat().st_size / 1e6:.1f} MB"
        )
        record = json.dumps(
            Event(
                "attendance.recorded",
                datetime.now(LONDON),
                attendance_data(
                    every_day_timetable().session_at(tap_time(TODAY, 0)),  # type: ignore[arg-type]
                    families[0][0].family_id,
                    [c.child_id for c in families[0][0].children],
                    1,
                    "card",
                    None,
                    IncentiveDecision(True, ("postcode",), "v0-none"),
                ),
                DEVICE.device_id,
                DEVICE.site_id,
            )
            .with_seq(1)
            .to_dict(),
            separators=(",", ":"),
        ).encode()
        floor, sqlite, atomic = Floor(base), Sqlite(base), AtomicPart(base, record)
        methods: dict[str, Callable[[int], None]] = {
            "floor (append + fsync)": lambda n: floor.write(record),
            "SQLite WAL, synchronous=FULL": lambda n: sqlite.write(record),
            "atomic part rewrite alone": atomic.write,
            "tap, empty store": tapper(empty, families),
            "tap, a year of data": tapper(year, families),
        }
        samples: dict[str, list[float]] = {name: [] for name in methods}
        order = list(methods.items())
        for n in range(WARM_UP + args.taps):
            rng.shuffle(order)  # whatever follows SQLite's commit pays for it: share that out
            for name, method in order:
                t0 = time.perf_counter()
                method(n)
                elapsed = time.perf_counter() - t0
                if n >= WARM_UP:
                    samples[name].append(elapsed * 1000)
        print(f"\n{args.taps} measured writes each (after {WARM_UP} warm-up), milliseconds:")
        print(f"{'':32}{'median':>9}{'p99':>9}{'max':>9}")
        stats = {}
        for name, values in samples.items():
            stats[name] = (statistics.median(values), percentile(values, 0.99))
            print(f"{name:32}{stats[name][0]:9.3f}{stats[name][1]:9.3f}{max(values):9.3f}")
        floor_med, floor_p99 = stats["floor (append + fsync)"]
        empty_med, empty_p99 = stats["tap, empty store"]
        year_med, year_p99 = stats["tap, a year of data"]
        sql_med, sql_p99 = stats["SQLite WAL, synchronous=FULL"]
        atomic_med, atomic_p99 = stats["atomic part rewrite alone"]
        print("\nratios:")
        print(
            f"  tap p99 / floor p99, empty store     {empty_p99 / floor_p99:6.2f}x  (target <= 5)"
        )
        print(f"  tap p99 / floor p99, a year of data  {year_p99 / floor_p99:6.2f}x  (target <= 5)")
        print(f"  tap median / floor median, year      {year_med / floor_med:6.2f}x")
        print(f"  year / empty, median                 {year_med / empty_med:6.2f}x  (target ~1)")
        print(f"  year / empty, p99                    {year_p99 / empty_p99:6.2f}x  (target ~1)")
        print(f"  SQLite p99 / floor p99               {sql_p99 / floor_p99:6.2f}x")
        print(f"  tap p99 (year) / SQLite p99          {year_p99 / sql_p99:6.2f}x")
        print(f"  atomic rewrite alone / floor, median {atomic_med / floor_med:6.2f}x")
        print(f"  atomic rewrite alone / floor, p99    {atomic_p99 / floor_p99:6.2f}x")
        print(
            f"  tap beyond the atomic rewrite, median {year_med - atomic_med:5.3f} ms "
            "(DoorDesk and the store's own work)"
        )
        empty.close()
        year.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
