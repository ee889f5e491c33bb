"""The kiosk keeps acknowledged events only for its retention window ("minimise and
retain"), and never drops one that a restored server still lacks.

``kiosk-sync`` does the housekeeping at the end of a pass with no error, once the server has
said it holds every seq the kiosk delivered: days older than ``--retention-days`` (kiosk.toml's
``[store] retention_days``) whose events are all acknowledged leave the kiosk. Families and
cards stay known at the door; the server keeps every attendance.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.store import LocalStore
from sync import daemon
from tests.recovery.helpers import kiosk_desk, kiosk_sync, status
from tests.sync.servers import register_families, week_of_taps

FAMILIES = 8
WINDOW = "30"


def _mondays() -> tuple[datetime, datetime]:
    """A Monday 09:00 UTC two to three weeks ago (inside a 30-day window) and one twelve weeks
    before it (outside), from the real date: the daemon prunes by the real clock."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    recent = today - timedelta(days=today.weekday() + 14)
    return recent - timedelta(weeks=12), recent


def _kept(data) -> list:
    store = LocalStore(data, retention_days=int(WINDOW))
    try:
        return list(store.events())
    finally:
        store.close()


def test_acknowledged_days_past_the_window_leave_the_kiosk_and_families_stay(central, tmp_path):
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    old, recent = _mondays()
    desk = kiosk_desk(data, kiosk.device, kiosk.site, retention_days=int(WINDOW))
    uids = register_families(desk, FAMILIES, at=old)
    old_taps = week_of_taps(desk, uids, start=old)
    recent_taps = week_of_taps(desk, uids, start=recent)
    desk.store.close()

    result = kiosk_sync(data, central.url, token, "--retention-days", WINDOW)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    dropped = old_taps + 2 * FAMILIES  # the old week's taps, and the families and cards
    assert f"{dropped} acknowledged event(s) past the retention window dropped" in result.stderr
    # The server holds everything; the kiosk only the window.
    assert central.attendance_count() == old_taps + recent_taps
    kept = _kept(data)
    assert min(e.at for e in kept) >= recent
    assert sum(e.type == "attendance.recorded" for e in kept) == recent_taps
    # Every family is still known at the door by its card.
    store = LocalStore(data)
    try:
        for uid in uids:
            card = store.card(uid)
            assert card is not None and store.family(card.family_id) is not None
    finally:
        store.close()
    [line] = status(data)["last_prune"]
    assert line.endswith(f": {dropped} acknowledged event(s) past the retention window dropped")

    # A second pass finds nothing more to drop and loses nothing.
    again = kiosk_sync(data, central.url, token, "--retention-days", WINDOW)
    assert again.returncode == daemon.EXIT_OK, again.stderr
    assert "past the retention window dropped" not in again.stderr
    assert len(_kept(data)) == len(kept)


def test_a_restored_server_gets_old_weeks_back_before_the_kiosk_drops_them(central, tmp_path):
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    old, recent = _mondays()
    desk = kiosk_desk(data, kiosk.device, kiosk.site, retention_days=int(WINDOW))
    uids = register_families(desk, FAMILIES, at=old)
    taps = week_of_taps(desk, uids, start=old) + week_of_taps(desk, uids, start=recent)
    desk.store.close()
    empty = central.backup("central-empty.dump")
    # Synced with the long test window: the kiosk keeps the old week for now.
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    assert central.attendance_count() == taps

    central.restore(empty)  # the server lost everything it held
    result = kiosk_sync(data, central.url, token, "--retention-days", WINDOW)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    # The old week went back to the server before it left the kiosk.
    assert central.attendance_count() == taps
    assert "past the retention window dropped" in result.stderr
    assert min(e.at for e in _kept(data)) >= recent


@pytest.mark.parametrize("bad", ["0", "3651", "ninety"])
def test_the_daemon_refuses_a_retention_window_it_cannot_honour(bad, tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("abc\n")
    argv = ["--data", str(tmp_path), "--endpoint", "http://127.0.0.1:9"]
    with pytest.raises(SystemExit) as refused:
        daemon.main([*argv, "--token-file", str(token), "--once", "--retention-days", bad])
    assert refused.value.code == 2
    assert "--retention-days" in capsys.readouterr().err
