"""Several stores on one folder: the app, the sync daemon and kiosk-admin at the same time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from kiosk.store import LocalStore
from tests.store.helpers import MONDAY, all_day_timetable, attended, family, registered

REPO = Path(__file__).resolve().parents[2]


def test_two_stores_on_one_folder_share_one_gap_free_sequence(open_store) -> None:
    app, admin = open_store(), open_store()
    recorded = []
    for n in range(6):
        writer = app if n % 2 == 0 else admin
        recorded += writer.record([attended(family(f"F{n}"))])
    assert [e.seq for e in recorded] == [1, 2, 3, 4, 5, 6]
    for store in (app, admin):
        assert [e.event_id for e in store.events()] == [e.event_id for e in recorded]
        assert len(store.attendances_in(f"{MONDAY}/stay")) == 6
        assert store.waiting_count() == 6


def test_what_the_daemon_marks_sent_the_app_sees_as_sent(open_store) -> None:
    app, daemon = open_store(), open_store()
    recorded = [app.record([attended(family(f"F{n}"))])[0] for n in range(3)]
    daemon.mark_sent([e.event_id for e in daemon.pending(2)])
    assert app.waiting_count() == 1
    assert app.pending(10) == [recorded[2]]


def test_threads_recording_and_acknowledging_at_once_lose_nothing(open_store) -> None:
    app, daemon = open_store(), open_store()
    stop = threading.Event()
    errors: list[BaseException] = []

    def sync_loop() -> None:
        try:
            while not stop.is_set():
                daemon.mark_sent([e.event_id for e in daemon.pending(7)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=sync_loop)
    thread.start()
    try:
        for n in range(60):
            app.record([registered(family(f"F{n}"))] if n % 10 == 0 else [attended(family())])
    finally:
        stop.set()
        thread.join()
    assert errors == []
    daemon.mark_sent([e.event_id for e in daemon.pending(100)])
    assert app.waiting_count() == 0
    assert [e.seq for e in app.events()] == list(range(1, 61))


def test_two_processes_recording_at_once_keep_one_gap_free_sequence(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalStore(data_dir) as store:
        store.save_timetable(all_day_timetable())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # runs 10 and 11: run 11 back-dates to run 10's day, so both write the same day files
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.store.crash_child", str(data_dir), str(run), "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=REPO,
            env=env,
        )
        for run in (10, 11)
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err.decode()
    printed = {
        line.split()[1]
        for out, _ in outputs
        for line in out.decode().splitlines()
        if line.startswith("E ")
    }
    families = {
        line.split()[1]: line.split()[2]
        for out, _ in outputs
        for line in out.decode().splitlines()
        if line.startswith("F ")
    }
    with LocalStore(data_dir) as store:
        events = list(store.events())
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        counts = Counter(e.event_id for e in events)
        assert set(counts.values()) == {1}
        assert printed <= counts.keys()
        assert {e.device_id for e in events} == {"kiosk-10", "kiosk-11"}
        for family_id, uid in families.items():
            assert store.card(uid).family_id == family_id
        assert store.problems() == []
