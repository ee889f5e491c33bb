"""Kiosk health end to end: real kiosk stores (DoorDesk over LocalStore), the real sync client
and syncer, a real central server process, and its dashboard read over HTTP.

Each kiosk tells the server how it is after a pass (``POST /api/v1/status``); the organisation
page's "Kiosk health" panel says OK only for a kiosk with nothing refused, nothing stuck, its
clock synchronised and in contact; another organisation's staff never see it; and a server
that does not know the endpoint (an older release) costs the kiosk nothing.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, update

from central.db import CentralDB, device_status, devices, events, utcnow
from kiosk.domain.desk import DoorDesk
from sync.client import SyncClient
from sync.protocol import STATUS_PATH
from sync.syncer import Syncer
from tests.helpers import wait_for
from tests.sync.servers import MONDAY, door, free_port, register_families

pytestmark = pytest.mark.usefixtures("clock_synced")


@pytest.fixture
def clock_synced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's answer is the test machine's: say what a kiosk with NTP would say."""
    monkeypatch.setenv("KIOSK_CLOCK_SYNCED", "1")


def basic(name: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def sync(desk: DoorDesk, url: str, token: str) -> None:
    report = Syncer(desk.store, SyncClient(url, token, timeout=(2.0, 10.0))).run_pass()
    assert report.outcome == "ok", report.error


def kiosk_rows(page: str) -> dict[str, str]:
    """The panel's text for each kiosk (its ``<tbody id="kiosk-...">``)."""
    out = {}
    for part in page.split('<tbody class="health__kiosk" id="kiosk-')[1:]:
        name, _, rest = part.partition('"')
        out[name] = rest.split("</tbody>")[0]
    return out


@pytest.fixture
def county(central, tmp_path: Path):
    """lichfield: kiosk-1 healthy, kiosk-2 with an attendance the server refused (the family
    belongs to tamworth: kiosk-2 still had families from when it stood there); tamworth:
    tam-1. Staff alice (lichfield) and tess (tamworth), commissioner carol."""
    one = central.enrol("kiosk-1", "library", "lichfield")
    two = central.enrol("kiosk-2", "hall", "lichfield")
    tam = central.enrol("tam-1", "hub", "tamworth")
    desk_one = door(tmp_path / "one", one.device, one.site)
    desk_two = door(tmp_path / "two", two.device, two.site)
    desk_tam = door(tmp_path / "tam", tam.device, tam.site)

    [uid] = register_families(desk_one, 1, prefix="A")
    assert desk_one.tap(uid, MONDAY + timedelta(minutes=5)).kind == "welcome"
    sync(desk_one, central.url, one.token)

    [tam_uid] = register_families(desk_tam, 1, prefix="D")
    sync(desk_tam, central.url, tam.token)
    # kiosk-2 knows tamworth's family (moved between organisations without a fresh store):
    # its tap is about a family of another organisation, which the server refuses.
    desk_two.store.apply_remote(list(desk_tam.store.events()))
    [own] = register_families(desk_two, 1, prefix="B")
    assert desk_two.tap(own, MONDAY + timedelta(minutes=6)).kind == "welcome"
    assert desk_two.tap(tam_uid, MONDAY + timedelta(minutes=7)).kind == "welcome"
    sync(desk_two, central.url, two.token)
    assert len(desk_two.store.rejected()) == 1

    passwords = {
        "alice": central.db.add_user("alice", "staff", "lichfield"),
        "tess": central.db.add_user("tess", "staff", "tamworth"),
        "carol": central.db.add_user("carol", "commissioner"),
    }
    return passwords, {"kiosk-1": desk_one, "kiosk-2": desk_two, "tam-1": desk_tam}


def panel(central, who: tuple[str, str], org: str = "lichfield") -> requests.Response:
    return requests.get(
        f"{central.url}/dashboard/org/{org}?month=2026-11", headers=basic(*who), timeout=30
    )


def test_the_panel_says_ok_only_for_the_healthy_kiosk(central, county):
    passwords, _desks = county
    page = panel(central, ("alice", passwords["alice"]))
    assert page.status_code == 200
    assert "Kiosk health" in page.text
    rows = kiosk_rows(page.text)
    assert set(rows) == {"kiosk-1", "kiosk-2"}

    healthy = rows["kiosk-1"]
    assert '<span class="state state--ok">OK</span>' in healthy
    assert "just now" in healthy and "synchronised" in healthy and "Working" in healthy

    refused = rows["kiosk-2"]
    assert '<span class="state state--fail">Not working</span>' in refused
    assert "OK</span>" not in refused
    assert "1 event refused by the server" in refused
    assert "another organisation" in refused  # the reason in plain words
    assert "fix the cause, then on the kiosk run <code>kiosk-admin rejected retry</code>" in (
        refused
    )
    assert "belongs to another organisation" in refused  # staff see the server's own words
    assert "2 kiosks: 1 OK, 1 not working" in page.text


def test_the_kiosk_reported_what_its_store_holds(central, county):
    _passwords, desks = county
    facts = {f.device_id: f for f in central.db.device_health_facts("lichfield")}
    health_one, health_two = facts["kiosk-1"], facts["kiosk-2"]
    assert health_one.report.waiting == 0 and health_one.report.rejected == 0
    assert health_one.report.clock_synced is True
    assert health_one.report.software_version  # the installed release, or "unknown"
    assert health_two.report.rejected == 1
    [(reason, count)] = health_two.report.reasons
    assert count == 1 and reason == desks["kiosk-2"].store.rejected()[0]["reason"][:300]
    assert health_one.last_contact is not None and utcnow() - health_one.last_contact < (
        timedelta(minutes=5)
    )


def test_without_a_report_the_servers_own_record_of_refusals_still_counts(central, county):
    passwords, _desks = county
    with central.db.engine.begin() as conn:  # as if kiosk-2 ran software from before reports
        conn.execute(device_status.delete().where(device_status.c.device_id == "kiosk-2"))
    row = kiosk_rows(panel(central, ("alice", passwords["alice"])).text)["kiosk-2"]
    assert "Not working" in row and "OK</span>" not in row
    assert "1 event refused by the server" in row
    assert "never said how it is" in row
    assert "belongs to another organisation" in row  # the reason the server stored


def test_a_kiosk_out_of_contact_for_days_is_not_ok(central, county, tmp_path):
    passwords, _desks = county
    quiet = central.enrol("kiosk-3", "library", "lichfield")
    desk = door(tmp_path / "three", quiet.device, quiet.site)
    register_families(desk, 1, prefix="E")
    sync(desk, central.url, quiet.token)
    central.enrol("kiosk-4", "library", "lichfield")  # enrolled, never switched on
    three_days_ago = utcnow() - timedelta(days=3)
    with central.db.engine.begin() as conn:  # three days pass without a word from kiosk-3
        conn.execute(
            update(devices)
            .where(devices.c.device_id == "kiosk-3")
            .values(last_seen_at=three_days_ago)
        )
        conn.execute(
            update(device_status)
            .where(device_status.c.device_id == "kiosk-3")
            .values(received_at=three_days_ago, sent_at=three_days_ago)
        )
    rows = kiosk_rows(panel(central, ("alice", passwords["alice"])).text)
    assert "Needs attention" in rows["kiosk-3"] and "OK</span>" not in rows["kiosk-3"]
    assert "not been in contact for 3 days" in rows["kiosk-3"]
    assert "3 days ago" in rows["kiosk-3"]
    assert "never been in contact" in rows["kiosk-4"] and "OK</span>" not in rows["kiosk-4"]


def test_another_organisations_staff_cannot_see_the_panel(central, county):
    passwords, _desks = county
    tess = ("tess", passwords["tess"])
    refused = panel(central, tess, "lichfield")
    assert refused.status_code == 403
    assert "kiosk-1" not in refused.text and "kiosk-2" not in refused.text
    own = panel(central, tess, "tamworth")
    assert own.status_code == 200
    assert set(kiosk_rows(own.text)) == {"tam-1"}
    assert "kiosk-2" not in own.text


def test_the_commissioner_sees_the_states_but_not_the_servers_words(central, county):
    passwords, _desks = county
    rows = kiosk_rows(panel(central, ("carol", passwords["carol"])).text)
    assert "Not working" in rows["kiosk-2"] and "another organisation" in rows["kiosk-2"]
    assert "belongs to another organisation" not in rows["kiosk-2"]  # may quote the family
    assert "only the organisation's" in rows["kiosk-2"]


# -- an older server -------------------------------------------------------------------------
@contextlib.contextmanager
def older_server(db: CentralDB) -> Iterator[str]:
    """The real API in this process, without the status endpoint (a release before it)."""
    import uvicorn

    from central.app import create_app

    app = create_app(db)
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", "") != STATUS_PATH]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, "the in-process server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_a_server_without_the_endpoint_does_not_fail_the_pass(db, tmp_path, caplog):
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    token = db.add_device("lichfield", "library", "kiosk-1")
    desk = door(tmp_path / "kiosk", "kiosk-1", "library")
    uids = register_families(desk, 2)
    caplog.set_level(logging.WARNING, logger="sync")
    with older_server(db) as url:
        answer = requests.post(url + STATUS_PATH, json={}, timeout=10)
        assert answer.status_code == 404  # it really is a server without the endpoint
        syncer = Syncer(desk.store, SyncClient(url, token, timeout=(2.0, 10.0)))
        first = syncer.run_pass()
        assert desk.tap(uids[0], MONDAY + timedelta(minutes=3)).kind == "welcome"
        second = syncer.run_pass()
    assert (first.outcome, second.outcome) == ("ok", "ok")
    assert first.accepted == 4 and second.accepted == 1  # every event still delivered
    assert desk.store.waiting_count() == 0
    assert db.count(events, device_id="kiosk-1") == 5
    assert desk.store.sync_state()["last_error"] is None
    warned = [r for r in caplog.records if "kiosk health" in r.getMessage()]
    assert len(warned) == 1, [r.getMessage() for r in caplog.records]  # said once, not per pass
    assert "404" in warned[0].getMessage()
    with db.engine.connect() as conn:
        assert conn.execute(select(device_status)).all() == []
