"""``kiosk-central serve`` as a council runs it (issue 19): from central.toml, saying where it
listens, ``/`` leading a browser to the dashboard, and ``/metrics`` counting what a real
``kiosk-sync`` sent, read from the database."""

from __future__ import annotations

import re
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
import requests

from central.db import CentralDB, events, rejections
from sync import daemon
from tests.central.ops_servers import SECRET, ServeProcess, write_central_toml
from tests.sync.servers import (
    KEEP_DATED_EVENTS,
    REPO,
    command,
    door,
    enrol,
    register_families,
    subprocess_env,
    week_of_taps,
)


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    CentralDB.open(url).close()
    return url


@pytest.fixture
def config(tmp_path, db_url) -> Path:
    return write_central_toml(tmp_path / "central.toml", db_url, tmp_path / "backups")


def metric(text: str, name: str, device: str | None = None) -> float:
    """One sample's value from the text format (with ``device="..."`` when given)."""
    label = rf'\{{[^}}]*device="{re.escape(device)}"[^}}]*\}}' if device else ""
    found = re.search(rf"^{name}{label} (\S+)$", text, re.MULTILINE)
    assert found, (name, device, text)
    return float(found.group(1))


def kiosk_sync(data: Path, endpoint: str, token_file: Path, *extra: str):
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
        timeout=120,
        env=subprocess_env(),
        cwd=REPO,
    )


def test_serve_says_where_it_listens_and_the_dashboard(config):
    with ServeProcess(config) as server:
        port = int(server.url.rsplit(":", 1)[1].rstrip("/"))
        assert server.url == f"http://127.0.0.1:{port}/" and port > 0
        assert server.dashboard == f"http://127.0.0.1:{port}/dashboard"
        assert requests.get(server.url + "healthz", timeout=5).json()["status"] == "ok"


def test_the_root_sends_a_browser_to_the_dashboard(config):
    with ServeProcess(config) as server:
        answer = requests.get(server.url, allow_redirects=False, timeout=5)
        assert answer.status_code == 302 and answer.headers["location"] == "/dashboard"
        followed = requests.get(server.url, timeout=5)
        assert followed.url.startswith(server.dashboard) and followed.status_code in (200, 401)


def test_the_command_line_overrides_central_toml(tmp_path, db_url):
    with socket.socket() as taken:  # the file's port is busy: --port 0 must win
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        config = write_central_toml(
            tmp_path / "central.toml", db_url, tmp_path / "backups", host="127.0.0.1", port=busy
        )
        with ServeProcess(config) as server:
            assert not server.url.endswith(f":{busy}/")


def test_a_busy_port_is_refused_before_anything_is_printed_as_listening(tmp_path, db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        busy = taken.getsockname()[1]
        config = write_central_toml(tmp_path / "central.toml", db_url, tmp_path / "backups")
        env = subprocess_env()
        env.pop("KIOSK_CENTRAL_DB", None)
        result = subprocess.run(
            [*command("kiosk-central", "central.cli"), "--config", str(config), "serve"]
            + ["--port", str(busy)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=REPO,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{busy}" in result.stderr
    assert "listening on" not in result.stderr


def test_metrics_count_what_a_real_sync_sent(tmp_path, db_url, config):
    db = CentralDB.open(db_url)
    kiosk = enrol(db, "lichfield", "library", "kiosk-1")
    idle = enrol(db, "lichfield", "library", "kiosk-idle")  # enrolled, never in contact
    desk = door(tmp_path / "kiosk-data", kiosk.device, kiosk.site)
    uids = register_families(desk, 5)
    week_of_taps(desk, uids)
    recorded = desk.store.highest_seq()
    desk.store.close()
    token_file = tmp_path / "token"
    token_file.write_text(kiosk.token + "\n")
    token_file.chmod(0o600)
    with ServeProcess(config) as server:
        endpoint = server.url.rstrip("/")
        result = kiosk_sync(tmp_path / "kiosk-data", endpoint, token_file)
        assert result.returncode == daemon.EXIT_OK, result.stderr
        # One event the server must refuse (an unknown type), sent as a kiosk would.
        bad = {"event_id": str(uuid.uuid4()), "seq": recorded + 1, "type": "door.opened"}
        answer = requests.post(
            endpoint + "/api/v1/events",
            json={"events": [bad]},
            headers={"Authorization": f"Bearer {kiosk.token}"},
            timeout=10,
        )
        assert [r["status"] for r in answer.json()["results"]] == ["rejected"]

        text = requests.get(
            server.url + "metrics", headers={"Authorization": f"Bearer {SECRET}"}, timeout=10
        ).text

    assert db.count(events) == recorded and db.count(rejections) == 1  # the server's own count
    assert metric(text, "doorstep_central_events_ingested", "kiosk-1") == recorded
    assert metric(text, "doorstep_central_events_rejected", "kiosk-1") == 1
    assert metric(text, "doorstep_central_events_ingested", idle.device) == 0
    assert 0 <= metric(text, "doorstep_central_device_last_contact_seconds", "kiosk-1") < 120
    assert f'doorstep_central_device_last_contact_seconds{{device="{idle.device}"' not in text
    assert metric(text, "doorstep_central_up") == 1
    assert "# TYPE doorstep_central_events_ingested gauge" in text
    db.close()


def test_metrics_need_the_secret_as_a_bearer_token(config):
    with ServeProcess(config) as server:
        url = server.url + "metrics"
        assert requests.get(url, timeout=5).status_code == 401
        wrong = {"Authorization": "Bearer " + SECRET[:-1] + "y"}
        assert requests.get(url, headers=wrong, timeout=5).status_code == 401
        right = requests.get(url, headers={"Authorization": f"Bearer {SECRET}"}, timeout=5)
        assert right.status_code == 200
        assert right.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_the_address_line_puts_an_ipv6_address_in_brackets():
    from central.serving import base_url

    assert base_url("::1", 8700, tls=False) == "http://[::1]:8700/"
    assert base_url("127.0.0.1", 8700, tls=True) == "https://127.0.0.1:8700/"
    assert base_url("central.lan", 80, tls=False) == "http://central.lan:80/"
