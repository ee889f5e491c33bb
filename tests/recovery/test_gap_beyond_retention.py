"""The server lost more than the kiosk still keeps: the kiosk names exactly what is missing.

Events older than the kiosk's retention window were pruned (a tiny summary per pruned day is
kept: seq ranges and session keys). When a restored server lacks them, ``kiosk-admin status``
says which seqs are missing and for which sessions, the server is told (and can say its
registers for those sessions are incomplete), nothing crashes, and later events still sync.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from central.db import attendances, rejections
from sync import daemon
from tests.recovery.helpers import attendance_ids, kiosk_desk, kiosk_sync, status
from tests.sync.servers import register_families, week_of_taps

SEPTEMBER = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in London (BST)
NOVEMBER = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 in London (GMT)


def test_a_gap_older_than_the_retention_window_is_reported_by_number_and_session(central, tmp_path):
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    desk = kiosk_desk(data, kiosk.device, kiosk.site, retention_days=30)
    store = desk.store
    backup = central.backup("central-empty.dump")  # the server's backup: before any tap

    uids = register_families(desk, 6, at=SEPTEMBER)
    september = week_of_taps(desk, uids, start=SEPTEMBER)
    september_seqs = store.highest_seq()
    september_sessions = sorted(
        {e.data["session"]["key"] for e in store.events() if e.type == "attendance.recorded"}
    )
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    november = week_of_taps(desk, uids, start=NOVEMBER)
    assert kiosk_sync(data, central.url, token).returncode == daemon.EXIT_OK
    # Housekeeping on the kiosk: September is past the 30-day window and was acknowledged.
    assert store.prune(NOVEMBER + timedelta(days=14)) == september_seqs
    assert store.seq_inventory(1, september_seqs).kept == ()

    central.restore(backup)  # the server lost everything
    later = week_of_taps(desk, uids, start=NOVEMBER + timedelta(days=14))
    result = kiosk_sync(data, central.url, token)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    assert "Traceback" not in result.stderr
    # What the kiosk still keeps is back on the server, and the later taps arrived.
    assert central.attendance_count() == november + later
    kept = {e.event_id for e in store.events()}
    assert central.event_ids() == kept
    assert central.db.count(rejections) == 0
    # The missing range, by number and session, in kiosk-admin status...
    lines = status(data)
    [missing] = lines["missing"]
    assert missing.startswith(f"seq 1-{september_seqs} (sessions {september_sessions[0]}, ")
    assert missing.endswith("— no longer on this kiosk")
    assert all(key in missing for key in september_sessions[:6])
    assert lines["last_resend"][0].startswith(f"seq {september_seqs + 1}-")
    # ... in the daemon's log, and on the server, which now counts them as accounted for.
    assert f"the server lacks seq 1-{september_seqs}" in result.stderr
    [gap] = central.db.gaps(kiosk.device)
    assert (gap["from_seq"], gap["to_seq"], gap["kind"]) == (1, september_seqs, "lost")
    assert sorted(gap["sessions"]) == september_sessions
    assert central.db.holds_up_to(kiosk.device) == store.highest_seq()
    assert september == september_seqs - 6 - 6  # families and cards were pruned with them

    # Life goes on: more taps sync, the gap is not reported twice.
    more = week_of_taps(desk, uids, start=NOVEMBER + timedelta(days=21))
    again = kiosk_sync(data, central.url, token)
    assert again.returncode == daemon.EXIT_OK, again.stderr
    assert "the server lacks" not in again.stderr
    assert central.attendance_count() == november + later + more
    assert len(central.db.gaps(kiosk.device)) == 1
    assert central.db.holds_up_to(kiosk.device) == store.highest_seq()
    with central.db.engine.connect() as conn:
        on_server = set(conn.execute(select(attendances.c.attendance_id)).scalars())
    assert on_server == attendance_ids(store)


def test_the_summary_of_pruned_days_survives_reopening_and_stays_tiny(tmp_path):
    desk = kiosk_desk(tmp_path / "k", "kiosk-1", "library", retention_days=30)
    uids = register_families(desk, 30, at=SEPTEMBER)
    for week in range(4):
        week_of_taps(desk, uids, start=SEPTEMBER + timedelta(days=7 * week))
    store = desk.store
    store.mark_sent([e.event_id for e in store.pending(10_000)])
    pruned = store.prune(NOVEMBER + timedelta(days=30))
    assert pruned == store.highest_seq()
    store.close()

    from kiosk.store import LocalStore

    reopened = LocalStore(tmp_path / "k", retention_days=30)
    inventory = reopened.seq_inventory(1, reopened.highest_seq())
    [span] = inventory.lost
    assert (span.first, span.last, span.reason) == (1, pruned, "pruned")
    assert len(span.sessions) == 20  # every weekday session of four weeks
    assert (tmp_path / "k" / "history.json").stat().st_size < 200 * 20
