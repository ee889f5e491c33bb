"""Kill a recording kiosk with SIGKILL hundreds of times: nothing it confirmed is ever lost.

A child process (``tests.store.crash_child``) registers families and records taps through
DoorDesk, and paper attendances and two-day batches straight through the store, printing each
id only after the write returned. The parent kills it at a point the child's own output marks,
picked at random (seeded): as soon as a random number of writes (1 to 8) have returned, so
the kill lands somewhere in the next write, or, one run in ten, as soon as it says it is opening
the store, so the kill lands while it may be repairing the last kill. No sleeping and no clock.
Then the parent opens the store and checks that every printed id is there exactly once, that
seq numbers run 1..N without a gap or a repeat, that registered families and cards are
readable, and that nothing needed quarantine.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kiosk.store import LocalStore
from tests.store.helpers import all_day_timetable

KILLS = 200
REPO = Path(__file__).resolve().parents[2]


def _start(data_dir: Path, run: int, stderr_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    with open(stderr_path, "wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.store.crash_child", str(data_dir), str(run)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=REPO,
            env=env,
        )


def _complete_lines(raw: bytes) -> list[str]:
    lines = raw.decode().split("\n")
    return [line for line in lines[:-1] if line]  # the last piece may be cut mid-line


def _interrupted(data_dir: Path) -> tuple[bool, bool]:
    """Whether the kill left a multi-file write half done, and a temporary file behind."""
    seq = data_dir / "seq.json"
    intent = seq.exists() and json.loads(seq.read_text())["seq"]["1"].get("pending") is not None
    temp = any(
        name.endswith(".tmp")
        for folder in (data_dir, data_dir / "events", data_dir / "state")
        for name in os.listdir(folder)
    )
    return intent, temp


def _check(data_dir: Path, printed_events: set[str], printed_families: dict[str, str]) -> int:
    store = LocalStore(data_dir)
    try:
        assert store.problems() == []
        assert os.listdir(data_dir / "quarantine") == []
        events = list(store.events())
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(events) + 1)), "seq numbers must run 1..N, no gaps"
        assert store.highest_seq() == len(events)
        counts = Counter(e.event_id for e in events)
        assert max(counts.values(), default=1) == 1, "an event was stored twice"
        missing = printed_events - counts.keys()
        assert not missing, f"{len(missing)} confirmed event(s) lost"
        for family_id, uid in printed_families.items():
            assert store.family(family_id) is not None, f"family {family_id} lost"
            card = store.card(uid)
            assert card is not None and card.family_id == family_id, f"card {uid} lost"
        assert store.waiting_count() == len(events)
        return len(events)
    finally:
        store.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_a_confirmed_write(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalStore(data_dir) as store:
        store.save_timetable(all_day_timetable())
    rng = random.Random(20261123)
    printed_events: set[str] = set()
    printed_families: dict[str, str] = {}
    stderr_path = tmp_path / "child-stderr.txt"
    stored = 0
    half_done = Counter[str]()
    for run in range(KILLS):
        child = _start(data_dir, run, stderr_path)
        assert child.stdout is not None
        opening = child.stdout.readline()
        assert opening == b"S\n", f"child {run} did not start: {stderr_path.read_text()}"
        first = b""
        if run % 10 != 9:  # else: kill it while it opens (and may repair) the store
            for _ in range(rng.randint(1, 8)):
                line = child.stdout.readline()
                assert line, f"child {run} stopped printing: {stderr_path.read_text()}"
                first += line
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
        child.wait()
        assert child.returncode == -signal.SIGKILL, stderr_path.read_text()
        for line in _complete_lines(first + rest):
            kind, *fields = line.split()
            if kind == "E":
                printed_events.add(fields[0])
            elif kind == "F":
                printed_families[fields[0]] = fields[1]
        intent, temp = _interrupted(data_dir)
        half_done.update(["intent"] * intent + ["temp file"] * temp)
        stored = _check(data_dir, printed_events, printed_families)
    assert len(printed_events) > KILLS  # the children really did record between kills
    assert stored >= len(printed_events)
    print(
        f"{KILLS} kills, {stored} events stored, {len(printed_events)} confirmed, "
        f"interrupted writes repaired: {dict(half_done)}"
    )
