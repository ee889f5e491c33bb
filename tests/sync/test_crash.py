"""``kiosk-sync`` killed with SIGKILL at random points of a sync, over and over: once it is
allowed to finish, the server holds every tap exactly once.

A proxy makes every answer a little late, so kills land in every window: before the request,
while the server commits, after it committed but before the daemon heard, and while the daemon
marks events sent in the store.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import select as sql_select

from central.db import events
from sync import daemon
from tests.sync.faultproxy import FaultProxy
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    MONDAY,
    REPO,
    command,
    door,
    register_families,
    subprocess_env,
)

KILLS = 100
FAMILIES = 30


def weekday(n: int):
    """The n-th weekday from Monday 23 November 2026, at 09:05."""
    weeks, day = divmod(n, 5)
    return MONDAY + timedelta(weeks=weeks, days=day, minutes=5)


def wait_for_line(proc: subprocess.Popen, needle: str, timeout: float) -> bool:
    """Read the process's stderr until a line contains ``needle`` (False on exit/timeout)."""
    deadline = time.monotonic() + timeout
    buffer = b""
    fd = proc.stderr.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            if proc.poll() is not None:
                return False
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            return False
        buffer += chunk
        if needle.encode() in buffer:
            return True
    return False


@pytest.mark.slow
def test_sigkill_at_random_points_never_loses_or_doubles_a_tap(central, kiosk, tmp_path):
    rng = random.Random(int(os.environ.get("KIOSK_CRASH_SEED", "20261123")))
    data = tmp_path / "kiosk-data"
    desk = door(data, kiosk.device, kiosk.site)
    uids = register_families(desk, FAMILIES)
    token = tmp_path / "token"
    token.write_text(kiosk.token)
    args = [
        *command("kiosk-sync", "sync.daemon"),
        *KEEP_DATED_EVENTS,
        "--data",
        str(data),
        "--token-file",
        str(token),
        "--once",
        "--batch-size",
        "3",
        "--timeout",
        "5",
    ]

    kills = unheard = 0
    started = time.monotonic()
    with FaultProxy(central.server.port) as proxy:
        proxy.delay = 0.01
        round_ = 0
        while kills < KILLS:
            # Two more taps at the door between runs (20 a day, a new day every 10 rounds).
            day, slot = divmod(round_, 10)
            for uid in uids[2 * slot : 2 * slot + 2]:
                assert desk.tap(uid, weekday(day)).kind == "welcome"
            round_ += 1
            proc = subprocess.Popen(
                [*args, "--endpoint", proxy.url],
                env=subprocess_env(),
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            # Once it knows whom its token belongs to, it is about to send: kill it somewhere
            # in the next few round trips.
            if wait_for_line(proc, "token belongs to", timeout=10):
                time.sleep(rng.uniform(0.0, 0.12))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(10)
            proc.stderr.close()
            # Killed after the server committed but before the kiosk marked the events sent?
            acked = desk.store.highest_seq() - desk.store.waiting_count()
            if central.db.count(events) > acked:
                unheard += 1
            assert time.monotonic() - started < 170, f"only {kills} kills so far"

        final = subprocess.run(
            [*args, "--endpoint", proxy.url],
            env=subprocess_env(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert final.returncode == daemon.EXIT_OK, final.stderr
    assert kills >= KILLS
    assert unheard >= 10, f"only {unheard} kills fell between commit and acknowledgement"
    print(f"{kills} kills, {unheard} between the server's commit and the kiosk's mark")

    kept = [e.event_id for e in desk.store.events()]
    with central.db.engine.connect() as conn:
        held = conn.execute(sql_select(events.c.event_id)).scalars().all()
    assert len(kept) == desk.store.highest_seq() == FAMILIES * 2 + round_ * 2
    assert sorted(held) == sorted(kept)  # every tap, exactly once
    assert desk.store.waiting_count() == 0
    assert desk.store.rejected() == []
    assert central.db.holds_up_to(kiosk.device) == desk.store.highest_seq()
