"""``kiosk-central``: enrolment commands, their messages, and ``serve`` with no set-up."""

from __future__ import annotations

import subprocess

import requests

from central.cli import main
from central.db import LATEST_VERSION, CentralDB, users
from tests.helpers import wait_for
from tests.sync.servers import REPO, command, free_port, subprocess_env


def run(capsys, db_url: str, *args: str) -> tuple[int, str, str]:
    status = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_enrolment_prints_the_device_token_alone_on_stdout(capsys, db_url):
    assert run(capsys, db_url, "org", "add", "lichfield")[0] == 0
    assert run(capsys, db_url, "site", "add", "lichfield", "library")[0] == 0
    status, out, err = run(capsys, db_url, "device", "add", "lichfield", "library", "kiosk-1")
    assert status == 0
    token = out.strip()
    assert out == token + "\n" and len(token) > 40
    assert "not shown again" in err
    db = CentralDB.open(db_url)
    assert db.device_for_token(token).device_id == "kiosk-1"
    db.close()


def test_mistakes_get_a_clear_message_and_status_1(capsys, db_url):
    run(capsys, db_url, "org", "add", "lichfield")
    status, out, err = run(capsys, db_url, "org", "add", "lichfield")
    assert (status, out) == (1, "")
    assert "organisation 'lichfield' already exists" in err
    status, _, err = run(capsys, db_url, "site", "add", "tamworth", "library")
    assert status == 1 and "no organisation 'tamworth'" in err
    status, _, err = run(capsys, db_url, "device", "add", "lichfield", "pool", "kiosk-1")
    assert status == 1 and "has no site 'pool'" in err
    status, _, err = run(capsys, db_url, "device", "revoke", "kiosk-1")
    assert status == 1 and "no device 'kiosk-1'" in err


def test_revoke_and_list_devices(capsys, db_url):
    run(capsys, db_url, "org", "add", "lichfield")
    run(capsys, db_url, "site", "add", "lichfield", "library")
    run(capsys, db_url, "device", "add", "lichfield", "library", "kiosk-1")
    assert run(capsys, db_url, "device", "revoke", "kiosk-1")[0] == 0
    status, out, _ = run(capsys, db_url, "device", "list")
    assert status == 0
    assert out.split("\t")[:4] == ["kiosk-1", "lichfield", "library", "revoked"]


def test_user_add_prints_a_password_once_and_stores_a_hash(capsys, db_url):
    run(capsys, db_url, "org", "add", "lichfield")
    status, out, err = run(
        capsys, db_url, "user", "add", "alice", "--role", "staff", "--org", "lichfield"
    )
    assert status == 0 and "shown once" in err
    password = out.strip()
    db = CentralDB.open(db_url)
    assert db.check_user("alice", password)["role"] == "staff"
    assert db.count(users) == 1
    db.close()
    status, _, err = run(capsys, db_url, "user", "add", "bob", "--role", "staff")
    assert status == 1 and "--org" in err


def test_serve_works_with_no_set_up(tmp_path):
    data = tmp_path / "central-data"
    port = free_port()
    env = subprocess_env(KIOSK_CENTRAL_DATA=str(data))
    env.pop("KIOSK_CENTRAL_DB", None)
    proc = subprocess.Popen(
        [*command("kiosk-central", "central.cli"), "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        answers: list[dict] = []

        def healthy() -> bool:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")[-2000:]
            try:
                answers.append(requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json())
            except requests.RequestException:
                return False
            return True

        wait_for(healthy, "kiosk-central serve to answer /healthz")
        assert answers[-1] == {"status": "ok", "schema_version": LATEST_VERSION}
        assert (data / "central.sqlite3").exists()
        spec = requests.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()
        assert "/api/v1/events" in spec["paths"]
    finally:
        proc.terminate()
        proc.wait(10)
