"""Taps at a real kiosk store → ``kiosk-sync`` → rows in the central server's database.

All real parts: the kiosk's LocalStore in a temporary folder with a DoorDesk over it,
``kiosk-sync`` run as a subprocess (and in this process), a ``kiosk-central serve`` process on
loopback, and a SQLite file or PostgreSQL (when ``KIOSK_TEST_POSTGRES_URL`` is set).
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from central.db import attendance_children, attendances, cards, children, events, families
from kiosk.domain.events import Event
from sync import daemon
from sync.status import sync_status_lines
from tests.helpers import wait_for
from tests.sync.faultproxy import FaultProxy
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    MONDAY,
    REPO,
    command,
    door,
    local_store,
    register_families,
    subprocess_env,
    week_of_taps,
)


def kiosk_sync(
    data: Path, endpoint: str, token_file: Path, *extra: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *command("kiosk-sync", "sync.daemon"),
            *KEEP_DATED_EVENTS,
            "--data",
            str(data),
            "--endpoint",
            endpoint,
            "--token-file",
            str(token_file),
            "--once",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(),
        cwd=REPO,
    )


@pytest.fixture
def token_file(tmp_path, kiosk) -> Path:
    path = tmp_path / "token"
    path.write_text(kiosk.token + "\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def desk(tmp_path, kiosk):
    desk = door(tmp_path / "kiosk-data", kiosk.device, kiosk.site)
    yield desk
    desk.store.close()


def server_event_ids(central) -> set[str]:
    with central.db.engine.connect() as conn:
        return set(conn.execute(select(events.c.event_id)).scalars())


def kiosk_event_ids(store) -> set[str]:
    return {e.event_id for e in store.events()}


def test_taps_reach_the_servers_database_through_kiosk_sync(central, desk, token_file, tmp_path):
    uids = register_families(desk, 20)
    taps = week_of_taps(desk, uids)
    # A parent unticks a child who stayed at home on Monday.
    family = desk.store.family(desk.store.card(uids[0]).family_id)
    monday = MONDAY + timedelta(minutes=30)
    desk.set_children(family.family_id, [family.children[0].first_name], monday)
    recorded = desk.store.highest_seq()

    result = kiosk_sync(tmp_path / "kiosk-data", central.url, token_file)

    assert result.returncode == daemon.EXIT_OK, result.stderr
    assert f"sent {recorded} event(s)" in result.stderr
    assert server_event_ids(central) == kiosk_event_ids(desk.store)
    db = central.db
    assert db.count(attendances) == taps
    assert db.count(families) == 20 and db.count(cards) == 20 and db.count(children) == 40
    with db.engine.connect() as conn:
        att_id = conn.execute(
            select(attendances.c.attendance_id).where(
                attendances.c.family_id == family.family_id,
                attendances.c.session_date == monday.date(),
            )
        ).scalar_one()
        kids = conn.execute(
            select(attendance_children.c.child_id).where(
                attendance_children.c.attendance_id == att_id
            )
        ).scalars()
        assert list(kids) == [family.children[0].child_id]
        assert conn.execute(select(func.count()).select_from(attendance_children)).scalar() == (
            2 * taps - 1
        )
    assert db.holds_up_to(desk.device.device_id) == recorded
    assert desk.store.waiting_count() == 0

    again = kiosk_sync(tmp_path / "kiosk-data", central.url, token_file)
    assert again.returncode == daemon.EXIT_OK
    assert db.count(events) == recorded
    status = dict(sync_status_lines(desk.store))
    assert status["waiting"] == "0 event(s)" and status["last_error"] == "none"
    assert status["server_holds_up_to"] == str(recorded)


def test_kiosk_sync_in_process_gives_the_same_result(central, desk, token_file, tmp_path):
    week_of_taps(desk, register_families(desk, 10))
    status = daemon.main(
        [
            *KEEP_DATED_EVENTS,
            "--data",
            str(tmp_path / "kiosk-data"),
            "--endpoint",
            central.url,
            "--token-file",
            str(token_file),
            "--once",
            "--batch-size",
            "7",
        ]
    )
    assert status == daemon.EXIT_OK
    assert server_event_ids(central) == kiosk_event_ids(desk.store)


def test_a_week_offline_then_the_server_comes_back_and_nothing_is_lost(
    central, desk, token_file, tmp_path
):
    central.server.stop()
    uids = register_families(desk, 40)
    week_of_taps(desk, uids)
    week_of_taps(desk, uids, start=MONDAY + timedelta(days=7))
    recorded = desk.store.highest_seq()

    down = kiosk_sync(tmp_path / "kiosk-data", central.url, token_file)
    assert down.returncode == daemon.EXIT_UNREACHABLE
    assert "cannot reach" in down.stderr
    assert desk.store.waiting_count() == recorded
    assert "unreachable" in dict(sync_status_lines(desk.store))["last_error"]

    central.server.start()
    up = kiosk_sync(tmp_path / "kiosk-data", central.url, token_file)
    assert up.returncode == daemon.EXIT_OK, up.stderr
    assert central.db.count(events) == recorded
    assert server_event_ids(central) == kiosk_event_ids(desk.store)


def test_a_wrong_token_stops_says_so_and_marks_nothing_sent(central, desk, tmp_path):
    week_of_taps(desk, register_families(desk, 5))
    waiting = desk.store.waiting_count()
    wrong = tmp_path / "wrong-token"
    wrong.write_text("dsk_this-is-not-the-token\n")

    result = kiosk_sync(tmp_path / "kiosk-data", central.url, wrong)

    assert result.returncode == daemon.EXIT_AUTH
    assert "TOKEN REFUSED" in result.stderr and "token file" in result.stderr
    assert desk.store.waiting_count() == waiting
    assert central.db.count(events) == 0
    assert dict(sync_status_lines(desk.store))["token"].startswith("REFUSED")


def test_another_kiosks_token_sends_nothing(central, desk, tmp_path):
    week_of_taps(desk, register_families(desk, 3))
    other = central.enrol("kiosk-2", "library")
    token = tmp_path / "other-token"
    token.write_text(other.token)
    result = kiosk_sync(tmp_path / "kiosk-data", central.url, token)
    assert result.returncode == daemon.EXIT_AUTH
    # The message names the real problem: which device the token is, and how to enrol.
    assert "the token is device 'kiosk-2'" in result.stderr
    assert "kiosk-admin enrol --device kiosk-2 --site library" in result.stderr
    assert central.db.count(events) == 0 and desk.store.rejected() == []


def test_a_malformed_event_is_rejected_and_kept_while_the_good_ones_land(
    central, desk, token_file, tmp_path
):
    uids = register_families(desk, 4)
    [bad] = desk.store.record(
        [
            Event(
                type="attendance.recorded",
                at=MONDAY,
                data={"family_id": "F-NOPE", "method": "bicycle"},
                device_id=desk.device.device_id,
                site_id=desk.device.site_id,
            )
        ]
    )
    week_of_taps(desk, uids)

    result = kiosk_sync(tmp_path / "kiosk-data", central.url, token_file)

    assert result.returncode == daemon.EXIT_REJECTED
    [kept] = desk.store.rejected()
    assert kept["event"]["event_id"] == bad.event_id
    assert "data.session: Field required" in kept["reason"]
    assert "data.method" in kept["reason"]
    assert server_event_ids(central) == kiosk_event_ids(desk.store) - {bad.event_id}
    assert desk.store.waiting_count() == 0
    assert dict(sync_status_lines(desk.store))["rejected"].startswith("1 event(s)")
    assert central.db.holds_up_to(desk.device.device_id) == desk.store.highest_seq()


def test_a_family_registered_at_one_kiosk_is_welcomed_at_another(central, tmp_path):
    a = central.enrol("kiosk-a", "library")
    b = central.enrol("kiosk-b", "leisure-centre")
    desk_a = door(tmp_path / "a", a.device, a.site)
    desk_b = door(tmp_path / "b", b.device, b.site)
    for name, enrolled in (("a", a), ("b", b)):
        (tmp_path / f"{name}.token").write_text(enrolled.token)
    [uid] = register_families(desk_a, 1, prefix="C")
    tuesday = MONDAY + timedelta(days=1, minutes=10)
    assert desk_b.tap(uid, tuesday).kind == "unknown_card"

    assert kiosk_sync(tmp_path / "a", central.url, tmp_path / "a.token").returncode == 0
    pulled = kiosk_sync(tmp_path / "b", central.url, tmp_path / "b.token")
    assert pulled.returncode == 0
    assert "roster change(s)" in pulled.stderr

    welcome = desk_b.tap(uid, tuesday)
    assert welcome.kind == "welcome" and welcome.greeting_name == "Parent C0"
    assert kiosk_sync(tmp_path / "b", central.url, tmp_path / "b.token").returncode == 0
    with central.db.engine.connect() as conn:
        row = conn.execute(select(attendances.c.site_id, attendances.c.family_id)).one()
    assert row.site_id == "leisure-centre"
    assert row.family_id == desk_a.store.card(uid).family_id


def test_a_sync_waiting_on_a_slow_server_never_slows_a_tap(central, desk, token_file, tmp_path):
    uids = register_families(desk, 30)
    week_of_taps(desk, uids[:10])
    with FaultProxy(central.server.port) as proxy:
        slow = proxy.inject("slow", times=1, delay=600)
        sync = subprocess.Popen(
            [
                *command("kiosk-sync", "sync.daemon"),
                *KEEP_DATED_EVENTS,
                "--data",
                str(tmp_path / "kiosk-data"),
                "--endpoint",
                proxy.url,
                "--token-file",
                str(token_file),
                "--once",
            ],
            env=subprocess_env(),
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The server has answered the first batch; the proxy holds the answer, so the daemon
        # now waits on the server (up to its 30 s read timeout) until the test lets it go.
        assert slow.answered.wait(60), "the daemon's first batch never reached the server"
        posts_while_held = [entry for entry in proxy.log if entry[0] == "POST"]
        # The kiosk app has its own store object on the same folder, as in real life.
        door_store = local_store(tmp_path / "kiosk-data")
        from kiosk.domain.desk import DoorDesk

        app_desk = DoorDesk(door_store, desk.device)
        for n, uid in enumerate(uids[10:]):
            assert app_desk.tap(uid, MONDAY + timedelta(minutes=n)).kind == "welcome"
        # Every tap was recorded while the daemon was still inside that held request: it has
        # not exited, and it has not given up on the request and sent another. (How fast a tap
        # is: bench/tap_latency.py prints it.)
        still_syncing = sync.poll() is None
        no_retry_yet = [entry for entry in proxy.log if entry[0] == "POST"] == posts_while_held
        slow.release.set()
        sync.wait(60)
    assert still_syncing and no_retry_yet
    assert sync.returncode == daemon.EXIT_OK


def test_the_help_documents_the_exit_statuses():
    result = subprocess.run(
        [*command("kiosk-sync", "sync.daemon"), "--help"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        cwd=REPO,
    )
    assert result.returncode == 0
    for code in (
        "0  every pending",
        "3  server unreachable",
        "4  the server refused the token",
        "5  the server rejected some events",
        "6  configuration problem",
    ):
        assert code in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no-token", "token file"),
        ("plain-http", "plain http"),
        ("no-data", "data folder"),
        ("no-ca", "CA file"),
    ],
)
def test_configuration_problems_exit_6_with_a_message(tmp_path, change, message):
    data = tmp_path / "data"
    data.mkdir()
    token = tmp_path / "token"
    token.write_text("dsk_x")
    endpoint = "https://central.example.org"
    extra: list[str] = []
    if change == "no-token":
        token = tmp_path / "missing"
    elif change == "plain-http":
        endpoint = "http://central.example.org"
    elif change == "no-data":
        data = tmp_path / "missing-data"
    else:
        extra = ["--ca-file", str(tmp_path / "missing.pem")]
    result = kiosk_sync(data, endpoint, token, *extra)
    assert result.returncode == daemon.EXIT_CONFIG
    assert message in result.stderr


def test_the_daemon_runs_until_sigterm_and_sends_new_taps_as_they_come(
    central, desk, token_file, tmp_path
):
    proc = subprocess.Popen(
        [
            *command("kiosk-sync", "sync.daemon"),
            *KEEP_DATED_EVENTS,
            "--data",
            str(tmp_path / "kiosk-data"),
            "--endpoint",
            central.url,
            "--token-file",
            str(token_file),
            "--poll-interval",
            "0.2",
        ],
        env=subprocess_env(JOURNAL_STREAM="8:1234"),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        uids = register_families(desk, 5)
        week_of_taps(desk, uids)
        wait_for(lambda: desk.store.waiting_count() == 0, "the running daemon to send the taps")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert central.db.count(events) == desk.store.highest_seq()
    lines = err.splitlines()
    assert lines and all(line.startswith("<") for line in lines)  # journald priorities
    assert "<6>sync daemon stopped" in lines


def test_tapping_continues_while_the_daemon_backs_off(central, desk, token_file, tmp_path):
    """Reconnection, not just start: the daemon process outlives an outage by itself."""
    central.server.stop()
    proc = subprocess.Popen(
        [
            *command("kiosk-sync", "sync.daemon"),
            *KEEP_DATED_EVENTS,
            "--data",
            str(tmp_path / "kiosk-data"),
            "--endpoint",
            central.url,
            "--token-file",
            str(token_file),
            "--poll-interval",
            "0.2",
        ],
        env=subprocess_env(),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        week_of_taps(desk, register_families(desk, 5))
        wait_for(
            lambda: (desk.store.sync_state().get("last_error") or "").startswith("unreachable"),
            "the daemon to find the server down",
        )
        assert proc.poll() is None
        assert desk.store.waiting_count() == desk.store.highest_seq()
        central.server.start()
        # the first backoff steps are 2 s, 4 s, 8 s...
        wait_for(lambda: desk.store.waiting_count() == 0, "the daemon to send after the outage")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "sync working again" in err
    assert central.db.count(events) == desk.store.highest_seq()
