"""Dashboard sessions are kept by the server: logout, a new password,
disabling the user and the 8-hour expiry end them; the cookie's id is stored only as a hash;
a POST from another site's page (login CSRF) is refused."""

from __future__ import annotations

import hashlib

from sqlalchemy import inspect, select, text

from central import db as central_db
from central.cli import main
from central.db import CentralDB, web_sessions
from tests.access.helpers import log_in
from tests.schema_history import rewind, upgrade_again

PAGE = "/dashboard/org/lichfield?month=2016-04"
OURS = "http://testserver"


def signed_in(client, county, name: str = "alice") -> str:
    r = log_in(client, name, county.passwords[name])
    assert r.status_code == 303
    cookie = r.cookies.get("doorstep_session")
    assert cookie
    assert client.get(PAGE, follow_redirects=False).status_code == 200
    return cookie


def opens_page(client, cookie: str) -> bool:
    client.cookies.set("doorstep_session", cookie, path="/dashboard")
    r = client.get(PAGE, follow_redirects=False)
    if r.status_code == 303:
        assert r.headers["location"].startswith("/dashboard/login")
        return False
    assert r.status_code == 200
    return True


def test_a_cookie_kept_after_logout_opens_nothing(client, county):
    cookie = signed_in(client, county)
    r = client.post("/dashboard/logout", headers={"Origin": OURS}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    assert not opens_page(client, cookie)  # sent again by hand, as a thief would


def test_logging_out_one_browser_leaves_the_others_signed_in(client, county):
    first = signed_in(client, county)
    second = signed_in(client, county)
    client.cookies.set("doorstep_session", first, path="/dashboard")
    client.post("/dashboard/logout", follow_redirects=False)
    assert not opens_page(client, first)
    assert opens_page(client, second)


def test_only_a_hash_of_the_session_id_is_stored(client, county, db):
    cookie = signed_in(client, county)
    with db.engine.connect() as conn:
        rows = conn.execute(select(web_sessions)).all()
    assert [r.id_hash for r in rows] == [hashlib.sha256(cookie.encode()).hexdigest()]
    assert all(cookie not in str(tuple(r)) for r in rows)


def test_a_session_expires_after_eight_hours(client, county, clock):
    client.app.state.sessions.clock = clock
    cookie = signed_in(client, county)
    clock.advance(hours=7, minutes=59)
    assert opens_page(client, cookie)
    clock.advance(minutes=1)
    assert not opens_page(client, cookie)


def test_expired_sessions_are_deleted_when_the_next_one_opens(client, county, clock, db):
    client.app.state.sessions.clock = clock
    signed_in(client, county)
    clock.advance(hours=9)
    signed_in(client, county, "carol")
    assert db.count(web_sessions) == 1


def test_a_new_password_ends_the_users_sessions(client, county, db_url, capsys):
    cookie = signed_in(client, county)
    other = signed_in(client, county, "carol")
    assert main(["--db", db_url, "user", "reset-password", "alice"]) == 0
    out, err = capsys.readouterr()
    new_password = out.strip()
    assert new_password and new_password != county.passwords["alice"]
    assert "sessions are ended" in err
    assert not opens_page(client, cookie)
    assert opens_page(client, other)  # carol's are hers
    assert log_in(client, "alice", county.passwords["alice"]).status_code == 401
    assert log_in(client, "alice", new_password).status_code == 303


def test_a_password_changed_any_other_way_ends_the_sessions_too(client, county, db):
    cookie = signed_in(client, county)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE users SET password_hash = :h WHERE name = 'alice'"),
            {"h": central_db.hash_password("changed-by-hand")},
        )
    assert not opens_page(client, cookie)


def test_disabling_a_user_ends_their_sessions(client, county, db):
    cookie = signed_in(client, county)
    assert db.disable_user("alice")
    assert db.count(web_sessions, user_name="alice") == 0
    assert not opens_page(client, cookie)


def test_reset_password_of_an_unknown_user_says_so(db_url, db, capsys):
    assert main(["--db", db_url, "user", "reset-password", "nobody"]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err


def test_a_login_posted_from_another_sites_page_is_refused(client, county):
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed frame, or a page that hides its address
        {"Origin": "http://testserver:8080"},  # another port is another site
        {"Origin": "https://testserver"},  # and another scheme
        {"Referer": "https://evil.example/login-as-me.html"},  # no Origin: the Referer
    ):
        r = client.post(
            "/dashboard/login",
            data={"name": "alice", "password": county.passwords["alice"], "next": "/dashboard"},
            headers=headers,
            follow_redirects=False,
        )
        assert r.status_code == 403, headers
        assert "doorstep_session" not in r.cookies
        assert "Sent from another site" in r.text and "not from this server" in r.text
        assert "http://testserver" in r.text
    r = client.post(
        "/dashboard/login",
        data={"name": "alice", "password": county.passwords["alice"], "next": "/dashboard"},
        headers={"Origin": OURS, "Referer": "https://evil.example/"},  # Origin decides
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.cookies.get("doorstep_session")
    r = client.post(
        "/dashboard/logout", headers={"Referer": f"{OURS}{PAGE}"}, follow_redirects=False
    )
    assert r.status_code == 303


def test_a_logout_posted_from_another_site_is_refused_and_the_session_stays(client, county):
    cookie = signed_in(client, county)
    r = client.post(
        "/dashboard/logout", headers={"Origin": "https://evil.example"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert opens_page(client, cookie)


def test_the_kiosk_api_is_not_held_to_the_dashboards_origin_rule(client, db):
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    token = db.add_device("lichfield", "library", "kiosk-9")
    r = client.post(
        "/api/v1/events",
        json={"events": []},
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert r.status_code == 200


def test_migration_10_gives_an_older_database_the_sessions_table(db_url, db):
    rewind(db, 9)  # back to what a version 9 server made
    with db.engine.connect() as conn:
        assert "web_sessions" not in inspect(conn).get_table_names()
    again = CentralDB.open(db_url)  # migrates
    try:
        assert again.schema_version() == central_db.LATEST_VERSION
        with again.engine.connect() as conn:
            assert "web_sessions" in inspect(conn).get_table_names()
        assert upgrade_again(again) == ("0012", "0012")  # nothing left to do
    finally:
        again.close()
