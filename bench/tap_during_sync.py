"""Tap latency while a sync pass is in flight: waiting on a slow server must not slow the door.

Measures ``DoorDesk.tap`` on a LocalStore (5,000 families from the roster, as in
``tap_latency.py``) twice, on the same store:

* with no sync running, and
* while the sync daemon's pass, on its own LocalStore object over the same folder (as the
  ``kiosk-sync`` process has), is inside a request to a server that holds its answer.

Prints median, p99 and max in milliseconds, and the ratio (target: ~1; the end-to-end test
tests/sync/test_end_to_end.py checks that taps go through while the request is held, this
prints how fast they are).

    .venv/bin/python bench/tap_during_sync.py [--taps 300] [--dir PATH]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tap_latency import (  # noqa: E402
    DEVICE,
    FAMILIES,
    WARM_UP,
    every_day_timetable,
    load_roster,
    make_families,
    percentile,
    tapper,
)

from kiosk.store import LocalStore  # noqa: E402
from sync.syncer import Syncer  # noqa: E402
from tests.sync.fakes import ScriptedClient  # noqa: E402


class HeldServer(ScriptedClient):
    """A server that answers the first batch only when told to."""

    def __init__(self) -> None:
        super().__init__(DEVICE)
        self.inside = threading.Event()
        self.release = threading.Event()

    def send_events(self, events):
        self.inside.set()
        self.release.wait()
        return super().send_events(events)


def measure(tap, first: int, count: int) -> list[float]:
    samples = []
    for n in range(first, first + count):
        t0 = time.perf_counter()
        tap(n)
        samples.append((time.perf_counter() - t0) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taps", type=int, default=300, help="measured taps per case")
    parser.add_argument("--dir", type=Path, default=None, help="folder on the disk under test")
    args = parser.parse_args()
    if 2 * args.taps + WARM_UP > FAMILIES:
        parser.error(f"--taps must be at most {(FAMILIES - WARM_UP) // 2}")
    base = Path(tempfile.mkdtemp(prefix="tap-during-sync-", dir=args.dir or Path.cwd()))
    try:
        families = make_families(random.Random(42))
        door = LocalStore(base / "data")
        door.save_timetable(every_day_timetable())
        load_roster(door, families)
        tap = tapper(door, families)
        measure(tap, 0, WARM_UP)  # warm-up
        idle = measure(tap, WARM_UP, args.taps)

        server = HeldServer()
        sync_store = LocalStore(base / "data")
        syncer = Syncer(sync_store, server, batch_size=50)
        sync = threading.Thread(target=syncer.run_pass)
        sync.start()
        if not server.inside.wait(120):
            raise SystemExit("the sync pass never reached the server: the bench is broken")
        during = measure(tap, WARM_UP + args.taps, args.taps)
        server.release.set()
        sync.join()

        print(f"{args.taps} measured taps each (after {WARM_UP} warm-up), milliseconds:")
        print(f"{'':36}{'median':>9}{'p99':>9}{'max':>9}")
        for name, values in (("no sync running", idle), ("sync pass waiting on server", during)):
            print(
                f"{name:36}{statistics.median(values):9.3f}"
                f"{percentile(values, 0.99):9.3f}{max(values):9.3f}"
            )
        ratio = percentile(during, 0.99) / percentile(idle, 0.99)
        print(f"\np99 during / p99 without  {ratio:6.2f}x  (target ~1)")
        sync_store.close()
        door.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
