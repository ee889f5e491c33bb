"""``kiosk-sync`` killed with SIGKILL at random points of a sync, over and over: once it is
allowed to finish, the server holds every tap exactly once.

Each run is killed at a point the fault proxy signals, picked at random (a seeded
``KIOSK_CRASH_SEED``): one of the run's first POSTs held before it reaches the server, its
answer held after the server committed but before the daemon heard, or its answer just passed
on, so that the kill lands while the daemon marks events sent in the store or starts its next
request. No sleeping and no clock: the kill points are events.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select as sql_select

from central.db import events
from sync import daemon
from tests.helpers import wait_for
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
    kill_points = ("hold", "slow", "mark")
    with FaultProxy(central.server.port) as proxy:
        round_ = 0
        while kills < KILLS:
            assert round_ < 3 * KILLS, f"only {kills} kills in {round_} runs"
            # Two more taps at the door between runs (20 a day, a new day every 10 rounds).
            day, slot = divmod(round_, 10)
            for uid in uids[2 * slot : 2 * slot + 2]:
                assert desk.tap(uid, weekday(day)).kind == "welcome"
            round_ += 1
            point = proxy.inject(rng.choice(kill_points), skip=rng.randrange(3), delay=600)
            proc = subprocess.Popen(
                [*args, "--endpoint", proxy.url],
                env=subprocess_env(),
                cwd=REPO,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_for(
                lambda: point.struck.is_set() or proc.poll() is not None,  # noqa: B023
                "the kill point, or kiosk-sync to finish (it had fewer POSTs to send)",
            )
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(60)
            proxy.clear()
            point.release.set()
            # Killed after the server committed but before the kiosk marked the events sent?
            acked = desk.store.highest_seq() - desk.store.waiting_count()
            if central.db.count(events) > acked:
                unheard += 1

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
