"""Login throttling: 5 failures for a name (or 20 from an address) in 15 minutes, then 429."""

from __future__ import annotations

from fastapi.testclient import TestClient

from central.app import create_app
from central.audit import entries
from central.db import CentralDB, login_failures
from tests.access.helpers import basic, log_in

REGISTER = "/dashboard/org/lichfield/register?date=2016-04-04"


def test_the_sixth_failed_login_is_refused_with_429_even_with_the_right_password(
    client, county, clock
):
    for _ in range(5):
        assert log_in(client, "alice", "not-it").status_code == 401
    r = log_in(client, "alice", county.passwords["alice"])
    assert r.status_code == 429
    assert r.headers["Retry-After"] == str(15 * 60)
    assert "doorstep_session" not in r.cookies
    assert "Try again in 15 minutes" in r.text
    # HTTP Basic is held to the same count, on every page.
    r = client.get(REGISTER, headers=basic("alice", county.passwords["alice"]))
    assert r.status_code == 429 and r.headers["Retry-After"] == str(15 * 60)
    r = client.get("/dashboard/login/basic", headers=basic("alice", county.passwords["alice"]))
    assert r.status_code == 429


def test_the_wait_counts_down_and_the_limit_resets_after_the_window(client, county, clock):
    for _ in range(5):
        log_in(client, "alice", "not-it")
        clock.advance(minutes=1)
    # The oldest failure was 5 minutes ago: it leaves the window in 10 minutes.
    r = log_in(client, "alice", county.passwords["alice"])
    assert r.status_code == 429 and r.headers["Retry-After"] == str(10 * 60)
    clock.advance(minutes=10)
    assert log_in(client, "alice", county.passwords["alice"]).status_code == 303


def test_a_right_password_before_the_limit_clears_the_count(client, county, clock):
    for _ in range(4):
        log_in(client, "alice", "not-it")
    assert log_in(client, "alice", county.passwords["alice"]).status_code == 303
    for _ in range(4):
        assert log_in(client, "alice", "not-it").status_code == 401
    assert log_in(client, "alice", county.passwords["alice"]).status_code == 303


def test_one_name_throttled_does_not_lock_out_another(client, county):
    for _ in range(5):
        log_in(client, "alice", "not-it")
    assert log_in(client, "alice", county.passwords["alice"]).status_code == 429
    assert log_in(client, "carol", county.passwords["carol"]).status_code == 303


def test_twenty_failures_from_one_address_refuse_every_name_from_it(client, county, clock):
    for i in range(20):
        assert log_in(client, f"guess{i}", "not-it").status_code == 401
    r = log_in(client, "carol", county.passwords["carol"])
    assert r.status_code == 429 and int(r.headers["Retry-After"]) == 15 * 60
    clock.advance(minutes=15, seconds=1)
    assert log_in(client, "carol", county.passwords["carol"]).status_code == 303


def test_failed_basic_credentials_count_too(client, county):
    for _ in range(5):
        r = client.get(REGISTER, headers=basic("alice", "not-it"))
        assert r.status_code == 401
    r = client.get(REGISTER, headers=basic("alice", county.passwords["alice"]))
    assert r.status_code == 429


def test_the_count_is_shared_by_every_server_process(db_url, db, client, county, clock):
    for _ in range(5):
        log_in(client, "alice", "not-it")
    other_db = CentralDB.open(db_url)  # another server process: its own connections
    try:
        app = create_app(other_db)
        app.state.login_throttle.clock = clock
        with TestClient(app, base_url="http://testserver") as other:
            assert log_in(other, "alice", county.passwords["alice"]).status_code == 429
    finally:
        other_db.close()


def test_old_failures_are_pruned_from_the_table(client, county, clock, db):
    for _ in range(3):
        log_in(client, "alice", "not-it")
    clock.advance(minutes=16)
    log_in(client, "bob", "not-it")
    assert db.count(login_failures) == 1


def test_logins_failures_and_refusals_are_audited_without_the_password(client, county, db):
    wrong = "hunter2-wrong"
    for _ in range(5):
        log_in(client, "alice", wrong)
    log_in(client, "alice", county.passwords["alice"])
    log_in(client, "carol", county.passwords["carol"])
    log_in(client, "not-a-user", wrong)
    rows = list(entries(db, action="login"))
    assert [(e.action, e.actor, e.subject) for e in rows] == [
        *[("login.failed", "anonymous", "alice")] * 5,
        ("login.throttled", "anonymous", "alice"),
        ("login.ok", "carol", "carol"),
        ("login.failed", "anonymous", "(not a user)"),
    ]
    assert rows[5].detail["retry_after"] == 900
    assert all(e.detail["via"] == "form" and e.detail["address"] for e in rows)
    everything = "".join(e.line() for e in entries(db))
    assert wrong not in everything and county.passwords["carol"] not in everything
    assert "not-a-user" not in everything
