"""The kiosk store's seq bookkeeping for recovery: a seq floor that survives everything, and
a seq set aside on the kiosk that the server never saw no longer holds the server back."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta

from central.db import rejections
from kiosk.domain.events import DeviceIdentity, Event
from kiosk.store import LocalStore
from sync import daemon
from sync.protocol import GapAnswer
from sync.syncer import Syncer
from tests.recovery.helpers import kiosk_desk, kiosk_sync, status
from tests.sync.fakes import ScriptedClient
from tests.sync.servers import MONDAY, REPO, register_families, subprocess_env, week_of_taps


def test_a_seq_floor_is_durable_and_never_lets_a_seq_be_used_twice(tmp_path):
    store = LocalStore(tmp_path / "k")
    assert store.raise_seq_floor(97, "re-enrolled") == 97
    assert store.raise_seq_floor(50, "an older answer") == 97  # never lowered
    assert (store.highest_seq(), store.waiting_count(), store.delivered_through()) == (97, 0, 97)
    store.close()

    # A process killed right after the floor was raised: the next one continues above it.
    code = (
        "import sys; from kiosk.store import LocalStore; "
        "s = LocalStore(sys.argv[1]); s.raise_seq_floor(120, 'again'); "
        "import os; os.kill(os.getpid(), 9)"
    )
    args = [sys.executable, "-c", code, str(tmp_path / "k")]
    killed = subprocess.run(args, env=subprocess_env(), cwd=REPO)
    assert killed.returncode == -signal.SIGKILL
    desk = kiosk_desk(tmp_path / "k", "kiosk-1", "library")
    register_families(desk, 1)
    assert [e.seq for e in desk.store.events()] == [121, 122]
    assert [e.seq for e in desk.store.pending(10)] == [121, 122]
    assert desk.store.waiting_count() == 2
    [span] = desk.store.seq_inventory(1, 120).lost
    assert (span.first, span.last, span.reason) == (1, 120, "floor")
    assert "recorded before this kiosk's store was started again" in span.describe()
    assert desk.store.seq_floor() == 120


def test_adopted_events_keep_their_seqs_and_refuse_a_clash(tmp_path):
    source = kiosk_desk(tmp_path / "a", "kiosk-1", "library")
    register_families(source, 3)
    events = list(source.store.events())  # seqs 1-6
    target = LocalStore(tmp_path / "b")
    adopted, refused = target.adopt_events(events[3:])  # 4-6 over an empty store: 1-3 skipped
    assert [e.seq for e in adopted] == [4, 5, 6] and refused == []
    assert target.highest_seq() == 6 and target.waiting_count() == 3
    assert [f.greeting_name for f in target.families()] == ["Parent A2"]
    assert target.adopt_events(events[3:]) == ([], [])  # held already
    _, clash = target.adopt_events(events[:1])  # seq 1 is below what is in use: refused
    assert [e.seq for e in clash] == [1]


def test_a_seq_set_aside_on_the_kiosk_does_not_hold_the_server_back(central_sqlite, tmp_path):
    """An event the server refuses even alone as too large never reaches it: the kiosk keeps
    it aside and writes the seq off, so the server's holds_up_to passes it."""
    central = central_sqlite
    kiosk, token = central.enrol()
    data = tmp_path / "kiosk-data"
    desk = kiosk_desk(data, kiosk.device, kiosk.site)
    uids = register_families(desk, 3)
    [huge] = desk.store.record(
        [
            Event(
                type="attendance.amended",
                at=MONDAY,
                data={
                    "attendance_id": "A-NONE",
                    "session_key": "2026-11-23/play-mon",
                    "family_id": "F-NONE",
                    "children": [],
                    "notes": "x" * 1_100_000,
                },
                device_id=kiosk.device,
                site_id=kiosk.site,
            )
        ]
    )
    taps = week_of_taps(desk, uids)

    result = kiosk_sync(data, central.url, token)

    assert result.returncode == daemon.EXIT_REJECTED, result.stderr
    assert [r["event"]["seq"] for r in desk.store.rejected()] == [huge.seq]
    assert central.attendance_count() == taps
    assert central.db.holds_up_to(kiosk.device) == desk.store.highest_seq()
    [gap] = central.db.gaps(kiosk.device)
    assert (gap["from_seq"], gap["kind"]) == (huge.seq, "set_aside")
    assert "too large" in gap["detail"]
    assert central.db.count(rejections) == 0
    assert status(data)["missing"] == ["none"]  # it is not missing: it is kept aside here
    again = kiosk_sync(data, central.url, token)
    assert again.returncode == daemon.EXIT_OK and "sending again" not in again.stderr
    assert len(central.db.gaps(kiosk.device)) == 1


class ConfusedServer(ScriptedClient):
    """Takes everything, but always says it holds nothing (a broken restore)."""

    def whoami(self):
        return super().whoami().model_copy(update={"holds_up_to": 0})

    def send_events(self, events):
        answer = super().send_events(events)
        return answer.model_copy(update={"server_holds_up_to": {self.device.device_id: 0}})

    def report_gaps(self, gaps):
        return GapAnswer(server_holds_up_to={self.device.device_id: 0})


def test_a_gap_that_does_not_move_is_not_resent_every_pass(tmp_path):
    desk = kiosk_desk(tmp_path / "k", "k1", "s1")
    week_of_taps(desk, register_families(desk, 3))
    store = desk.store
    store.mark_sent([e.event_id for e in store.pending(1000)])
    client = ConfusedServer(DeviceIdentity("k1", "s1"))
    now = [MONDAY]
    syncer = Syncer(store, client, clock=lambda: now[0])

    first = syncer.run_pass()
    assert first.outcome == "ok" and first.requeued == 2 * store.highest_seq()  # tried twice
    assert "resend_stuck" in status(tmp_path / "k")
    sent = len(client.batches)

    now[0] += timedelta(minutes=1)
    syncer.run_pass()
    assert len(client.batches) == sent  # left alone for an hour

    now[0] += timedelta(hours=2)
    syncer.run_pass()
    assert len(client.batches) > sent
