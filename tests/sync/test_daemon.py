"""The daemon's decisions, without sleeping: exit statuses, waits, a refused token, the journal
and systemd's notification socket."""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
import time

import pytest

from kiosk.domain.events import DeviceIdentity
from sync.client import AuthRefused, ProtocolMismatch, ServerUnreachable
from sync.daemon import (
    EXIT_AUTH,
    EXIT_OK,
    EXIT_PROTOCOL,
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    Daemon,
    JournalFormatter,
    configure_logging,
    exit_code,
    run_once,
)
from sync.protocol import EventResult
from sync.retry import RetryPolicy
from sync.syncer import PassReport, Syncer
from sync.systemd import Notifier
from tests.fakes.store import MemoryStore
from tests.sync.fakes import ScriptedClient, taps

DEVICE = DeviceIdentity("k1", "s1")


@pytest.mark.parametrize(
    ("reports", "status"),
    [
        ([PassReport()], EXIT_OK),
        ([PassReport(rejected=1)], EXIT_REJECTED),
        ([PassReport(error=ServerUnreachable("x"))], EXIT_UNREACHABLE),
        ([PassReport(rejected=2), PassReport(error=ServerUnreachable("x"))], EXIT_UNREACHABLE),
        ([PassReport(rejected=2), PassReport()], EXIT_REJECTED),
        ([PassReport(error=AuthRefused("x", 401))], EXIT_AUTH),
        ([PassReport(error=ProtocolMismatch("x"))], EXIT_PROTOCOL),
    ],
)
def test_exit_status_says_what_happened(reports, status):
    assert exit_code(reports) == status


def test_once_retries_an_unreachable_server_twice_then_gives_up_without_really_sleeping():
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    store.record(taps(DEVICE, 3))
    client.whoami_error = ServerUnreachable("connection refused")
    slept: list[float] = []
    status = run_once(Syncer(store, client), sleep=slept.append)
    assert status == EXIT_UNREACHABLE
    assert client.whoami_calls == 3 and len(slept) == 2
    assert all(0 < s <= 2.0 for s in slept)


def test_once_recovers_when_a_retry_gets_through():
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    store.record(taps(DEVICE, 3))
    client.fail = [ServerUnreachable("reset by peer")]
    assert run_once(Syncer(store, client), sleep=lambda s: None) == EXIT_OK
    assert store.waiting_count() == 0


def test_once_does_not_retry_a_refused_token():
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    store.record(taps(DEVICE, 3))
    client.fail = [AuthRefused("refused", 401)] * 5
    slept: list[float] = []
    assert run_once(Syncer(store, client), sleep=slept.append) == EXIT_AUTH
    assert slept == [] and len(client.batches) == 1


def test_once_reports_rejections_seen_in_an_earlier_attempt():
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    events = store.record(taps(DEVICE, 4))
    client.answer = lambda batch, results: [
        EventResult(event_id=r.event_id, status="rejected", reason="bad")
        if r.event_id == events[0].event_id
        else r
        for r in results
    ]
    syncer = Syncer(store, client, batch_size=1)
    original = syncer.run_pass
    calls = {"n": 0}

    def flaky_pass():
        calls["n"] += 1
        report = original()
        if calls["n"] == 1:
            report.error = ServerUnreachable("dropped")
        return report

    syncer.run_pass = flaky_pass  # type: ignore[method-assign]
    assert run_once(syncer, sleep=lambda s: None) == EXIT_REJECTED


def _daemon(store, client, **kwargs) -> Daemon:
    kwargs.setdefault("retry", RetryPolicy(backoff_factor=2.0, backoff_max=60.0, jitter=0.0))
    return Daemon(Syncer(store, client), poll_interval=30.0, rand=lambda: 0.0, **kwargs)


def test_the_daemon_backs_off_exponentially_while_unreachable_then_polls_again():
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    store.record(taps(DEVICE, 2))
    client.whoami_error = ServerUnreachable("no route to host")
    d = _daemon(store, client)
    assert [d.step() for _ in range(7)] == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    client.whoami_error = None
    assert d.step() == 30.0 and d.state == "ok"
    assert store.waiting_count() == 0
    client.whoami_error = ServerUnreachable("down again")
    d.syncer.identity = None
    store.record(taps(DEVICE, 1))
    assert d.step() == 2.0  # the backoff started over


def test_a_refused_token_waits_for_the_recheck_interval_not_the_backoff(tmp_path):
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    store.record(taps(DEVICE, 2))
    client.fail = [AuthRefused("refused", 403)] * 3
    d = _daemon(store, client, auth_recheck=600.0)
    assert d.step() == 600.0 and d.step() == 600.0
    assert d.state == "auth"
    assert store.waiting_count() == 2  # nothing marked sent


def test_a_new_token_file_wakes_the_daemon_and_is_used(tmp_path):
    token = tmp_path / "token"
    token.write_text("old")
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    client.token = "old"
    d = _daemon(store, client, token_file=token, wait_slice=0.05)
    token.write_text("new-token\n")
    os.utime(token, ns=(time.time_ns(), time.time_ns() + 10**9))
    t = threading.Thread(target=d.wait, args=(3600.0,))
    t.start()
    t.join(60)
    assert not t.is_alive(), "the new token did not end an hour's wait"
    assert client.token == "new-token"


class _PassSignal(Notifier):
    """Tells the test when the daemon has finished a pass (it reports its status after each)."""

    def __init__(self) -> None:
        super().__init__(env={})
        self.passed = threading.Event()

    def status(self, text: str) -> None:
        self.passed.set()


def test_the_daemon_stops_promptly_when_asked():
    store, client = MemoryStore(), ScriptedClient(DEVICE)
    signal = _PassSignal()
    d = Daemon(Syncer(store, client), poll_interval=3600.0, notifier=signal)
    t = threading.Thread(target=d.run)
    t.start()
    assert signal.passed.wait(30), "the daemon made no first pass"
    d.stop.set()
    t.join(30)
    assert not t.is_alive(), "the daemon kept waiting out its hour's poll interval"
    assert d.passes == 1  # then waiting quietly for the poll interval


def test_an_unexpected_error_in_a_pass_is_logged_and_backed_off_not_fatal(caplog):
    class BrokenStore(MemoryStore):
        def pending(self, limit):
            raise OSError("No space left on device")

    d = _daemon(BrokenStore(), ScriptedClient(DEVICE))
    with caplog.at_level(logging.ERROR, logger="sync"):
        assert d.step() == 2.0
    assert "No space left on device" in caplog.text


def test_nothing_to_send_is_quiet_in_the_log():
    stream = io.StringIO()
    configure_logging(stream=stream, env={})
    d = _daemon(MemoryStore(), ScriptedClient(DEVICE))
    for _ in range(3):
        d.step()
    assert stream.getvalue() == ""


def test_under_journald_lines_carry_syslog_priorities_and_no_timestamp():
    stream = io.StringIO()
    configure_logging(stream=stream, env={"JOURNAL_STREAM": "8:12345"})
    log = logging.getLogger("sync")
    log.info("sent 3 event(s)")
    log.warning("server unreachable")
    log.error("TOKEN REFUSED\nsecond line")
    assert stream.getvalue().splitlines() == [
        "<6>sent 3 event(s)",
        "<4>server unreachable",
        "<3>TOKEN REFUSED",
        "<3>second line",
    ]


def test_without_journald_lines_are_timestamped_for_a_terminal():
    stream = io.StringIO()
    configure_logging(stream=stream, env={})
    logging.getLogger("sync").warning("hello")
    line = stream.getvalue().strip()
    assert line.endswith("WARNING hello") and line[:4].isdigit()


def test_journal_formatter_maps_every_level():
    fmt = JournalFormatter()
    for level, prefix in ((logging.DEBUG, "<7>"), (logging.CRITICAL, "<2>")):
        record = logging.LogRecord("sync", level, __file__, 1, "x", None, None)
        assert fmt.format(record) == prefix + "x"


def test_systemd_notifications_arrive_on_the_socket(tmp_path):
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    notifier = Notifier(env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "20000000"})
    try:
        assert notifier.available and notifier.watchdog_period == 20.0
        notifier.ready()
        notifier.watchdog_ping()
        notifier.status("ok: 0 waiting")
        notifier.stopping()
        got = [server.recv(1024).decode() for _ in range(4)]
    finally:
        notifier.close()
        server.close()
    assert got == ["READY=1", "WATCHDOG=1", "STATUS=ok: 0 waiting", "STOPPING=1"]


def test_without_systemd_notifications_are_silent_no_ops():
    notifier = Notifier(env={})
    notifier.ready()
    notifier.watchdog_ping()
    assert not notifier.available and notifier.watchdog_period is None
    notifier.close()
    notifier.close()  # safe twice


def test_the_watchdog_is_pinged_while_waiting(tmp_path):
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(2)
    notifier = Notifier(env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000"})
    d = _daemon(MemoryStore(), ScriptedClient(DEVICE), notifier=notifier)
    d.wait(0.35)
    pings = []
    server.settimeout(0.05)
    try:
        while True:
            pings.append(server.recv(64))
    except TimeoutError:
        pass
    notifier.close()
    server.close()
    assert pings.count(b"WATCHDOG=1") >= 2
