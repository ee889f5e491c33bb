"""The central server restored from an earlier backup: kiosks re-send what it lost.

A real ``kiosk-central serve`` process on loopback over a real SQLite file (and PostgreSQL
with ``pg_dump``/``pg_restore`` when ``KIOSK_TEST_POSTGRES_URL`` is set), a real kiosk store,
``kiosk-sync --once`` and ``kiosk-admin status`` as subprocesses.
"""

from __future__ import annotations

from datetime import timedelta

from central.db import rejections
from sync import daemon
from tests.recovery.helpers import attendance_ids, kiosk_desk, kiosk_sync, status
from tests.sync.servers import MONDAY, register_families, week_of_taps


def test_a_server_restored_from_an_earlier_backup_gets_the_gap_back(central, tmp_path):
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    store = desk.store
    uids = register_families(desk, 12)
    taps = week_of_taps(desk, uids)
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    backed_up_to = store.highest_seq()
    backup = central.backup("central-before.dump")

    # The server carries on after its backup was taken, then loses everything since.
    taps += week_of_taps(desk, uids, start=MONDAY + timedelta(days=7))
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    delivered = store.highest_seq()
    assert central.db.holds_up_to(kiosk.device) == delivered
    central.restore(backup)
    assert central.db.holds_up_to(kiosk.device) == backed_up_to
    assert central.attendance_count() < taps

    # More taps at the door, then the next sync.
    taps += week_of_taps(desk, uids, start=MONDAY + timedelta(days=14))
    result = kiosk_sync(data, central.url, token)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    # Every tap counted exactly once; the server holds all the kiosk's events again.
    assert central.attendance_count() == taps == len(attendance_ids(store))
    assert central.event_ids() == {e.event_id for e in store.events()}
    assert central.db.count(rejections) == 0 and store.rejected() == []
    assert central.seq_clashes(kiosk.device) == 0
    assert central.db.holds_up_to(kiosk.device) == store.highest_seq()
    assert store.waiting_count() == 0
    # The daemon said what it did, in its log and in kiosk-admin status.
    resent = delivered - backed_up_to
    assert f"sending again {resent} event(s)" in result.stderr
    lines = status(data)
    assert lines["last_resend"][0].startswith(
        f"seq {backed_up_to + 1}-{delivered} ({resent} events) at "
    )
    assert f"(the server held up to {backed_up_to})" in lines["last_resend"][0]
    assert lines["missing"] == ["none"]
    assert lines["waiting"] == ["0"]
    # The restored database has a new epoch: the kiosk pulled the roster again from 0.
    assert "restored" in lines["roster_reset"][0]

    # A second sync has nothing to re-send.
    again = kiosk_sync(data, central.url, token)
    assert again.returncode == daemon.EXIT_OK
    assert "sending again" not in again.stderr
    assert central.attendance_count() == taps


def test_a_restore_while_the_kiosk_is_offline_is_noticed_when_it_comes_back(
    central_sqlite, tmp_path
):
    """Nothing new to send: the daemon still asks the server how far it holds, and re-sends."""
    central = central_sqlite
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    uids = register_families(desk, 4)
    backup = central.backup("empty.sqlite3")
    taps = week_of_taps(desk, uids)
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    central.restore(backup)
    assert central.attendance_count() == 0

    result = kiosk_sync(data, central.url, token)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    assert central.attendance_count() == taps
    assert central.db.holds_up_to(kiosk.device) == desk.store.highest_seq()
    assert status(data)["last_resend"][0].startswith(f"seq 1-{desk.store.highest_seq()} ")
