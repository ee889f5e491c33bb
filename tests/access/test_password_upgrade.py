"""Dashboard passwords hashed before argon2id still sign in, and the login stores an argon2id
hash of them in place of the old one; a malformed stored hash refuses the login, never a 500."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select, update

from central.db import users, web_sessions
from tests.access.helpers import log_in

#: central.db.hash_password("old dashboard pw") before argon2id (scrypt, hex, N=2**14).
OLD_HASH = (
    "scrypt$16384$8$1$000102030405060708090a0b0c0d0e0f$"
    "d30c8e11a6498ec664dd8ae51baed9ac9e86b698bdfead33f7865248714a86e0"
)
OLD_PASSWORD = "old dashboard pw"
PAGE = "/dashboard/org/lichfield?month=2016-04"


def stored_hash(db, name: str = "olga") -> str:
    with db.engine.connect() as conn:
        return conn.execute(select(users.c.password_hash).where(users.c.name == name)).scalar()


def set_hash(db, value: str, name: str = "olga") -> None:
    with db.engine.begin() as conn:
        conn.execute(update(users).where(users.c.name == name).values(password_hash=value))


def olga(db, stored: str = OLD_HASH) -> None:
    db.add_org("lichfield")
    db.add_user("olga", "staff", "lichfield")
    set_hash(db, stored)


def test_a_user_with_an_old_scrypt_hash_signs_in_and_is_moved_to_argon2id(client, db):
    olga(db)
    r = log_in(client, "olga", OLD_PASSWORD)
    assert r.status_code == 303
    upgraded = stored_hash(db)
    assert upgraded.startswith("$argon2id$") and OLD_PASSWORD not in upgraded
    # The session opened by that login is on the new hash, so it keeps working.
    assert client.get(PAGE, follow_redirects=False).status_code == 200
    client.cookies.clear()
    assert log_in(client, "olga", OLD_PASSWORD).status_code == 303
    assert stored_hash(db) == upgraded  # an argon2id hash is not replaced again
    client.cookies.clear()
    assert log_in(client, "olga", OLD_PASSWORD + "x").status_code == 401


def test_a_wrong_password_leaves_the_old_hash_alone(client, db):
    olga(db)
    assert log_in(client, "olga", "not the password").status_code == 401
    assert stored_hash(db) == OLD_HASH


def test_basic_credentials_upgrade_the_hash_too(client, db):
    olga(db)
    token = base64.b64encode(f"olga:{OLD_PASSWORD}".encode()).decode()
    r = client.get(PAGE, headers={"Authorization": f"Basic {token}"}, follow_redirects=False)
    assert r.status_code == 200
    assert stored_hash(db).startswith("$argon2id$")


def test_open_sessions_survive_the_upgrade(client, db):
    olga(db)
    # A session opened before this server hashed with argon2id: it was issued on the old hash.
    cookie = client.app.state.sessions.issue("olga", OLD_HASH)
    assert log_in(client, "olga", OLD_PASSWORD).status_code == 303  # upgrades the hash
    assert stored_hash(db).startswith("$argon2id$")
    client.cookies.clear()
    client.cookies.set("doorstep_session", cookie, path="/dashboard")
    assert client.get(PAGE, follow_redirects=False).status_code == 200
    assert db.count(web_sessions, user_name="olga") == 2


@pytest.mark.parametrize(
    "bad", ["scrypt$16384$8$1$zz$zz", "scrypt$16384$8$1$00", "$argon2id$v=19$garbage", "plain"]
)
def test_a_malformed_stored_hash_refuses_the_login_without_a_server_error(client, db, bad):
    olga(db, bad)
    assert log_in(client, "olga", OLD_PASSWORD).status_code == 401
    token = base64.b64encode(f"olga:{OLD_PASSWORD}".encode()).decode()
    r = client.get(PAGE, headers={"Authorization": f"Basic {token}"}, follow_redirects=False)
    assert r.status_code == 401
    assert stored_hash(db) == bad
