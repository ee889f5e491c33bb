"""The server's part of recovery, in this process: written-off seqs, what it knows of a
device's seqs, the roster after a restore, the timetable and risk list kiosks pull, and
``kiosk-central backup``/``restore`` refusing what they cannot do safely."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from central.app import create_app
from central.backup import backup_database, restore_database
from central.db import LATEST_VERSION, CentralDB, CentralError, Device
from central.setup_data import (
    SetupError,
    add_session,
    import_risk,
    risk_list,
    timetable,
)
from kiosk.domain.events import DeviceIdentity
from sync.protocol import DEVICE_PATH, GAPS_PATH, ROSTER_PATH, SETUP_PATH, Gap, RosterResponse
from sync.recovery import roster_restart
from tests.schema_history import rewind
from tests.sync.fakes import registration, taps

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

KIOSK = DeviceIdentity("kiosk-1", "library")


@pytest.fixture
def token(db: CentralDB) -> str:
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    return db.add_device("lichfield", "library", "kiosk-1")


@pytest.fixture
def device(db: CentralDB, token: str) -> Device:
    found = db.device_for_token(token)
    assert found is not None
    return found


@pytest.fixture
def client(db: CentralDB) -> TestClient:
    return TestClient(create_app(db))


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def batch(seqs: range) -> list[dict]:
    events = taps(KIOSK, max(seqs))
    return [events[s - 1].with_seq(s).to_dict() for s in seqs]


def test_written_off_seqs_count_as_held_so_holds_up_to_moves_on(db, device, client, token):
    assert db.ingest(device, batch(range(41, 61))).holds_up_to == 0  # 1-40 lost
    answer = client.post(
        GAPS_PATH,
        json={
            "gaps": [
                {
                    "from_seq": 1,
                    "to_seq": 40,
                    "kind": "lost",
                    "detail": "seq 1-40 — no longer on this kiosk",
                    "sessions": ["2026-09-07/stay-play"],
                    "events": 40,
                }
            ]
        },
        headers=auth(token),
    )
    assert answer.status_code == 200
    assert answer.json() == {"server_holds_up_to": {"kiosk-1": 60}}
    # Reported again (a retry): kept once.
    retry = {"gaps": [{"from_seq": 1, "to_seq": 40, "kind": "lost"}]}
    assert client.post(GAPS_PATH, json=retry, headers=auth(token)).status_code == 200
    [gap] = db.gaps("kiosk-1")
    assert gap["sessions"] == ["2026-09-07/stay-play"] and gap["events"] == 40
    # Events found later are still taken.
    assert db.ingest(device, batch(range(1, 3))).results[0].status == "accepted"
    assert db.highest_seq("kiosk-1") == 60


def test_a_gap_report_is_checked_field_by_field(client, token):
    backwards = {"gaps": [{"from_seq": 9, "to_seq": 3, "kind": "lost"}]}
    bad = client.post(GAPS_PATH, json=backwards, headers=auth(token))
    assert bad.status_code == 422
    assert "to_seq 3 is below from_seq 9" in bad.text
    assert client.post(GAPS_PATH, json={"gaps": []}).status_code == 401


def test_the_device_endpoint_says_the_highest_seq_known(db, device, client, token):
    db.ingest(device, batch(range(1, 6)))
    db.record_gaps(device, [Gap(from_seq=8, to_seq=9, kind="set_aside")])
    info = client.get(DEVICE_PATH, headers=auth(token)).json()
    assert (info["holds_up_to"], info["highest_seq"]) == (5, 9)


def test_the_roster_gives_a_new_store_its_own_devices_older_families(db, device, client, token):
    _, mine = registration(KIOSK, uid="0A0B0C0D")
    db.ingest(device, [e.with_seq(i + 1).to_dict() for i, e in enumerate(mine)])
    plain = client.get(ROSTER_PATH, params={"cursor": 0}, headers=auth(token)).json()
    assert plain["events"] == []  # its own events are normally not sent back
    assert plain["epoch"] and plain["max_cursor"] == 2
    own = client.get(ROSTER_PATH, params={"cursor": 0, "own_through": 2}, headers=auth(token))
    assert [e["seq"] for e in own.json()["events"]] == [1, 2]


def test_a_kiosk_cursor_from_before_a_restore_is_noticed():
    page = RosterResponse(events=[], cursor=900, epoch="b", max_cursor=500)
    assert "restored" in roster_restart({"roster_epoch": "a"}, page, 900)
    assert "ahead of the server's 500" in roster_restart({"roster_epoch": "b"}, page, 900)
    assert roster_restart({"roster_epoch": "b"}, page, 400) is None
    assert roster_restart({}, RosterResponse(events=[], cursor=3), 3) is None  # older server


def test_setup_gives_the_sites_timetable_and_the_risk_list_once(db, device, client, token):
    empty = client.get(SETUP_PATH, headers=auth(token)).json()
    assert empty["timetable"] is None and empty["risk"] is None  # the kiosk keeps its own
    add_session(db, "lichfield", "library", "Stay and Play", "09:30", "11:30", weekday="mon")
    add_session(db, "lichfield", "library", "Party", "14:00", "16:00", on_date="2026-12-19")
    with pytest.raises(SetupError, match="overlaps"):
        add_session(db, "lichfield", "library", "Rhyme", "11:00", "12:00", weekday="mon")
    imported = import_risk(db, "lichfield", "postcode\nWS7 1AA\nB33 8\n", "list.csv")
    assert imported.saved is not None and imported.saved.number == 1
    with pytest.raises(SetupError) as bad:
        import_risk(db, "lichfield", "WS7 1AA\nnot a postcode\n", "bad.txt")
    assert bad.value.problems[0][0] == 2
    assert risk_list(db, "lichfield").number == 1  # unchanged

    setup = client.get(SETUP_PATH, headers=auth(token)).json()
    assert [s["slot_id"] for s in setup["timetable"]] == ["stay-and-play-mon", "party-2026-12-19"]
    assert setup["risk_version"] == imported.saved.version
    assert setup["risk"]["areas"] == ["postcode:WS7 1AA", "sector:B33 8"]
    again = client.get(SETUP_PATH, params={"have_risk": setup["risk_version"]}, headers=auth(token))
    assert again.json()["risk"] is None and again.json()["risk_version"] == setup["risk_version"]
    assert len(timetable(db, "lichfield", "library").slots) == 2


def test_backup_and_restore_refuse_what_they_cannot_do(tmp_path):
    with pytest.raises(CentralError, match="pg_dump"):
        backup_database("postgresql://u@h/db", tmp_path / "x")
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    CentralDB.open(url).close()
    backup_database(url, tmp_path / "b.sqlite3")
    with pytest.raises(CentralError, match="already exists"):
        backup_database(url, tmp_path / "b.sqlite3")
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(CentralError, match="cannot be|damaged"):
        restore_database(url, junk)
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(CentralError, match="not a Doorstep central database"):
        restore_database(url, other)


def test_a_backup_taken_while_writing_is_whole_and_restores_with_a_new_epoch(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    db = CentralDB.open(url)
    db.add_org("lichfield")
    db.add_site("lichfield", "library")
    device = db.device_for_token(db.add_device("lichfield", "library", "kiosk-1"))
    db.ingest(device, batch(range(1, 31)))
    epoch = db.epoch()
    summary = backup_database(url, tmp_path / "b.sqlite3")
    assert summary.devices == {"kiosk-1": 30} and summary.schema_version == LATEST_VERSION
    db.ingest(device, batch(range(31, 41)))
    db.close()

    result = restore_database(url, tmp_path / "b.sqlite3")
    assert result.previous is not None and result.previous.exists()
    again = CentralDB.open(url)
    assert again.holds_up_to("kiosk-1") == 30
    assert again.epoch() == result.epoch != epoch
    with again.engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    again.close()
    kept = CentralDB.open(f"sqlite:///{result.previous}")
    assert kept.holds_up_to("kiosk-1") == 40  # the database as it was, kept beside it
    kept.close()


def test_an_older_database_is_migrated_to_version_3(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    db = CentralDB.open(url)
    rewind(db, 2)  # as a version 2 server left it
    with db.engine.connect() as conn:
        assert "seq_gaps" not in inspect(conn).get_table_names()
    db.close()
    again = CentralDB.open(url)
    assert again.schema_version() == LATEST_VERSION >= 3
    assert again.gaps() == [] and again.epoch()
    again.close()


def test_kiosk_central_commands_name_bad_input(tmp_path, capsys):
    from central.cli import main

    url = f"sqlite:///{tmp_path / 'central.sqlite3'}"
    assert main(["--db", url, "org", "add", "lichfield"]) == 0
    assert main(["--db", url, "site", "add", "lichfield", "library"]) == 0
    args = ["--db", url, "session", "add", "lichfield", "library", "--name", "Play"]
    assert main([*args, "--weekday", "mon", "--start", "9.30", "--end", "11:30"]) == 1
    assert "start time '9.30' must be a 24-hour time" in capsys.readouterr().err
    assert main([*args, "--weekday", "mon", "--start", "09:30", "--end", "11:30"]) == 0
    assert "added play-mon: Play (mon 09:30-11:30)" in capsys.readouterr().out
    risk = tmp_path / "risk.txt"
    risk.write_text("WS7 1AA\nWS7 1ZZZ\n")
    assert main(["--db", url, "risk", "import", "lichfield", str(risk)]) == 1
    assert f"{risk}: line 2:" in capsys.readouterr().err
    assert main(["--db", url, "risk", "import", "lichfield", str(risk), "--skip-invalid"]) == 0
    out = capsys.readouterr().out
    assert "added: 1" in out and "version: v1-" in out
    assert main(["--db", url, "restore", str(tmp_path / "missing.sqlite3")]) == 1
    assert "no backup file" in capsys.readouterr().err
    path = Path(tmp_path / "central.sqlite3")
    assert path.exists()
