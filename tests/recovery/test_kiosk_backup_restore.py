"""A kiosk backup restored over newer events loses none of them, and no seq is used twice.

``kiosk-admin backup restore NAME`` refuses while the data folder holds events the backup
lacks; with ``--force`` it merges them into the restored store under the seq numbers they
already have (the server may hold them under those numbers), and numbering continues above
the highest seq the kiosk ever gave. Then a sync: the server counts every tap exactly once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from central.db import rejections
from kiosk.backup import RestoreRefused, create_backup, restore_backup
from kiosk.store import LocalStore
from sync import daemon
from tests.recovery.helpers import (
    attendance_ids,
    kiosk_admin,
    kiosk_desk,
    kiosk_sync,
    status,
)
from tests.sync.servers import MONDAY, register_families, week_of_taps


def test_a_backup_restored_over_newer_events_loses_none_of_them(central_sqlite, tmp_path):
    central = central_sqlite
    kiosk, token = central.enrol()
    data, folder = tmp_path / "kiosk-data", tmp_path / "backups"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    uids = register_families(desk, 10)
    taps = week_of_taps(desk, uids)
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    backup = create_backup(data, folder)

    # After the backup: a week synced, then a week not yet sent.
    taps += week_of_taps(desk, uids, start=MONDAY + timedelta(days=7))
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    taps += week_of_taps(desk, uids, start=MONDAY + timedelta(days=14))
    before = {e.event_id: e.seq for e in desk.store.events()}
    highest = desk.store.highest_seq()
    unsent = desk.store.waiting_count()
    desk.store.close()

    refused = kiosk_admin(data, "backup", "restore", backup.name, "--in", str(folder))
    assert refused.returncode == 1
    assert f"holds {len(before) - backup.events} event(s) that backup" in refused.stderr
    assert f"{unsent} not yet sent" in refused.stderr

    forced = kiosk_admin(data, "backup", "restore", backup.name, "--in", str(folder), "--force")

    assert forced.returncode == 0, forced.stderr
    assert f"kept: {len(before) - backup.events} event(s) recorded after the backup" in (
        forced.stdout
    )
    store = LocalStore(data)
    # Every event is there, each under the seq it had.
    assert {e.event_id: e.seq for e in store.events()} == before
    assert store.highest_seq() == highest
    # A tap after the restore gets a new seq, never one used before.
    door = kiosk_desk(data, kiosk.device, kiosk.site, timetable=False)
    assert door.tap(uids[0], MONDAY + timedelta(days=21, minutes=3)).kind == "welcome"
    taps += 1
    assert door.store.highest_seq() == highest + 1

    result = kiosk_sync(data, central.url, token)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    assert central.attendance_count() == taps == len(attendance_ids(door.store))
    assert central.event_ids() == {e.event_id for e in door.store.events()}
    assert central.db.count(rejections) == 0 and door.store.rejected() == []
    assert central.seq_clashes(kiosk.device) == 0
    assert central.db.holds_up_to(kiosk.device) == highest + 1
    assert status(data)["waiting"] == ["0"]


def test_a_restore_merges_across_days_the_live_store_had_pruned(tmp_path):
    """The live store pruned days after the backup was taken: the merged events keep their
    seqs, the pruned ones are not sent again, and their sessions are still known."""
    data, folder = tmp_path / "kiosk-data", tmp_path / "backups"
    desk = kiosk_desk(data, "kiosk-1", "library", retention_days=30)
    uids = register_families(desk, 5)
    week_of_taps(desk, uids)
    store = desk.store
    store.mark_sent([e.event_id for e in store.pending(1000)])
    backup = create_backup(data, folder)
    at_backup = store.highest_seq()
    week_of_taps(desk, uids, start=MONDAY + timedelta(days=7))
    second_week = store.highest_seq()
    store.mark_sent([e.event_id for e in store.pending(1000)])
    week_of_taps(desk, uids, start=MONDAY + timedelta(days=63))  # not sent yet
    assert store.prune(MONDAY + timedelta(days=63)) == second_week  # weeks one and two
    kept = {e.event_id: e.seq for e in store.events()}
    highest, waiting = store.highest_seq(), store.waiting_count()
    store.close()

    with pytest.raises(RestoreRefused, match="lacks"):
        restore_backup(data, folder, backup.name, running=list)
    report = restore_backup(data, folder, backup.name, force=True, running=list)

    assert sorted(e.seq for e in report.merged) == sorted(kept.values())
    restored = LocalStore(data, retention_days=30)
    assert {e.event_id: e.seq for e in restored.events() if e.seq > second_week} == kept
    assert restored.highest_seq() == highest
    # The backup's own (already sent) week comes back too, and is only sent again if asked.
    assert restored.waiting_count() == waiting
    [span] = restored.seq_inventory(at_backup + 1, second_week).lost
    assert (span.first, span.last, span.reason) == (at_backup + 1, second_week, "pruned")
    assert "2026-11-30/play-mon" in span.sessions and "2026-12-04/play-fri" in span.sessions
    # Numbering goes on above everything ever given.
    from kiosk.domain.desk import DoorDesk
    from kiosk.domain.events import DeviceIdentity

    door = DoorDesk(restored, DeviceIdentity("kiosk-1", "library"))
    assert door.tap(uids[3], MONDAY + timedelta(days=64, minutes=1)).kind == "welcome"
    assert restored.highest_seq() == highest + 1
