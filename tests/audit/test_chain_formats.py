"""Both audit logs share one hash chain (kiosk.domain.auditchain), and logs written before it
was shared still verify, line for line and row for row, and can be added to."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from central import audit
from central.db import audit_log
from kiosk.audit import AUDIT_FILE, KioskAudit
from kiosk.domain.auditchain import GENESIS, Break, ChainWalk, canonical, link_hash, secret_in

#: Written by the code before the chain was shared (see each file's values in the tests).
BEFORE = Path(__file__).parent / "written_before"
KIOSK_HEAD = "c7adc0f137f30ef184ec7509a2ed51b3ce4fae7f65aec03f5dbdd18ecc1c2e7f"
CENTRAL_HEAD = "78f8c8f3ee190469808100add68ad66524a6597446479a795c13f178e49f0d04"


@pytest.fixture
def old_kiosk_log(tmp_path: Path) -> Path:
    shutil.copy(BEFORE / "kiosk-audit.jsonl", tmp_path / AUDIT_FILE)
    return tmp_path


def test_a_kiosk_log_written_before_verifies_and_takes_new_lines(old_kiosk_log):
    log = KioskAudit(old_kiosk_log, clock=lambda: datetime(2026, 11, 24, tzinfo=UTC))
    verdict = log.verify()
    assert verdict.ok and verdict.lines == 4 and verdict.head == KIOSK_HEAD
    assert [e["actor"] for e in log.entries()] == ["Jo", "Zoë Ångström", "admin", "Jo"]
    assert log.record("Jo", "volunteer.pin_ok")
    entries = log.entries()
    assert len(entries) == 5 and entries[-1]["prev"] == KIOSK_HEAD  # not a restarted chain
    assert log.verify().ok


def test_a_changed_line_in_a_kiosk_log_written_before_is_found(old_kiosk_log):
    path = old_kiosk_log / AUDIT_FILE
    path.write_text(path.read_text("utf-8").replace("fam-123", "fam-999", 1), "utf-8")
    verdict = KioskAudit(old_kiosk_log).verify()
    assert not verdict.ok and verdict.broken_line == 2 and verdict.lines == 1
    assert "was changed after writing" in verdict.problem


def _old_rows() -> list[dict]:
    rows = json.loads((BEFORE / "central-audit-rows.json").read_text("utf-8"))
    return [{**r, "at": datetime.fromisoformat(r["at"])} for r in rows]


def test_a_central_log_written_before_verifies_and_takes_new_rows(db):
    with db.engine.begin() as conn:
        conn.execute(insert(audit_log), _old_rows())
    verdict = audit.verify(db)
    assert verdict.ok and verdict.rows == 4 and verdict.head == CENTRAL_HEAD
    audit.record(db, "alice", "login.ok", "alice")
    newest = list(audit.entries(db))[-1]
    assert newest.prev_hash == CENTRAL_HEAD
    assert audit.verify(db).ok


def test_a_changed_row_in_a_central_log_written_before_is_found(db):
    rows = _old_rows()
    rows[2]["subject"] = "tamworth"
    with db.engine.begin() as conn:
        conn.execute(insert(audit_log), rows)
    verdict = audit.verify(db)
    assert not verdict.ok and verdict.broken_id == 3 and verdict.rows == 3
    assert "was changed after it was written" in verdict.problem


def test_the_chain_hashes_exactly_what_both_logs_hashed_before():
    fields = ["2026-11-23T10:00:00.000000+00:00", "Zoë", "login.ok", "", '{"a":1}']
    # The server's formula before: its fields as compact JSON, no key sorting (none to sort).
    before = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    assert link_hash(GENESIS, fields) == hashlib.sha256((GENESIS + before).encode()).hexdigest()
    # The kiosk's: the same with sorted keys, the detail a nested object.
    kiosk_fields = [1, "2026-11-23T10:00:00.000000+00:00", "Jo", "x", "", {"b": 1, "a": "ü"}]
    assert (
        canonical(kiosk_fields)
        == '[1,"2026-11-23T10:00:00.000000+00:00","Jo","x","",{"a":"ü","b":1}]'
    )


def test_a_walk_names_the_first_break_and_keeps_the_last_good_head():
    walk = ChainWalk()
    first = link_hash(GENESIS, ["a"])
    assert walk.step(GENESIS, ["a"], first) is None
    assert walk.step(first, ["b"], "0" * 64) is Break.CHANGED
    assert walk.step(GENESIS, ["b"], link_hash(GENESIS, ["b"])) is Break.UNLINKED
    assert (walk.head, walk.length) == (first, 1)


def test_secrets_are_found_at_any_depth_in_both_logs(tmp_path):
    assert secret_in({"a": {"Token": "x"}}) == "detail.a.Token"
    assert secret_in({"pins": 3}) is None
    with pytest.raises(ValueError, match=r"detail\.a\.pin"):
        KioskAudit(tmp_path).record("Jo", "volunteer.add", "", {"a": {"pin": "1234"}})
