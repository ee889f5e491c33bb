"""``kiosk-admin doctor``: one ``ok|warn|fail: what — what to do`` line per check, exit 1 if any
check failed; each check driven through a swapped-in probe (fake reader, clock, disk, systemd)
and the server check against a real HTTP server on loopback."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from kiosk.admin import main as admin_main
from kiosk.backup import create_backup
from kiosk.config import load_config
from kiosk.doctor import (
    DISK_FAIL_BYTES,
    Finding,
    Probes,
    check_clock,
    check_disk,
    check_reader,
    check_server,
    check_services,
    check_store,
    exit_status,
    run_doctor,
)
from kiosk.hardware.base import ReaderError, ReaderUnavailable
from kiosk.store import LocalStore
from tests.appliance.helpers import make_kiosk, write_config

LINE = re.compile(r"^(ok|warn|fail): \S.*?( — \S.*)?$")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "tok-kiosk-test-1"


class DeviceAPI(BaseHTTPRequestHandler):
    """``GET /api/v1/device`` as the central server answers it, for one token."""

    device_id = "kiosk-test-1"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != "/api/v1/device":
            self._send(404, {"detail": "Not Found"})
        elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"detail": "unknown device token"})
        else:
            self._send(
                200,
                {
                    "device_id": self.server.device_id,  # type: ignore[attr-defined]
                    "site_id": "test-site",
                    "org_id": "org",
                    "holds_up_to": 0,
                },
            )

    def _send(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), DeviceAPI)
    httpd.device_id = "kiosk-test-1"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def setup(tmp_path: Path, server: ThreadingHTTPServer):
    """A kiosk with data, a backup, a token and a config pointing at the loopback server."""
    kiosk = make_kiosk(tmp_path / "data", visits=1)
    with LocalStore(kiosk.data) as store:  # a healthy box has sent what it recorded
        store.mark_sent([e.event_id for e in store.pending(1000)], at=NOW)
        store.update_sync_state(last_success=NOW)
    create_backup(kiosk.data, tmp_path / "backups", NOW - timedelta(hours=3))
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    config = write_config(
        tmp_path / "kiosk.toml",
        kiosk.data,
        tmp_path / "backups",
        sync={"endpoint": f"http://127.0.0.1:{server.server_port}", "token_file": str(token)},
    )
    return SimpleNamespace(kiosk=kiosk, config_file=config, token=token, server=server)


def healthy(**changes) -> Probes:
    """Probes for a box where everything is fine (the reader is the fake one)."""
    probes = Probes(
        clock_synced=lambda: True,
        now=lambda: NOW,
        disk_usage=lambda path: SimpleNamespace(free=20 * 10**9),
        unit_active=lambda unit: True,
    )
    for key, value in changes.items():
        setattr(probes, key, value)
    return probes


def levels(findings: list[Finding]) -> list[str]:
    return [f.level for f in findings]


def test_a_healthy_box_is_all_ok_and_exits_0(setup):
    findings = run_doctor(setup.config_file, healthy())
    lines = [f.line() for f in findings]
    assert all(LINE.match(line) for line in lines), lines
    assert levels(findings) == ["ok"] * len(findings), lines
    assert exit_status(findings) == 0
    text = "\n".join(lines)
    assert f"ok: configuration {setup.config_file}" in text
    assert "ok: card reader answers (fake reader)" in text
    assert "ok: clock synchronised" in text
    assert "ok: device kiosk-test-1 at site test-site" in text
    assert "ok: central server http://127.0.0.1:" in text
    assert "ok: doorstep-sync.service running" in text
    assert "ok: newest backup doorstep-kiosk-test-1-" in text


def test_a_reader_that_does_not_answer_fails_and_says_what_to_check(setup):
    class DeadReader:
        def reset(self) -> None:
            raise ReaderError("RC522 not answering on the SPI bus (version register reads 0x00)")

        def read_uid(self, timeout: float) -> None:
            self.reset()

        def close(self) -> None:
            pass

    config = load_config(setup.config_file)
    findings = check_reader(config, healthy(open_reader=lambda cfg: DeadReader()))
    (finding,) = findings
    assert finding.level == "fail"
    assert "card reader not answering (fake reader): RC522 not answering" in finding.line()
    assert "firmware-notes" in finding.todo

    def missing(cfg):
        raise ReaderUnavailable("The RC522 card reader needs the spidev library")

    (finding,) = check_reader(config, healthy(open_reader=missing))
    assert finding.level == "fail" and "needs the spidev library" in finding.what


def test_the_reader_is_not_grabbed_from_the_running_kiosk_app(setup, tmp_path):
    path = write_config(
        tmp_path / "rc.toml", setup.kiosk.data, tmp_path / "b", reader={"kind": "rc522"}
    )
    opened = []
    probes = healthy(open_reader=opened.append, unit_active=lambda u: u.startswith("doorstep-k"))
    (finding,) = check_reader(load_config(path), probes)
    assert finding.level == "warn" and "the kiosk app is using it" in finding.what
    assert "sudo systemctl stop doorstep-kiosk" in finding.todo and opened == []


def test_an_unsynchronised_clock_warns_and_an_impossible_one_fails(setup):
    config = load_config(setup.config_file)
    (finding,) = check_clock(config, healthy(clock_synced=lambda: False))
    assert finding.level == "warn" and "timedatectl" in finding.todo
    past = datetime(2021, 1, 1, tzinfo=UTC)
    (finding,) = check_clock(config, healthy(now=lambda: past))
    assert finding.level == "fail" and "cannot be right" in finding.what


def test_a_nearly_full_disk_fails(setup):
    config = load_config(setup.config_file)
    low = healthy(disk_usage=lambda path: SimpleNamespace(free=DISK_FAIL_BYTES // 2))
    findings = check_disk(config, low)
    assert "fail" in levels(findings)
    assert all("delete old backups" in f.todo for f in findings if f.level == "fail")


def test_an_unreadable_store_fails_with_what_to_do(setup):
    def broken(path):
        raise OSError(5, "Input/output error")

    (finding,) = check_store(load_config(setup.config_file), healthy(open_store=broken))
    assert finding.level == "fail" and "cannot be read" in finding.what
    assert "backup restore" in finding.todo


def test_events_waiting_offline_warn_then_fail_after_a_day(setup):
    with LocalStore(setup.kiosk.data) as store:
        store.requeue_from(1)  # the server lost them: waiting again, the kiosk offline
    config = load_config(setup.config_file)
    soon = check_store(config, healthy(now=lambda: NOW + timedelta(hours=1)))
    assert [f.level for f in soon if "saved here, offline since" in f.what] == ["warn"]
    late = check_store(config, healthy(now=lambda: datetime(2026, 12, 1, tzinfo=UTC)))
    assert [f.level for f in late if "saved here, offline since" in f.what] == ["fail"]


def test_a_refused_event_fails_with_what_to_do(setup):
    with LocalStore(setup.kiosk.data) as store:
        event = next(iter(store.events()))
        store.requeue_from(event.seq)
        store.mark_rejected(event.event_id, "data.children: too many")
    findings = check_store(load_config(setup.config_file), healthy())
    [refused] = [f for f in findings if "refused by the server" in f.what]
    assert refused.level == "fail" and "kiosk-admin rejected retry" in refused.todo


def test_a_refused_token_fails(setup):
    setup.token.write_text("wrong-token\n")
    (finding,) = check_server(load_config(setup.config_file), healthy())
    assert finding.level == "fail" and "refused this kiosk's token" in finding.what
    assert str(setup.token) in finding.todo


def test_another_kiosks_token_fails(setup):
    setup.server.device_id = "kiosk-9"
    (finding,) = check_server(load_config(setup.config_file), healthy())
    assert finding.level == "fail" and "belongs to device kiosk-9" in finding.what


def test_an_unreachable_server_warns_because_check_ins_are_kept(setup, tmp_path):
    setup.server.shutdown()
    setup.server.server_close()
    (finding,) = check_server(load_config(setup.config_file), healthy())
    assert finding.level == "warn" and "not reachable" in finding.what
    assert "kept" in finding.todo


def test_a_missing_token_file_fails(setup):
    setup.token.unlink()
    (finding,) = check_server(load_config(setup.config_file), healthy())
    assert finding.level == "fail" and "does not exist" in finding.what


def test_stopped_units_warn_and_a_non_systemd_machine_says_nothing(setup):
    config = load_config(setup.config_file)
    findings = check_services(config, healthy(unit_active=lambda u: u != "doorstep-sync.service"))
    assert [f.line() for f in findings if f.level == "warn"] == [
        "warn: doorstep-sync.service not running — sudo systemctl start doorstep-sync; "
        "journalctl -u doorstep-sync"
    ]
    assert check_services(config, healthy(unit_active=lambda u: None)) == []


def test_kiosk_admin_doctor_prints_lines_and_exits_1_on_a_failure(setup, monkeypatch):
    monkeypatch.setenv("KIOSK_CLOCK_SYNCED", "1")
    setup.token.write_text("wrong-token\n")
    out, err = io.StringIO(), io.StringIO()
    code = admin_main(["--config", str(setup.config_file), "doctor"], out=out, err=err)
    lines = out.getvalue().splitlines()
    assert code == 1, lines
    assert all(LINE.match(line) for line in lines), lines
    assert any(line.startswith("fail: http://127.0.0.1:") for line in lines)
    assert "ok: clock synchronised" in lines


def test_the_self_check_touches_nothing_but_code_and_config(setup, monkeypatch):
    def forbidden(*args):
        raise AssertionError("the self-check must not touch the store, reader or network")

    probes = healthy(open_store=forbidden, open_reader=forbidden, whoami=forbidden)
    findings = run_doctor(setup.config_file, probes, self_check_only=True)
    assert levels(findings) == ["ok", "ok"], [f.line() for f in findings]
    out = io.StringIO()
    code = admin_main(
        ["--config", str(setup.config_file), "doctor", "--self-check"], out=out, err=io.StringIO()
    )
    assert code == 0, out.getvalue()


def test_a_broken_config_is_the_one_failure_reported(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text('[device]\nid = "k1"\nsite = "s1"\n[sync]\nbatch_size = "lots"\n')
    findings = run_doctor(bad, healthy())
    assert [f.line() for f in findings] == [
        f"fail: {bad}: [sync] batch_size: must be a whole number from 1 to 1000, not 'lots' — "
        "fix that line; kiosk-admin config check checks it again"
    ]
