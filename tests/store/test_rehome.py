"""Re-homing: events recorded under another name belong to the enrolled device, exactly once.

``LocalStore.rehome`` rewrites every event the server does not hold yet to the enrolled
identity, keeping seq and event id (so the server deduplicates a copy it already has), and puts
back in the outbox the events the server refused only for their identity. A power cut at any
write leaves the store consistent, and calling it again finishes the job.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.domain.desk import DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.identity import IdentityFile, save_identity
from kiosk.store import LocalStore
from sync.protocol import validate_event
from tests.store.helpers import all_day_timetable

REPO = Path(__file__).resolve().parents[2]
DEMO = DeviceIdentity("demo-kiosk", "demo-site")
KIOSK_1 = DeviceIdentity("kiosk-1", "library")
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def demo_store(folder: Path, days: int = 3, families: int = 3) -> tuple[LocalStore, DoorDesk]:
    store = LocalStore(folder, events_per_part=4)
    store.save_timetable(all_day_timetable())
    desk = DoorDesk(store, DEMO)
    uids = []
    for n in range(families):
        uid = f"0A{n:06X}"
        desk.register_family(f"Parent {n}", "WS7 1AA", [("Ben", None)], at=MONDAY, card_uid=uid)
        uids.append(uid)
    for day in range(days):
        for n, uid in enumerate(uids):
            assert desk.tap(uid, MONDAY + timedelta(days=day, minutes=n)).kind == "welcome"
    return store, desk


def identities(store: LocalStore) -> dict[int, tuple[str, str]]:
    return {e.seq: (e.device_id, e.site_id) for e in store.events()}


def test_waiting_events_take_the_enrolled_name_and_keep_seq_and_id(tmp_path):
    store, _ = demo_store(tmp_path / "kiosk")
    before = {e.seq: e.event_id for e in store.events()}
    sent = [e.event_id for e in store.pending(3)]
    store.mark_sent(sent)  # the first three are with the server already, as the demo's

    done = store.rehome(KIOSK_1)

    assert done.rewritten == len(before) - 3 and done.was == ("demo-kiosk at demo-site",)
    assert {e.seq: e.event_id for e in store.events()} == before
    names = identities(store)
    assert {names[s] for s in (1, 2, 3)} == {("demo-kiosk", "demo-site")}  # acknowledged: kept
    assert {names[s] for s in before if s > 3} == {("kiosk-1", "library")}
    assert all((e.device_id, e.site_id) == ("kiosk-1", "library") for e in store.pending(100))
    assert store.sync_state()["rehomed"]["events"] == done.rewritten
    assert store.rehome(KIOSK_1).rewritten == 0  # exactly once


def test_events_refused_for_their_name_go_back_to_the_outbox_others_stay_aside(tmp_path):
    store, _ = demo_store(tmp_path / "kiosk", days=1)
    wrong_name, bad = store.pending(2)
    reason = validate_event(wrong_name.to_dict(), "kiosk-1", "library").reason
    store.mark_rejected(wrong_name.event_id, reason)
    store.mark_rejected(bad.event_id, "data.children: too many children")
    waiting = store.waiting_count()

    done = store.rehome(KIOSK_1)

    assert done.requeued == 1
    assert [r["event"]["event_id"] for r in store.rejected()] == [bad.event_id]
    assert store.waiting_count() == waiting + 1
    assert wrong_name.event_id in {e.event_id for e in store.pending(100)}
    assert store.retry_rejected([bad.event_id]) == [bad.event_id]  # an admin's retry
    assert store.rejected() == [] and store.waiting_count() == waiting + 2


def test_a_running_desk_records_under_the_new_name_without_a_restart(tmp_path):
    folder = tmp_path / "kiosk"
    store, _ = demo_store(folder, days=1)
    desk = DoorDesk(store, IdentityFile(folder, DEMO))
    assert desk.identity == DEMO
    save_identity(folder, KIOSK_1)  # kiosk-admin enrol, from another process
    outcome = desk.tap("0A000000", MONDAY + timedelta(days=1))
    [event] = [e for e in store.events() if e.event_id == outcome.attendance_id]
    assert (event.device_id, event.site_id) == ("kiosk-1", "library")


def _rehome_in_child(data: Path, kill_after: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tests.store.rehome_child", str(data), str(kill_after)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


def refused_for_its_name(store: LocalStore) -> None:
    """Set the first waiting event aside with the server's own words for a wrong name."""
    [event] = store.pending(1)
    store.mark_rejected(
        event.event_id, validate_event(event.to_dict(), "kiosk-1", "library").reason
    )


@pytest.mark.slow
def test_a_power_cut_at_any_write_of_a_rehome_loses_nothing_and_a_second_finishes(tmp_path):
    folder = tmp_path / "kiosk"

    def fresh_store() -> tuple[dict[int, str], int]:
        if folder.exists():
            shutil.rmtree(folder)
        store, _ = demo_store(folder, days=4)
        refused_for_its_name(store)
        ids = {e.seq: e.event_id for e in store.events()}
        waiting = store.waiting_count()
        store.close()
        return ids, waiting

    fresh_store()
    clean = _rehome_in_child(folder, 0)
    writes = int(clean.stdout.split()[0].removeprefix("writes="))
    assert writes >= 4, clean.stdout + clean.stderr  # several day files, the outbox, the notes
    for kill_after in range(1, writes + 1):
        ids, waiting = fresh_store()
        killed = _rehome_in_child(folder, kill_after)
        assert killed.returncode == -9, (kill_after, killed.stdout, killed.stderr)

        store = LocalStore(folder, events_per_part=4)
        assert {e.seq: e.event_id for e in store.events()} == ids  # nothing lost or doubled
        assert store.problems() == []
        store.rehome(KIOSK_1)  # the next enrol or kiosk-sync pass finishes the job
        assert store.rejected() == [], kill_after
        assert store.waiting_count() == waiting + 1, kill_after
        assert set(identities(store).values()) == {("kiosk-1", "library")}
        assert store.rehome(KIOSK_1).rewritten == 0
        store.close()
