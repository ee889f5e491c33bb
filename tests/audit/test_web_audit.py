"""The dashboard leaves a row for every sign-in, page shown and file taken."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.audit import entries, verify
from tests.access.helpers import basic, log_in, seed_county


@pytest.fixture
def county(db):
    return seed_county(db)


@pytest.fixture
def client(db):
    with TestClient(create_app(db), base_url="http://testserver") as c:
        yield c


def test_sign_in_pages_downloads_and_sign_out_are_logged(client, county, db):
    assert log_in(client, "carol", county.passwords["carol"]).status_code == 303
    client.get("/dashboard?month=2016-04")
    client.get("/dashboard/org/lichfield?month=2016-04")
    client.get("/dashboard/org/lichfield/invoice.pdf?month=2016-04")
    client.get("/dashboard/org/lichfield/register?date=2016-04-04")
    client.get("/dashboard/all/reach.csv?month=2016-04")
    client.post("/dashboard/logout")
    rows = [(e.actor, e.action, e.subject, e.detail) for e in entries(db)]
    assert [r[:3] for r in rows] == [
        ("carol", "login.ok", "carol"),
        ("carol", "report.view", "all"),
        ("carol", "report.view", "lichfield"),
        ("carol", "report.download", "lichfield"),
        ("carol", "report.view", "lichfield"),
        ("carol", "report.download", "all"),
        ("carol", "logout", "carol"),
    ]
    assert rows[3][3] == {
        "report": "invoice",
        "format": "pdf",
        "month": "2016-04",
        "names": False,
        "lines": True,  # the commissioner's PDF has the lines
        "via": "web",
    }
    assert rows[4][3]["page"] == "register" and rows[4][3]["date"] == "2016-04-04"
    assert all(r[3].get("names") is False for r in rows[1:6])
    assert verify(db).ok


def test_basic_credentials_log_each_page_by_its_user_not_as_a_new_login(client, county, db):
    who = basic("alice", county.passwords["alice"])
    client.get("/dashboard/org/lichfield/register.csv?date=2016-04-04", headers=who)
    [row] = entries(db)
    assert (row.actor, row.action, row.detail["names"]) == ("alice", "report.download", True)
