"""The HTTP API in this process (FastAPI's test client over a real database)."""

from __future__ import annotations

import warnings

import pytest
from sqlalchemy import event

from central.app import create_app
from central.db.schema import events
from kiosk.domain.events import DeviceIdentity
from sync.protocol import (
    DEVICE_PATH,
    EVENTS_PATH,
    MAX_BATCH_EVENTS,
    ROSTER_PATH,
    RosterResponse,
)
from tests.sync.fakes import registration, taps

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient

KIOSK = DeviceIdentity("kiosk-1", "library")


@pytest.fixture
def token(db) -> str:
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    return db.add_device("lichfield", "library", "kiosk-1")


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(create_app(db, max_body_bytes=64 * 1024, max_batch_events=50))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def batch(n: int) -> list[dict]:
    return [e.with_seq(i + 1).to_dict() for i, e in enumerate(taps(KIOSK, n))]


def test_a_batch_is_answered_per_event_with_the_servers_watermark(client, token):
    response = client.post(EVENTS_PATH, json={"events": batch(5)}, headers=auth(token))
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["accepted"] * 5
    assert body["server_holds_up_to"] == {"kiosk-1": 5}


def test_no_token_is_401_and_says_what_to_send(client, token):
    response = client.post(EVENTS_PATH, json={"events": []})
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_unknown_token_is_401(client, token):
    response = client.get(ROSTER_PATH, headers=auth("dsk_guess"))
    assert response.status_code == 401
    assert "unknown device token" in response.json()["detail"]


def test_a_revoked_device_is_403(client, db, token):
    db.revoke_device("kiosk-1")
    response = client.post(EVENTS_PATH, json={"events": batch(1)}, headers=auth(token))
    assert response.status_code == 403
    assert "revoked" in response.json()["detail"]


def test_a_body_over_the_limit_is_413_before_it_is_read(client, token):
    response = client.post(
        EVENTS_PATH,
        content=b'{"events": [' + b" " * (65 * 1024) + b"]}",
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "send fewer events" in response.json()["detail"]


def test_a_streamed_body_over_the_limit_is_413_too(client, token):
    def chunks():
        yield b'{"events": ['
        for _ in range(100):
            yield b" " * 1024
        yield b"]}"

    response = client.post(
        EVENTS_PATH, content=chunks(), headers={**auth(token), "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_too_many_events_in_a_batch_is_413(client, token):
    response = client.post(
        EVENTS_PATH, json={"events": [{"event_id": str(i)} for i in range(51)]}, headers=auth(token)
    )
    assert response.status_code == 413
    assert "over the limit of 50" in response.json()["detail"]


def test_a_body_that_is_not_a_batch_is_422_naming_the_field(client, token):
    response = client.post(EVENTS_PATH, json={"events": "all of them"}, headers=auth(token))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "events"]


def test_the_device_endpoint_says_whom_the_token_belongs_to(client, token):
    client.post(EVENTS_PATH, json={"events": batch(3)}, headers=auth(token))
    assert client.get(DEVICE_PATH, headers=auth(token)).json() == {
        "device_id": "kiosk-1",
        "site_id": "library",
        "org_id": "lichfield",
        "holds_up_to": 3,
        "highest_seq": 3,
    }


def test_the_roster_rejects_a_negative_cursor(client, token):
    assert client.get(ROSTER_PATH, params={"cursor": -1}, headers=auth(token)).status_code == 422


def test_health_and_openapi(client):
    health = client.get("/healthz")
    assert health.json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert {EVENTS_PATH, ROSTER_PATH, DEVICE_PATH, "/healthz"} <= set(spec["paths"])
    post = spec["paths"][EVENTS_PATH]["post"]
    assert {"200", "401", "403", "413", "422"} <= set(post["responses"])


def test_the_default_limits_are_the_protocols(db):
    app = create_app(db)
    assert MAX_BATCH_EVENTS == 1000
    assert app.openapi()["info"]["title"] == "Doorstep central server"


def _checkouts(db) -> list[int]:
    """A list that grows by one with each connection taken from ``db``'s pool."""
    taken: list[int] = []
    event.listen(db.engine, "checkout", lambda *_: taken.append(1))
    return taken


def test_a_batch_takes_one_connection_for_its_token_and_its_events(client, db, token):
    taken = _checkouts(db)
    response = client.post(EVENTS_PATH, json={"events": batch(3)}, headers=auth(token))
    assert response.status_code == 200, response.text
    assert len(taken) == 1  # the token's lookup shares the batch's transaction
    assert db.count(events) == 3


def test_an_unknown_token_sends_no_events_and_writes_nothing(client, db, token):
    response = client.post(EVENTS_PATH, json={"events": batch(2)}, headers=auth("dsk_guess"))
    assert response.status_code == 401
    assert "unknown device token" in response.json()["detail"]
    assert db.count(events) == 0


def test_too_many_events_from_an_unknown_token_is_still_401(client, db, token):
    response = client.post(EVENTS_PATH, json={"events": batch(51)}, headers=auth("dsk_guess"))
    assert response.status_code == 401


def test_too_many_events_from_a_kiosk_is_413_and_writes_nothing(client, db, token):
    response = client.post(EVENTS_PATH, json={"events": batch(51)}, headers=auth(token))
    assert response.status_code == 413
    assert "over the limit of 50" in response.json()["detail"]
    assert db.count(events) == 0


def test_a_roster_page_and_the_device_answer_take_one_connection_each(client, db, token):
    assert client.get(DEVICE_PATH, headers=auth(token)).status_code == 200  # first contact
    assert client.get(ROSTER_PATH, headers=auth(token)).status_code == 200  # makes the epoch
    taken = _checkouts(db)
    page = client.get(ROSTER_PATH, headers=auth(token))
    assert page.status_code == 200, page.text
    assert len(taken) == 1  # token, page, epoch and highest cursor together
    answer = client.get(DEVICE_PATH, headers=auth(token))
    assert answer.status_code == 200, answer.text
    assert len(taken) == 2  # token, holds and highest seq together (contact noted a moment ago)
    assert answer.json()["holds_up_to"] == 0 and answer.json()["highest_seq"] == 0


def test_a_roster_answer_carries_the_events_as_sent_spliced_in_unparsed(client, db, token):
    _family, sent = registration(KIOSK, uid="04A23B1C", name='Zoë O\'Neill "Jo"')
    raws = [e.with_seq(n).to_dict() for n, e in enumerate(sent, start=1)]
    assert client.post(EVENTS_PATH, json={"events": raws}, headers=auth(token)).status_code == 200
    other = db.add_device("lichfield", "library", "kiosk-2")
    page = client.get(ROSTER_PATH, params={"erasures_after": 0}, headers=auth(other))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "application/json"
    body = page.json()
    assert body["events"] == raws  # every field, the accents and quotes included
    assert body["more"] is False and body["cursor"] > 0 and body["max_cursor"] == body["cursor"]
    assert body["erasures"] == [] and body["epoch"]
    assert RosterResponse.model_validate(body).events == raws
    empty = client.get(ROSTER_PATH, params={"cursor": body["cursor"]}, headers=auth(other))
    assert empty.json()["events"] == [] and empty.json()["erasures"] is None


def test_a_roster_answer_whose_events_are_not_first_is_refused_loudly():
    from central.app import with_events

    class Reordered(RosterResponse):
        def model_dump_json(self, **_kw) -> str:  # type: ignore[override]
            return '{"cursor":0,"events":[]}'

    with pytest.raises(AssertionError, match="must begin with"):
        with_events(Reordered(events=[], cursor=0), ['{"a":1}'])
