"""``POST /api/v1/status`` over the real app and database: bounded input refused with a 4xx
naming the field, the latest report kept per kiosk, last contact noted; migration 8; and
``kiosk-central device health``."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, inspect, select, update

from central import db as central_db
from central.app import create_app
from central.cli import main
from central.db import CentralDB, device_status, devices, utcnow
from sync.protocol import DEVICE_PATH, STATUS_PATH, status_report
from tests.schema_history import rewind, upgrade_again

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx versions
    from fastapi.testclient import TestClient


@pytest.fixture
def token(db) -> str:
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    return db.add_device("lichfield", "library", "kiosk-1")


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(create_app(db))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def report(**facts):
    """A status report as the syncer builds it: a kiosk with nothing wrong, unless told."""
    defaults = {
        "sent_at": utcnow(),
        "waiting": 0,
        "oldest_waiting_at": None,
        "rejected_reasons": [],
        "clock_synced": True,
        "software_version": "0.1.0",
    }
    return status_report(**{**defaults, **facts})


def body(**changes) -> dict:
    busy = report(
        waiting=2,
        oldest_waiting_at=utcnow() - timedelta(minutes=3),
        rejected_reasons=["data.qualifies: Input should be a valid boolean (got 'yes')"],
    )
    return {**busy.model_dump(mode="json"), **changes}


def stored(db: CentralDB) -> list:
    with db.engine.connect() as conn:
        return conn.execute(select(device_status)).all()


def test_a_report_is_kept_as_the_kiosks_latest_and_notes_the_contact(client, db, token):
    first = client.post(STATUS_PATH, json=body(), headers=auth(token))
    assert first.status_code == 200, first.text
    assert first.json()["received_at"].endswith("Z")
    second = client.post(
        STATUS_PATH, json=body(waiting=0, oldest_waiting_at=None), headers=auth(token)
    )
    assert second.status_code == 200
    [row] = stored(db)
    assert (row.device_id, row.waiting, row.oldest_waiting_at, row.rejected) == (
        "kiosk-1",
        0,
        None,
        1,
    )
    assert row.reasons == [
        {"reason": "data.qualifies: Input should be a valid boolean (got 'yes')", "count": 1}
    ]
    assert row.software_version == "0.1.0" and row.clock_synced is True
    [facts] = db.device_health_facts("lichfield")
    assert facts.last_contact == row.received_at


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"waiting": -1}, "waiting"),
        ({"waiting": 2**31}, "waiting"),
        ({"waiting": "3"}, "waiting"),
        ({"rejected": -2}, "rejected"),
        ({"clock_synced": "yes"}, "clock_synced"),
        ({"software_version": "1.0 (patched)"}, "software_version"),
        ({"software_version": "9" * 65}, "software_version"),
        ({"sent_at": "yesterday"}, "sent_at"),
        ({"sent_at": "2026-11-23 09:00:00Z"}, "sent_at"),
        ({"sent_at": 1764000000}, "sent_at"),
        ({"oldest_waiting_at": "2026-02-30T09:00:00Z"}, "oldest_waiting_at"),
        ({"oldest_waiting_at": "2026-11-23T09:00:00"}, "oldest_waiting_at"),
        ({"rejected_reasons": [{"reason": "x" * 301, "count": 1}]}, "reason"),
        ({"rejected_reasons": [{"reason": "a\x00b", "count": 1}]}, "reason"),
        ({"rejected_reasons": [{"reason": "late", "count": 0}]}, "count"),
        (
            {"rejected_reasons": [{"reason": f"r{n}", "count": 1} for n in range(21)]},
            "rejected_reasons",
        ),
        ({"conflicts": -1}, "conflicts"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_stores_nothing(client, db, token, change, field):
    response = client.post(STATUS_PATH, json=body(**change), headers=auth(token))
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert any(field in [str(p) for p in item["loc"]] for item in detail), detail
    assert stored(db) == []


def test_missing_fields_and_a_body_that_is_not_json_are_refused(client, db, token):
    response = client.post(STATUS_PATH, json={"waiting": 0}, headers=auth(token))
    assert response.status_code == 422
    missing = {item["loc"][-1] for item in response.json()["detail"]}
    assert {"sent_at", "rejected", "clock_synced", "software_version"} <= missing
    response = client.post(
        STATUS_PATH, content=b"waiting=1", headers={**auth(token), "Content-Type": "text/plain"}
    )
    assert response.status_code == 415 and "application/json" in response.json()["detail"]
    assert stored(db) == []


def test_no_token_or_a_revoked_one_is_refused(client, db, token):
    assert client.post(STATUS_PATH, json=body()).status_code == 401
    db.revoke_device("kiosk-1")
    response = client.post(STATUS_PATH, json=body(), headers=auth(token))
    assert response.status_code == 403 and "revoked" in response.json()["detail"]
    assert stored(db) == []


def test_a_clock_far_off_is_kept_within_range_and_shown_as_wrong(client, db, token):
    from central.health import device_health

    far = body(
        sent_at="0001-01-01T00:00:00+01:00",
        oldest_waiting_at="1969-07-20T20:17:00Z",
        rejected=0,
        rejected_reasons=[],
    )
    response = client.post(STATUS_PATH, json=far, headers=auth(token))
    assert response.status_code == 200, response.text  # how else would staff learn of it?
    [row] = stored(db)
    assert row.sent_at == row.oldest_waiting_at == datetime(1970, 1, 1, tzinfo=UTC)
    [facts] = db.device_health_facts("lichfield")
    health = device_health(facts, utcnow())
    assert health.level == "warn" and "Its clock is 20" in health.sentence
    assert "off the server's" in health.sentence


def test_a_newer_kiosk_may_say_more(client, db, token):
    response = client.post(STATUS_PATH, json=body(battery="low"), headers=auth(token))
    assert response.status_code == 200
    assert len(stored(db)) == 1


def test_whoami_notes_the_contact_at_most_once_a_minute(client, db, token):
    def seen() -> datetime | None:
        with db.engine.connect() as conn:
            return conn.execute(select(devices.c.last_seen_at)).scalar_one()

    assert seen() is None
    assert client.get(DEVICE_PATH, headers=auth(token)).status_code == 200
    first = seen()
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    assert client.get(DEVICE_PATH, headers=auth(token)).status_code == 200
    assert seen() == first  # a minute has not passed: no write
    with db.engine.begin() as conn:
        conn.execute(update(devices).values(last_seen_at=first - timedelta(minutes=5)))
    client.get(DEVICE_PATH, headers=auth(token))
    assert seen() > first - timedelta(minutes=5)


def test_refusals_stored_after_the_report_or_without_one_count_until_accepted(db, token):
    from kiosk.domain.events import DeviceIdentity
    from tests.sync.fakes import taps

    device = db.device_for_token(token)
    [good, bad] = [
        e.with_seq(n).to_dict()
        for n, e in enumerate(taps(DeviceIdentity("kiosk-1", "library"), 2), 1)
    ]
    broken = {**bad, "site_id": "elsewhere"}  # refused, naming the field
    db.ingest(device, [good, broken])
    [facts] = db.device_health_facts("lichfield")
    assert facts.report is None and [n for _r, n in facts.server_rejected] == [1]
    db.record_status(device, report(rejected_reasons=["x"]))
    [facts] = db.device_health_facts("lichfield")
    assert facts.server_rejected == ()  # the kiosk's report counted it already
    with db.engine.begin() as conn:
        conn.execute(delete(device_status))
    db.ingest(device, [bad])  # sent again, fixed: accepted with its seq
    [facts] = db.device_health_facts("lichfield")
    assert facts.server_rejected == ()


def test_migration_8_adds_the_status_table_to_an_older_database(db_url, db, token):
    rewind(db, 7)  # back to what a version 7 server made
    with db.engine.connect() as conn:
        assert "device_status" not in inspect(conn).get_table_names()
    again = CentralDB.open(db_url)  # migrates
    try:
        assert again.schema_version() == central_db.LATEST_VERSION
        with again.engine.connect() as conn:
            assert "device_status" in inspect(conn).get_table_names()
        assert upgrade_again(again) == ("0012", "0012")  # nothing left to do
        device = again.device_for_token(token)
        again.record_status(device, report(sent_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC)))
        assert len(stored(again)) == 1
    finally:
        again.close()


def test_kiosk_central_device_health_prints_a_line_per_kiosk(db_url, db, token, capsys):
    db.add_device("lichfield", "library", "kiosk-2")
    device = db.device_for_token(token)
    db.record_status(device, report())
    assert main(["--db", db_url, "device", "health", "--org", "lichfield"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "ok: kiosk-1 at lichfield/library: Working: in contact just now, nothing waiting.",
        "warn: kiosk-2 at lichfield/library: It has never been in contact with the server: "
        "switch it on and connect it to the network; on the kiosk, `kiosk-admin doctor` says "
        "what is wrong.",
    ]
    assert "2 kiosks: 1 OK, 1 needs attention" in err

    stuck = report(waiting=9, oldest_waiting_at=utcnow() - timedelta(hours=5))
    db.record_status(device, stuck)
    assert main(["--db", db_url, "device", "health"]) == 1  # a kiosk that fails: exit 1
    assert capsys.readouterr().out.startswith("fail: kiosk-1 at lichfield/library: 9 events")
    assert main(["--db", db_url, "device", "health", "--org", "nowhere"]) == 1
    assert "no organisation 'nowhere'" in capsys.readouterr().err


def test_erasing_a_family_takes_it_out_of_the_reasons_kiosks_reported(db, token):
    from central.privacy.erase import erase_family
    from kiosk.domain.events import DeviceIdentity
    from tests.sync.fakes import registration

    device = db.device_for_token(token)
    family, events_ = registration(DeviceIdentity("kiosk-1", "library"), name="Zephyrine")
    db.ingest(device, [e.with_seq(n).to_dict() for n, e in enumerate(events_, 1)])
    quoted = f"data.family.greeting_name: bad (got 'Zephyrine', family {family.family_id})"
    db.record_status(device, report(rejected_reasons=[quoted]))
    erased = erase_family(db, family.family_id, requested_by="alice")
    assert erased.erased["status_reports"] == 1
    [row] = stored(db)
    [reason] = row.reasons
    assert family.family_id not in reason["reason"] and "Zephyrine" not in reason["reason"]
    assert reason["count"] == 1
