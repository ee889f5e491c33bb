"""The kiosk's audit file: PINs, volunteers' changes and kiosk-admin commands, hash-chained,
surviving a torn last line, and never in the way of a card tap."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.admin import main as admin_main
from kiosk.audit import AUDIT_FILE, AuditedStore, KioskAudit
from kiosk.domain.desk import KIOSK_TZ, DoorDesk
from kiosk.domain.events import DeviceIdentity
from kiosk.domain.timetable import make_slot
from kiosk.domain.volunteers import LockedOut
from kiosk.store import LocalStore
from kiosk.store.volunteers import VolunteerBook

T0 = datetime(2026, 11, 23, 9, 40, tzinfo=UTC)


def lines(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / AUDIT_FILE).read_text().splitlines()]


def admin(data: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = admin_main(["--data", str(data), *argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_lines_are_chained_and_the_file_is_private(tmp_path):
    log = KioskAudit(tmp_path, clock=lambda: T0)
    assert log.record("Jo", "volunteer.pin_ok", "Jo")
    assert log.record("kiosk", "card.revoke", "04A00001", {"volunteer": "Jo"})
    first, second = lines(tmp_path)
    assert (first["n"], second["n"]) == (1, 2)
    assert first["prev"] == "0" * 64 and second["prev"] == first["hash"]
    assert log.verify().ok and log.verify().lines == 2
    assert stat.S_IMODE(os.stat(tmp_path / AUDIT_FILE).st_mode) == 0o600


def test_a_pin_accepted_refused_and_locked_out_is_recorded_without_the_pin(tmp_path):
    book = VolunteerBook(tmp_path)
    book.add("Jo Smith", "246813")
    assert book.check("246813", T0) == "Jo Smith"
    assert book.check("999999", T0) is None
    with pytest.raises(LockedOut):
        for _ in range(10):
            book.check("999999", T0)
    entries = lines(tmp_path)
    assert [(e["actor"], e["action"]) for e in entries[:2]] == [
        ("Jo Smith", "volunteer.pin_ok"),
        ("unknown", "volunteer.pin_refused"),
    ]
    assert entries[-1]["action"] == "volunteer.pin_locked"
    raw = (tmp_path / AUDIT_FILE).read_text()
    assert "246813" not in raw and "999999" not in raw
    assert KioskAudit(tmp_path).verify().ok


def test_kiosk_admin_commands_that_change_something_are_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "sam")
    data = tmp_path / "kiosk"
    risk = tmp_path / "council.txt"
    risk.write_text("WS7 1AA\nWS11 4\n")
    assert admin(data, "risk", "import", str(risk), "--dry-run")[0] == 0
    assert not (data / AUDIT_FILE).exists()  # a dry run changes nothing
    assert admin(data, "risk", "import", str(risk))[0] == 0
    assert admin(data, "risk", "show")[0] == 0  # a read
    assert (
        admin(
            data,
            "session",
            "add",
            "--name",
            "Stay and Play",
            "--weekday",
            "mon",
            "--start",
            "09:30",
            "--end",
            "11:30",
        )[0]
        == 0
    )
    code, out, _ = admin(
        data,
        "family",
        "add",
        "--name",
        "Zephyrine",
        "--postcode",
        "WS7 1AA",
        "--child",
        "Quillonet",
        "--card",
        "04A00001",
    )
    assert code == 0
    assert admin(data, "card", "revoke", "04A00001")[0] == 0
    entries = lines(data)
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("sam", "risk.import"),
        ("sam", "session.add"),
        ("sam", "family.add"),
        ("sam", "card.revoke"),
    ]
    assert entries[0]["detail"] == {"file": "council.txt", "via": "kiosk-admin"}
    raw = (data / AUDIT_FILE).read_text()
    assert "Zephyrine" not in raw and "WS7 1AA" not in raw

    code, out, _ = admin(data, "audit", "show")
    assert code == 0 and len(out.splitlines()) == 4 and "\tsam\trisk.import\t" in out
    code, out, _ = admin(data, "audit", "verify")
    assert code == 0 and out.startswith("audit log intact: 4 lines")


def test_verify_names_the_first_changed_line(tmp_path):
    log = KioskAudit(tmp_path)
    for who in ("a", "b", "c"):
        log.record(who, "volunteer.pin_ok", who)
    path = tmp_path / AUDIT_FILE
    text = path.read_text().splitlines()
    text[1] = text[1].replace('"actor":"b"', '"actor":"x"')
    path.write_text("\n".join(text) + "\n")
    code, _, err = admin(tmp_path, "audit", "verify")
    assert code == 1 and "broken at line 2" in err and "changed after writing" in err
    del text[1]
    path.write_text("\n".join(text) + "\n")
    assert KioskAudit(tmp_path).verify().broken_line == 2


def test_a_torn_last_line_is_moved_aside_and_a_new_chain_says_so(tmp_path):
    log = KioskAudit(tmp_path, clock=lambda: T0)
    log.record("Jo", "volunteer.pin_ok", "Jo")
    head = lines(tmp_path)[0]["hash"]
    with open(tmp_path / AUDIT_FILE, "ab") as fh:
        fh.write(b'{"action":"volunteer.pin_ok","actor":"Ki')  # the power went off here
    assert not log.verify().ok

    assert log.record("Kim", "volunteer.pin_ok", "Kim")  # the door carries on
    restarted, kim = lines(tmp_path)
    assert restarted["action"] == "audit.restarted" and restarted["n"] == 1
    assert restarted["detail"]["last_good_hash"] == head
    assert restarted["detail"]["last_good_line"] == 1
    assert "cut short" in restarted["detail"]["reason"]
    assert (kim["actor"], kim["n"], kim["prev"]) == ("Kim", 2, restarted["hash"])
    assert log.verify().ok
    moved = tmp_path / restarted["detail"]["quarantined"]
    assert moved.read_bytes().startswith(b'{"action":"volunteer.pin_ok","actor":"Jo"')
    # The store reports it like its own quarantined files (kiosk-admin status / doctor).
    problems = LocalStore(tmp_path).problems()
    assert any("audit.jsonl" in p and "new audit chain" in p for p in problems)


def test_a_last_line_changed_after_writing_is_moved_aside_too(tmp_path):
    log = KioskAudit(tmp_path)
    log.record("Jo", "volunteer.pin_ok", "Jo")
    path = tmp_path / AUDIT_FILE
    path.write_text(path.read_text().replace('"actor":"Jo"', '"actor":"Al"'))
    log.record("Kim", "volunteer.pin_ok", "Kim")
    first = lines(tmp_path)[0]
    assert first["action"] == "audit.restarted" and "changed" in first["detail"]["reason"]
    assert first["detail"]["last_good_line"] == 0


def test_recording_never_raises_when_the_file_cannot_be_written(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    assert KioskAudit(blocker / "data").record("Jo", "volunteer.pin_ok") is False


def test_volunteers_changes_at_the_door_are_recorded_but_card_taps_are_not(tmp_path):
    store = LocalStore(tmp_path)
    store.save_timetable(
        store.timetable().add(make_slot("play", "Stay and Play", "09:00", "12:00", weekday="mon"))
    )
    desk = DoorDesk(AuditedStore(store, KioskAudit(tmp_path)), DeviceIdentity("k1", "lib"))
    now = datetime(2026, 11, 23, 9, 40, tzinfo=KIOSK_TZ)  # a Monday
    fam = desk.register_family(
        "Zephyrine", "WS7 1AA", [("Quillonet", None)], now, card_uid="04A00001", volunteer="Jo"
    )
    assert desk.tap("04A00001", now).kind == "welcome"  # a card tap: no audit line
    other = desk.register_family("Thaddeusz", "WS7 1AB", [("Ottolinde", None)], now, volunteer="Jo")
    desk.sign_in(other.family_id, None, "Jo", now + timedelta(minutes=1))
    entries = lines(tmp_path)
    assert [(e["actor"], e["action"], e["subject"]) for e in entries] == [
        ("Jo", "family.register", fam.family_id),
        ("Jo", "card.assign", fam.family_id),
        ("Jo", "family.register", other.family_id),
        ("Jo", "attendance.sign_in", other.family_id),
    ]
    assert entries[-1]["detail"]["session"].endswith("play")
    assert "Zephyrine" not in (tmp_path / AUDIT_FILE).read_text()
    assert len(store.pending(100)) == 5  # every event stored as before, the tap too
