"""The server believes nothing a device token says.

Each test replays what an attacker holding one kiosk's token did against a real
``kiosk-central serve`` process, with real HTTP requests, and checks what the server kept.
"""

from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from central.claims import WRITE_OFF_ALLOWANCE
from central.db import (
    REJECTED_RAW_KEPT,
    CentralDB,
    attendance_children,
    attendances,
    event_conflicts,
    events,
    rejections,
)
from central.reports.invoice import build_invoice
from central.reports.period import Period
from central.reports.rates import set_rate
from kiosk.domain.events import DeviceIdentity
from tests.sync.fakes import T0, attendance, registration, session_on
from tests.sync.servers import CentralServer, command, enrol, subprocess_env

KIOSK = DeviceIdentity("kiosk-1", "library")
NOVEMBER = Period.month("2026-11")


@pytest.fixture
def setting(db_url: str, tmp_path: Path):
    """A real server with lichfield's kiosk-1 enrolled, a rate of £3, and a session for it."""
    db = CentralDB.open(db_url)
    enrolled = enrol(db, "lichfield", "library", "kiosk-1")
    set_rate(db, "lichfield", "3.00", date(2026, 1, 1))
    with CentralServer(db_url, tmp_path / "server.log") as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {enrolled.token}"
        yield db, server, session
    db.close()


def send(server: CentralServer, http: requests.Session, *raw: dict) -> list[dict]:
    answer = http.post(server.url + "/api/v1/events", json={"events": list(raw)}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def wire(*items, first_seq: int = 1) -> list[dict]:
    return [e.with_seq(first_seq + i).to_dict() for i, e in enumerate(items)]


def server_db_url(db: CentralDB) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def counted(db: CentralDB) -> int:
    return len(build_invoice(db, "lichfield", NOVEMBER).counted)


# -- 1. one event inflates the invoice ------------------------------------------------------------
def test_an_attendance_of_a_family_never_registered_is_refused(setting):
    db, server, http = setting
    family, _reg = registration(KIOSK)
    forged = wire(attendance(KIOSK, family))[0]
    forged["data"]["children"] = [f"C-{i:010d}" for i in range(30)]
    [result] = send(server, http, forged)
    assert result["status"] == "rejected"
    assert "is not registered in organisation lichfield" in result["reason"]
    assert db.count(attendances) == 0 and db.count(attendance_children) == 0
    assert counted(db) == 0


def test_three_thousand_children_on_one_attendance_are_refused_at_the_door(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    registered, forged = wire(*reg, attendance(KIOSK, family))
    forged["data"]["children"] = [f"C-{i:010d}" for i in range(3000)]
    results = send(server, http, registered, forged)
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert "data.children: List should have at most 30 items" in results[1]["reason"]
    assert db.count(attendance_children) == 0


def test_children_who_are_not_the_familys_are_refused_and_its_own_count(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    other, other_reg = registration(KIOSK, name="Bea")
    items = wire(*reg, *other_reg, attendance(KIOSK, family), attendance(KIOSK, family))
    borrowed = items[2]
    borrowed["data"]["children"] = [family.children[0].child_id, other.children[0].child_id]
    results = send(server, http, *items)
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected", "accepted"]
    assert f"{other.children[0].child_id} is not a child of family" in results[2]["reason"]
    # Only the honest attendance is on the invoice: both of the family's own children.
    assert counted(db) == 2


def test_a_family_registered_in_the_same_batch_counts(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    results = send(server, http, *wire(*reg, attendance(KIOSK, family)))
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert counted(db) == 2


def test_a_child_taken_off_the_family_later_still_counts_for_sessions_before(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    came = attendance(KIOSK, family)
    send(server, http, *wire(*reg))
    fewer = copy.deepcopy(reg[0].to_dict())
    fewer.update(event_id=str(uuid.uuid4()), type="member.updated", seq=2)
    fewer["at"] = (T0 + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    fewer["data"]["family"]["children"] = fewer["data"]["family"]["children"][:1]
    late = came.with_seq(3).to_dict()  # sent after the update, from a kiosk that was offline
    results = send(server, http, fewer, late)
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    assert counted(db) == 2


# -- 2. a write-off poisons the device ---------------------------------------------------------
def test_a_write_off_past_what_the_device_can_have_issued_is_refused(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    send(server, http, *wire(*reg))
    huge = {"gaps": [{"from_seq": 1, "to_seq": 9007199254740991, "kind": "lost"}]}
    answer = http.post(server.url + "/api/v1/gaps", json=huge, timeout=30)
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["loc"] == ["body", "gaps", 0, "to_seq"]
    assert "a kiosk cannot have issued it" in problem["msg"]
    assert db.highest_seq("kiosk-1") == 1 and db.holds_up_to("kiosk-1") == 1
    fair = {"gaps": [{"from_seq": 2, "to_seq": 1 + WRITE_OFF_ALLOWANCE, "kind": "lost"}]}
    answer = http.post(server.url + "/api/v1/gaps", json=fair, timeout=30)
    assert answer.status_code == 200
    assert answer.json()["server_holds_up_to"] == {"kiosk-1": 1 + WRITE_OFF_ALLOWANCE}


def run_central(db_url: str, *args: str):
    import subprocess

    return subprocess.run(
        [*command("kiosk-central", "central.cli"), "--db", db_url, *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


def test_an_admin_takes_a_write_off_back_and_the_kiosk_is_whole_again(setting, db_url):
    db, server, http = setting
    family, reg = registration(KIOSK)
    send(server, http, *wire(*reg))
    gap = {"gaps": [{"from_seq": 2, "to_seq": 5000, "kind": "lost", "detail": "typo"}]}
    assert http.post(server.url + "/api/v1/gaps", json=gap, timeout=30).ok
    assert db.holds_up_to("kiosk-1") == 5000
    listed = run_central(db_url, "gaps", "kiosk-1")
    assert listed.returncode == 0, listed.stderr
    gap_id = listed.stdout.strip().split("\tid ")[-1]
    undone = run_central(db_url, "device", "undo-gap", "kiosk-1", gap_id)
    assert undone.returncode == 0, undone.stderr
    assert "now holds its events up to seq 1" in undone.stderr
    assert db.holds_up_to("kiosk-1") == 1 and db.highest_seq("kiosk-1") == 1
    again = run_central(db_url, "device", "undo-gap", "kiosk-1", gap_id)
    assert again.returncode != 0 and f"no write-off {gap_id}" in again.stderr


def test_a_revoked_device_can_be_enrolled_again_with_a_new_token(setting, db_url):
    db, server, http = setting
    family, reg = registration(KIOSK)
    send(server, http, *wire(*reg))
    assert run_central(db_url, "device", "revoke", "kiosk-1").returncode == 0
    refused = http.post(server.url + "/api/v1/events", json={"events": []}, timeout=30)
    assert refused.status_code == 403
    again = run_central(db_url, "device", "add", "lichfield", "library", "kiosk-1")
    assert again.returncode == 0, again.stderr
    http.headers["Authorization"] = f"Bearer {again.stdout.strip()}"
    results = send(server, http, *wire(attendance(KIOSK, family), first_seq=2))
    assert results[0]["status"] == "accepted"
    assert db.holds_up_to("kiosk-1") == 2  # the same history, continued
    elsewhere = run_central(db_url, "device", "add", "tamworth", "hall", "kiosk-1")
    assert elsewhere.returncode != 0


# -- 3. refused events are stored without limit --------------------------------------------------
def test_junk_refusals_are_kept_once_and_cut_short(setting):
    db, server, http = setting
    junk = {"type": "attendance.recorded", "padding": "x" * 900_000}
    for _ in range(5):
        [result] = send(server, http, junk)
        assert result["status"] == "rejected"
    with db.engine.connect() as conn:
        kept = conn.execute(select(func.count(), func.max(func.length(rejections.c.raw)))).one()
    assert kept[0] == 1
    assert kept[1] < REJECTED_RAW_KEPT


def test_past_the_quota_refusals_are_answered_and_counted_not_kept(setting, monkeypatch):
    db, server, http = setting
    # the test process's own db only
    monkeypatch.setattr("central.db.batch_rows.REJECTIONS_KEPT", 3)
    with db.engine.begin() as conn:
        for n in range(3):
            conn.execute(
                rejections.insert().values(
                    device_id="kiosk-1",
                    seq=None,
                    reason="old",
                    raw=f'{{"n": {n}}}',
                    received_at=T0,
                    digest=f"{n:064d}",
                )
            )
    answer = db.ingest(db.devices()[0], [{"n": "new junk"}, {"n": "more junk"}])
    assert [r.status for r in answer.results] == ["rejected", "rejected"]
    assert db.count(rejections) == 3
    [facts] = db.device_health_facts("lichfield")
    assert facts.unkept_rejections == 2


# -- 4. the same event id with different content ---------------------------------------------------
def test_the_same_event_id_with_different_content_is_a_conflict(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    registered, came = wire(*reg, attendance(KIOSK, family))
    send(server, http, registered, came)
    assert send(server, http, came)[0]["status"] == "duplicate"  # a retry: the same copy
    changed = copy.deepcopy(came)
    changed["data"]["children"] = came["data"]["children"][:1]
    changed["data"]["adults"] = 2
    [result] = send(server, http, changed)
    assert result["status"] == "conflict"
    assert "differs in data.adults, data.children" in result["reason"]
    send(server, http, changed)  # sent again: shown once
    with db.engine.connect() as conn:
        rows = conn.execute(select(event_conflicts.c.event_id, event_conflicts.c.differs)).all()
        held = conn.execute(select(events.c.raw).where(events.c.event_id == came["event_id"]))
        assert '"adults":1' in held.scalar_one()  # the server keeps the copy it has
    assert [(r.event_id, r.differs) for r in rows] == [
        (came["event_id"], ["data.adults", "data.children"])
    ]
    [facts] = db.device_health_facts("lichfield")
    assert facts.conflicts_held == 1
    assert counted(db) == 2
    shown = run_central(server_db_url(db), "conflicts", "kiosk-1")
    assert shown.returncode == 0, shown.stderr
    assert f"kiosk-1\t{came['event_id']}\t" in shown.stdout
    assert "  data.adults: server 1, sent 2" in shown.stdout


# -- 5. implausible dates --------------------------------------------------------------------------
@pytest.mark.parametrize("day", ["0001-01-01", "1970-01-01", "9998-12-31"])
def test_implausible_dates_from_a_synchronised_clock_are_refused(setting, day):
    db, server, http = setting
    family, reg = registration(KIOSK)
    registered, came = wire(*reg, attendance(KIOSK, family))
    came["data"]["session"]["date"] = day
    came["data"]["session"]["key"] = f"{day}/{came['data']['session']['slot_id']}"
    results = send(server, http, registered, came)
    assert results[1]["status"] == "rejected"
    assert (
        f"data.session.date: {day} is outside the dates this kiosk can have recorded"
        in (results[1]["reason"])
    )
    assert db.count(attendances) == 0


def test_a_far_future_time_cannot_make_a_family_update_win_for_ever(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    forged = copy.deepcopy(reg[0].with_seq(2).to_dict())
    forged.update(event_id=str(uuid.uuid4()), type="member.updated", at="9998-12-31T00:00:00Z")
    forged["data"]["family"]["postcode"] = "ZZ9 9ZZ"
    results = send(server, http, *wire(*reg), forged)
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert results[1]["reason"].startswith("at: 9998-12-31 is outside the dates")


def test_a_kiosk_whose_clock_is_not_synchronised_is_held_for_review_not_dropped(setting):
    db, server, http = setting
    family, reg = registration(KIOSK)
    registered, came = wire(*reg, attendance(KIOSK, family, session=session_on(T0.date())))
    came["clock_synced"] = False
    came["at"] = "1970-01-01T09:30:00Z"
    results = send(server, http, registered, came)
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    sheet = build_invoice(db, "lichfield", NOVEMBER)
    assert len(sheet.with_status("review")) == 2 and not sheet.counted


def test_by_default_nothing_may_be_dated_past_the_servers_tomorrow(monkeypatch):
    from datetime import UTC, datetime

    from central.claims import FUTURE_DAYS_ENV, DateWindow

    monkeypatch.delenv(FUTURE_DAYS_ENV)  # the suite raises it; a real server has the default
    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    window = DateWindow.for_device(now, now)
    assert date(2026, 12, 5) in window and date(2026, 12, 6) not in window
    monkeypatch.setenv(FUTURE_DAYS_ENV, "lots")
    with pytest.raises(ValueError, match="KIOSK_CENTRAL_FUTURE_DAYS is 'lots'"):
        DateWindow.for_device(now, now)
