"""Logins against a real ``kiosk-central serve`` process over HTTP: a client
cannot choose its address with ``X-Forwarded-For`` unless a proxy is configured, logout ends
the session, and a login posted from another site is refused."""

from __future__ import annotations

import subprocess

import pytest
import requests

from central.audit import entries
from central.db import CentralDB
from tests.sync.servers import CentralServer, command, subprocess_env

LIMIT = 20  # failed logins from one address in 15 minutes (central.web.auth.ADDRESS_LIMIT)


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'central.sqlite3'}"


@pytest.fixture
def password(url) -> str:
    db = CentralDB.open(url)
    try:
        db.add_org("lichfield")
        return db.add_user("alice", "staff", "lichfield")
    finally:
        db.close()


def login(base: str, name: str, password: str, **headers: str) -> requests.Response:
    return requests.post(
        f"{base}/dashboard/login",
        data={"name": name, "password": password, "next": "/dashboard"},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )


def test_x_forwarded_for_from_a_client_is_not_believed_by_default(tmp_path, url, password):
    with CentralServer(url, tmp_path / "server.log") as server:
        for n in range(LIMIT):  # each guess claims to come from somewhere else
            r = login(server.url, f"guess{n}", "wrong", **{"X-Forwarded-For": f"198.51.100.{n}"})
            assert r.status_code == 401
        r = login(server.url, "alice", password, **{"X-Forwarded-For": "198.51.100.250"})
        assert r.status_code == 429 and "Retry-After" in r.headers
    db = CentralDB.open(url)
    try:
        failed = [e.detail["address"] for e in entries(db, action="login.failed")]
    finally:
        db.close()
    assert failed == ["127.0.0.1"] * LIMIT  # the audit log has the real address too


def test_behind_a_configured_proxy_the_address_the_proxy_saw_counts(tmp_path, url, password):
    server = CentralServer(
        url, tmp_path / "server.log", extra=("--forwarded-allow-ips", "127.0.0.1")
    )
    with server:
        for n in range(LIMIT):
            # The client wrote its own X-Forwarded-For; the proxy appended what it saw.
            spoofed = f"192.0.2.{n}, 203.0.113.7"
            r = login(server.url, f"guess{n}", "wrong", **{"X-Forwarded-For": spoofed})
            assert r.status_code == 401
        throttled = login(server.url, "alice", password, **{"X-Forwarded-For": "203.0.113.7"})
        assert throttled.status_code == 429
        # Someone else behind the same proxy is not locked out with them.
        other = login(server.url, "alice", password, **{"X-Forwarded-For": "203.0.113.8"})
        assert other.status_code == 303


def test_a_bad_forwarded_allow_ips_is_refused_by_name():
    done = subprocess.run(
        [*command("kiosk-central", "central.cli"), "serve", "--forwarded-allow-ips", "proxy1"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert done.returncode == 2
    assert "'proxy1' is not an IP address or network" in done.stderr


def test_logout_ends_the_session_on_the_server(tmp_path, url, password):
    page = "/dashboard/org/lichfield"
    with CentralServer(url, tmp_path / "server.log") as server:
        browser = requests.Session()
        r = browser.post(
            f"{server.url}/dashboard/login",
            data={"name": "alice", "password": password, "next": page},
            headers={"Origin": server.url},
            allow_redirects=False,
            timeout=30,
        )
        assert r.status_code == 303
        cookie = r.cookies["doorstep_session"]
        assert browser.get(server.url + page, allow_redirects=False).status_code == 200
        out = browser.post(
            f"{server.url}/dashboard/logout", headers={"Origin": server.url}, timeout=30
        )
        assert out.url.endswith("/dashboard/login")
        stolen = requests.get(
            server.url + page,
            cookies={"doorstep_session": cookie},
            allow_redirects=False,
            timeout=30,
        )
        assert stolen.status_code == 303
        assert stolen.headers["location"].startswith("/dashboard/login")


def test_a_login_from_another_sites_page_is_refused(tmp_path, url, password):
    with CentralServer(url, tmp_path / "server.log") as server:
        r = login(server.url, "alice", password, Origin="https://evil.example")
        assert r.status_code == 403
        assert "doorstep_session" not in r.cookies
        assert "https://evil.example" in r.text and server.url in r.text
        assert login(server.url, "alice", password, Origin=server.url).status_code == 303
