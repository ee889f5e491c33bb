"""The sync client and a pass, in this process, against a real central server process (SQLite
file and PostgreSQL), with faults injected by a proxy between them.

The kiosk side here is the in-memory store; tests/sync/test_end_to_end.py does the same with
the real kiosk store and ``kiosk-sync`` as a subprocess.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from central.db import attendance_children, attendances, cards, children, events, families
from central.db import rejections as rejections_table
from kiosk.domain.events import DeviceIdentity, Event
from sync.client import ServerUnreachable, SyncClient
from sync.daemon import EXIT_AUTH, EXIT_OK, EXIT_REJECTED, EXIT_UNREACHABLE, Daemon, run_once
from sync.retry import RetryPolicy
from sync.syncer import Syncer
from tests.fakes.store import MemoryStore
from tests.helpers import wait_for
from tests.sync.fakes import T0, amendment, attendance, registration, taps
from tests.sync.faultproxy import FaultProxy

DEVICE = DeviceIdentity("kiosk-1", "library")


def syncer_for(store, url, token, batch_size=50, timeout=(2.0, 5.0), **kwargs) -> Syncer:
    return Syncer(store, SyncClient(url, token, timeout=timeout), batch_size=batch_size, **kwargs)


def no_sleep(_seconds: float) -> None:
    pass


def test_taps_land_in_the_servers_tables(central, kiosk):
    store = MemoryStore()
    family, reg = registration(DEVICE, T0, uid="04A23B1C")
    recorded = attendance(DEVICE, family, T0 + timedelta(minutes=1))
    only_ben = amendment(DEVICE, recorded, [family.children[0].child_id], T0 + timedelta(minutes=2))
    store.record([*reg, recorded, only_ben])

    report = syncer_for(store, central.url, kiosk.token).run_pass()

    assert report.outcome == "ok" and report.accepted == 4
    db = central.db
    assert db.count(events, device_id="kiosk-1") == 4
    assert db.count(families, org_id="lichfield") == 1
    assert db.count(children, family_id=family.family_id) == 2
    assert db.count(cards, uid="04A23B1C") == 1
    with db.engine.connect() as conn:
        att = conn.execute(select(attendances)).one()
        kids = conn.execute(select(attendance_children.c.child_id)).scalars().all()
    assert att.attendance_id == recorded.event_id
    assert (att.session_key, att.method, att.qualifies) == (
        recorded.data["session"]["key"],
        "card",
        True,
    )
    assert att.reasons == ["postcode"] and att.risk_version == "v1-abc"
    assert kids == [family.children[0].child_id]  # the amendment applied
    assert db.holds_up_to("kiosk-1") == 4
    assert store.sync_state()["server_holds_up_to"] == 4


def test_sending_everything_again_is_answered_duplicate_and_changes_nothing(central, kiosk):
    store = MemoryStore()
    store.record(taps(DEVICE, 30))
    syncer_for(store, central.url, kiosk.token).run_pass()
    store.requeue_from(1)  # as if the kiosk never heard the answers

    report = syncer_for(store, central.url, kiosk.token).run_pass()

    assert (report.accepted, report.duplicate) == (0, 30)
    assert central.db.count(events) == 30


def test_server_errors_are_retried_and_nothing_is_lost_or_doubled(central, kiosk):
    store = MemoryStore()
    store.record(taps(DEVICE, 40))
    with FaultProxy(central.server.port) as proxy:
        proxy.inject("http500", times=2)
        status = run_once(syncer_for(store, proxy.url, kiosk.token, batch_size=10), sleep=no_sleep)
        assert proxy.faults_applied("http500") == 2
    assert status == EXIT_OK
    assert store.waiting_count() == 0
    assert central.db.count(events) == 40


def test_a_slow_server_times_out_and_the_retry_is_recognised_as_duplicate(central, kiosk):
    store = MemoryStore()
    store.record(taps(DEVICE, 12))
    with FaultProxy(central.server.port) as proxy:
        slow = proxy.inject("slow", times=1, delay=600)
        syncer = syncer_for(store, proxy.url, kiosk.token, batch_size=6, timeout=(2.0, 0.5))
        first = syncer.run_pass()
        assert first.outcome == "unreachable" and "timed out" in str(first.error)
        assert store.waiting_count() == 12  # nothing marked: no answer was seen
        assert slow.answered.wait(60), "the server never answered the first batch"  # committed
        second = syncer.run_pass()
    assert second.outcome == "ok"
    assert (second.duplicate, second.accepted) == (6, 6)
    assert central.db.count(events) == 12


def test_a_connection_dropped_after_the_server_committed_is_not_a_duplicate(central, kiosk):
    store = MemoryStore()
    store.record(taps(DEVICE, 20))
    with FaultProxy(central.server.port) as proxy:
        proxy.inject("drop", times=1)
        syncer = syncer_for(store, proxy.url, kiosk.token, batch_size=8)
        status = run_once(syncer, sleep=no_sleep)
        assert proxy.faults_applied("drop") == 1
    assert status == EXIT_OK
    assert central.db.count(events) == 20
    assert store.waiting_count() == 0


def test_the_daemon_reconnects_by_itself_when_the_server_comes_back(central, kiosk):
    central.server.stop()
    store = MemoryStore()
    store.record(taps(DEVICE, 25))
    syncer = syncer_for(store, central.url, kiosk.token, batch_size=10)
    fast = RetryPolicy(backoff_factor=0.05, backoff_max=0.3, jitter=0.5)
    daemon = Daemon(syncer, poll_interval=0.1, retry=fast)
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: daemon.passes >= 2, "two passes against the stopped server")
        assert daemon.state == "unreachable"
        assert store.waiting_count() == 25
        assert store.sync_state()["last_error"].startswith("unreachable")

        central.server.start()
        store.record(taps(DEVICE, 5, start=T0 + timedelta(days=1)))
        wait_for(lambda: store.waiting_count() == 0, "the daemon to send everything")
    finally:
        daemon.stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert store.waiting_count() == 0
    assert central.db.count(events) == 30
    assert store.sync_state()["last_error"] is None


def test_a_wrong_token_stops_sending_and_marks_nothing(central, kiosk):
    store = MemoryStore()
    store.record(taps(DEVICE, 5))
    syncer = syncer_for(store, central.url, "dsk_not-the-right-token")
    status = run_once(syncer, sleep=no_sleep)
    assert status == EXIT_AUTH
    assert "token" in store.sync_state()["last_error"]
    assert store.waiting_count() == 5  # nothing marked sent
    assert central.db.count(events) == 0


def test_a_revoked_kiosk_is_refused(central, kiosk):
    central.db.revoke_device(kiosk.device)
    store = MemoryStore()
    store.record(taps(DEVICE, 2))
    report = syncer_for(store, central.url, kiosk.token).run_pass()
    assert report.outcome == "auth"
    assert "revoked" in str(report.error)
    assert store.waiting_count() == 2


def test_a_malformed_event_is_rejected_with_a_reason_and_kept_while_the_good_ones_land(
    central, kiosk
):
    store = MemoryStore()
    good_before = taps(DEVICE, 3)
    family, _ = registration(DEVICE)
    broken = attendance(DEVICE, family)
    broken = Event(
        type=broken.type,
        at=broken.at,
        data={**broken.data, "qualifies": "yes"},
        device_id=DEVICE.device_id,
        site_id=DEVICE.site_id,
    )
    store.record([*good_before, broken, *taps(DEVICE, 3, start=T0 + timedelta(days=1))])

    status = run_once(syncer_for(store, central.url, kiosk.token), sleep=no_sleep)

    assert status == EXIT_REJECTED
    assert central.db.count(events) == 6
    [kept] = store.rejected()
    assert kept["event"]["event_id"] == broken.event_id
    assert kept["reason"].startswith("data.qualifies: Input should be a valid boolean")
    assert store.waiting_count() == 0
    with central.db.engine.connect() as conn:
        row = conn.execute(select(rejections_table)).one()
    assert (row.seq, row.event_id) == (4, broken.event_id)
    assert central.db.holds_up_to("kiosk-1") == 7  # the rejected seq is accounted for


def test_an_oversized_batch_is_halved_until_the_server_takes_it(central, kiosk):
    store = MemoryStore()
    family, registered = registration(DEVICE)
    store.record(registered)  # the server counts attendances of families it holds only
    big = [
        Event(
            type="attendance.recorded",
            at=T0,
            data={**attendance(DEVICE, family).data, "note": "x" * 400_000},
            device_id=DEVICE.device_id,
            site_id=DEVICE.site_id,
        )
        for _ in range(4)
    ]
    store.record(big)
    report = syncer_for(store, central.url, kiosk.token, batch_size=4).run_pass()
    assert report.outcome == "ok" and report.accepted == 5
    assert central.db.count(events) == 5


def test_a_family_registered_at_one_kiosk_reaches_the_others_in_the_organisation(central):
    a = central.enrol("kiosk-a", "library")
    b = central.enrol("kiosk-b", "leisure-centre")
    other_org = central.enrol("kiosk-x", "town-hall", org="tamworth")
    store_a, store_b, store_x = MemoryStore(), MemoryStore(), MemoryStore()
    family, reg = registration(DeviceIdentity("kiosk-a", "library"), uid="0A0B0C0D")
    store_a.record(reg)

    syncer_for(store_a, central.url, a.token).run_pass()
    report_b = syncer_for(store_b, central.url, b.token).run_pass()
    report_x = syncer_for(store_x, central.url, other_org.token).run_pass()
    report_a = syncer_for(store_a, central.url, a.token).run_pass()

    assert report_b.roster_applied == 2
    assert store_b.card("0A0B0C0D").family_id == family.family_id
    assert store_b.family(family.family_id).greeting_name == "Amy"
    assert report_x.roster_applied == 0 and store_x.card("0A0B0C0D") is None
    assert report_a.roster_applied == 0  # its own events are not echoed back


def test_a_name_that_does_not_resolve_is_unreachable_not_fatal():
    store = MemoryStore()
    store.record(taps(DEVICE, 1))
    report = syncer_for(store, "https://doorstep.invalid", "dsk_x").run_pass()
    assert report.outcome == "unreachable"
    assert isinstance(report.error, ServerUnreachable)
    assert store.waiting_count() == 1


def test_a_connection_refused_is_unreachable():
    from tests.sync.servers import free_port

    store = MemoryStore()
    store.record(taps(DEVICE, 1))
    status = run_once(syncer_for(store, f"http://127.0.0.1:{free_port()}", "x"), sleep=no_sleep)
    assert status == EXIT_UNREACHABLE
    assert "cannot reach" in store.sync_state()["last_error"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_https_with_a_councils_own_ca_file(backend, db_url, tmp_path):
    from central.db import CentralDB
    from tests.sync.servers import CentralServer, enrol, make_tls

    tls = make_tls(tmp_path / "tls")
    db = CentralDB.open(db_url)
    kiosk = enrol(db, "lichfield", "library", "kiosk-1")
    with CentralServer(db_url, tmp_path / "server.log", ssl=tls) as server:
        assert server.url.startswith("https://")
        store = MemoryStore()
        store.record(taps(DEVICE, 3))
        untrusted = Syncer(store, SyncClient(server.url, kiosk.token)).run_pass()
        assert untrusted.outcome == "unreachable"
        assert "TLS" in str(untrusted.error) and store.waiting_count() == 3
        trusted = Syncer(store, SyncClient(server.url, kiosk.token, ca_file=tls.ca)).run_pass()
        assert trusted.outcome == "ok" and store.waiting_count() == 0
    assert db.count(events) == 3
    db.close()
